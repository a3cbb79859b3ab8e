import { type Kysely, sql } from 'kysely';
import { Type } from 'typebox';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { type JobQueue, recordProgress, type RunningJob } from '../../platform/queue/queue.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { addDays, loadContext } from './inventory.service.ts';

/**
 * The spec's daily inventory checks. Each writes what it finds to the outbox as the alert events
 * inventory already writes when a change crosses a threshold (same payloads, plus `source` and
 * `jobId`), so realtime delivery and notifications treat them alike.
 *
 * Idempotent under at-least-once delivery: the events and the job's progress mark (100) commit in
 * one transaction, and a run that finds its mark writes nothing again.
 */
export function defineInventoryJobs(queue: JobQueue, db: Kysely<DB>, settings: StoreSettings): void {
  queue.define<{ daysAhead?: number }>({
    type: 'inventory:check_expiry',
    description: "Warn about stock that expires within the store's expiry warning days (or daysAhead)",
    startPermission: 'inventory:write',
    payloadSchema: Type.Object(
      {
        daysAhead: Type.Optional(
          Type.Integer({ minimum: 0, maximum: 365, description: "Instead of the store's expiryWarningDays" }),
        ),
      },
      { additionalProperties: false },
    ),
    defaultSchedule: { name: 'Check expiring items', cron: '0 6 * * *' },
    run: (job) =>
      once(db, job, async (trx, orgId) => {
        const ctx = await loadContext(trx, orgId, settings);
        const by =
          job.payload.daysAhead === undefined ? ctx.expiringBy : addDays(ctx.today, job.payload.daysAhead);
        const result = await sql`
          insert into outbox_events (org_id, type, payload)
          select i.org_id, 'alert:expiry_warning',
                 jsonb_build_object(
                   'itemId', i.id, 'itemName', i.description, 'expiryDate', i.earliest_expiry,
                   'daysUntilExpiry', i.earliest_expiry - ${ctx.today}::date,
                   'currentStock', i.remaining_stock, 'source', ${job.type}::text, 'jobId', ${job.id}::text)
            from inventory_items i
           where i.org_id = ${orgId} and i.deleted_at is null
             and i.remaining_stock > 0 and i.earliest_expiry <= ${by}::date`.execute(trx);
        return { expiringItems: Number(result.numAffectedRows ?? 0), expiringBy: by };
      }),
  });

  queue.define({
    type: 'inventory:low_stock_check',
    description: "Alert on items at or below their reorder point (else the store's low stock threshold)",
    startPermission: 'inventory:write',
    defaultSchedule: { name: 'Generate low stock alerts', cron: '0 8 * * *' },
    run: (job) =>
      once(db, job, async (trx, orgId) => {
        const ctx = await loadContext(trx, orgId, settings);
        const result = await sql`
          insert into outbox_events (org_id, type, payload)
          select i.org_id, 'alert:low_stock',
                 jsonb_build_object(
                   'itemId', i.id, 'itemName', i.description, 'currentStock', i.remaining_stock,
                   'threshold', coalesce(i.reorder_point, ${ctx.lowStockThreshold}::numeric),
                   'category', i.category, 'location', i.location,
                   'source', ${job.type}::text, 'jobId', ${job.id}::text)
            from inventory_items i
           where i.org_id = ${orgId} and i.deleted_at is null
             and i.remaining_stock <= coalesce(i.reorder_point, ${ctx.lowStockThreshold}::numeric)`.execute(
          trx,
        );
        return { lowStockItems: Number(result.numAffectedRows ?? 0) };
      }),
  });
}

/** Runs `work` in the store's tenant transaction unless this job already committed its work. */
async function once(
  db: Kysely<DB>,
  job: RunningJob<unknown>,
  work: (trx: Kysely<DB>, orgId: string) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const orgId = job.orgId;
  if (!orgId) throw new Error(`${job.type} needs a store`);
  return withTenant(db, orgId, async (trx) => {
    const done = await trx
      .selectFrom('job_progress')
      .select('progress')
      .where('job_id', '=', job.id)
      .executeTakeFirst();
    if (done?.progress === 100) return { alreadyDone: true };
    const result = await work(trx, orgId);
    await recordProgress(trx, job.id, orgId, 100);
    return result;
  });
}
