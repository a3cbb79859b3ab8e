import { type Kysely, sql } from 'kysely';
import { Type } from 'typebox';
import type { DB } from '../../platform/db/schema.ts';
import { writeOutboxEvents } from '../../platform/db/outbox.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { isoWeekday } from './catalogue.ts';
import { vendorPerformance } from './performance.repository.ts';
import { periodStart } from './performance.service.ts';

/**
 * vendor:performance_analysis (the spec's weekly task, Mondays 10:00 in the store's zone): each
 * active vendor's figures over the last `months` months (default 3), kept as that week's
 * snapshot in vendor_performance_snapshots, so what a manager saw on a Monday stays on record
 * when later receipts move the live figures. A rerun in the same week replaces the week's rows
 * (at-least-once delivery changes nothing). Ends with one `vendor:performance_analysed` event.
 */
export function defineVendorJobs(queue: JobQueue, db: Kysely<DB>, settings: StoreSettings): void {
  queue.define<{ months?: number }>({
    type: 'vendor:performance_analysis',
    description: "Snapshot every active vendor's delivery, fill, quality and response figures for the week",
    startPermission: 'vendor:manage',
    payloadSchema: Type.Object(
      { months: Type.Optional(Type.Integer({ minimum: 1, maximum: 36, description: 'Period (default 3)' })) },
      { additionalProperties: false },
    ),
    defaultSchedule: { name: 'Vendor Performance Analysis', cron: '0 10 * * 1' },
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new Error(`${job.type} needs a store`);
      return withTenant(db, orgId, async (trx) => {
        const today = todayIn((await settings.read(trx, orgId)).timeZone);
        const weekStart = addDays(today, 1 - isoWeekday(today));
        const vendors = await trx
          .selectFrom('vendors')
          .select('id')
          .where('org_id', '=', orgId)
          .where('status', '=', 'active')
          .execute();
        const period = { from: periodStart(today, job.payload.months ?? 3), to: today, today };
        const figures = await vendorPerformance(
          trx,
          orgId,
          vendors.map((vendor) => vendor.id),
          period,
        );
        for (const [vendorId, { metrics }] of figures) {
          await trx
            .insertInto('vendor_performance_snapshots')
            .values({
              org_id: orgId,
              vendor_id: vendorId,
              week_start: weekStart,
              metrics: JSON.stringify({ period: { from: period.from, to: period.to }, ...metrics }),
            })
            .onConflict((conflict) =>
              conflict.columns(['org_id', 'vendor_id', 'week_start']).doUpdateSet({
                metrics: (eb) => eb.ref('excluded.metrics'),
                computed_at: sql`now()`,
              }),
            )
            .execute();
        }
        const summary = { weekStart, vendors: figures.size, period: { from: period.from, to: period.to } };
        await writeOutboxEvents(trx, orgId, [
          { type: 'vendor:performance_analysed', payload: { ...summary, jobId: job.id } },
        ]);
        return summary;
      });
    },
  });
}
