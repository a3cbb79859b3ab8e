import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { DB } from '../../platform/db/schema.ts';
import { type JobQueue, oncePerJob } from '../../platform/queue/queue.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { syncStoreAlerts } from '../alerts/alerts.service.ts';
import { addDays, loadContext } from './inventory.service.ts';
import { countExpiring } from './inventory.repository.ts';

/**
 * The spec's daily inventory checks. Stock changes keep the alerts in step as they happen; these
 * raise what a change did not — stock that became expiring or expired with the passage of time,
 * a store setting or reorder point changed since — and resolve alerts that no longer hold. Each
 * is set-based (alerts.service syncStoreAlerts): the items whose alerts would open, escalate or
 * resolve are locked and set in one statement, and events are written only for those (with
 * `source` and `jobId`); an item whose alert stands unchanged writes nothing.
 *
 * Idempotent under at-least-once delivery: the alerts, their events and the job's progress mark
 * (100) commit in one transaction; a run that finds its mark does nothing, and a second run of the
 * same day finds nothing to change.
 */
export function defineInventoryJobs(queue: JobQueue, db: Kysely<DB>, settings: StoreSettings): void {
  queue.define<{ daysAhead?: number }>({
    type: 'inventory:check_expiry',
    description:
      "Open, escalate and resolve expiry alerts by the store's expiry warning days; daysAhead only widens the count reported",
    startPermission: 'inventory:write',
    payloadSchema: Type.Object(
      {
        daysAhead: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 365,
            description:
              "Count the items expiring within this many days instead of the store's expiryWarningDays (alerts always follow the store's setting, as stock changes do)",
          }),
        ),
      },
      { additionalProperties: false },
    ),
    defaultSchedule: { name: 'Check expiring items', cron: '0 6 * * *' },
    run: (job) =>
      oncePerJob(db, job, async (trx, orgId) => {
        const ctx = await loadContext(trx, orgId, settings);
        const alerts = await syncStoreAlerts(trx, orgId, ctx, 'expiry', { source: job.type, jobId: job.id });
        const { qualifying, ...changed } = alerts;
        if (job.payload.daysAhead === undefined) {
          return { expiringItems: qualifying, expiringBy: ctx.expiringBy, alerts: changed };
        }
        const by = addDays(ctx.today, job.payload.daysAhead);
        return { expiringItems: await countExpiring(trx, orgId, by), expiringBy: by, alerts: changed };
      }),
  });

  queue.define({
    type: 'inventory:low_stock_check',
    description:
      "Open, escalate and resolve low stock alerts: items at or below their reorder point (else the store's low stock threshold)",
    startPermission: 'inventory:write',
    defaultSchedule: { name: 'Generate low stock alerts', cron: '0 8 * * *' },
    run: (job) =>
      oncePerJob(db, job, async (trx, orgId) => {
        const ctx = await loadContext(trx, orgId, settings);
        const { qualifying, ...changed } = await syncStoreAlerts(trx, orgId, ctx, 'low_stock', {
          source: job.type,
          jobId: job.id,
        });
        return { lowStockItems: qualifying, alerts: changed };
      }),
  });
}
