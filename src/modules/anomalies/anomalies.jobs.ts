import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { DB } from '../../platform/db/schema.ts';
import { withTenantRetry } from '../../platform/db/tenant.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { detectAnomalies } from './anomalies.service.ts';

/**
 * anomalies:detect, daily at 01:30 store time: one detection pass over the store
 * (anomalies.service.ts). Before the 02:00 forecast refresh on purpose: the stored forecasts were
 * then made from history up to the day before yesterday, so they cover yesterday, and yesterday's
 * sales are judged against the forecast's own 95% interval (after the refresh, the new forecast
 * starts today and the same-weekday baseline would judge instead). Idempotent: anomalies are keyed, so a rerun or a
 * redelivered job stores nothing new and opens no second alert.
 */
export function defineAnomalyJobs(queue: JobQueue, db: Kysely<DB>, settings: StoreSettings): void {
  queue.define<Record<string, never>>({
    type: 'anomalies:detect',
    description: 'Find demand spikes and drops, cost increases and quality issues; alert on high ones',
    startPermission: 'reports:view',
    payloadSchema: Type.Object({}, { additionalProperties: false }),
    defaultSchedule: { name: 'Anomaly Detection', cron: '30 1 * * *' },
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new Error(`${job.type} needs a store`);
      return withTenantRetry(db, orgId, async (trx) => {
        const { timeZone } = await settings.read(trx, orgId);
        return detectAnomalies(trx, orgId, timeZone, { source: 'job', jobId: job.id });
      });
    },
  });
}
