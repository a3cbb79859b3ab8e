import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { DB } from '../../platform/db/schema.ts';
import { withTenantRetry } from '../../platform/db/tenant.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { detectAnomalies } from './anomalies.service.ts';

/**
 * anomalies:detect, daily at 03:30 store time (after the nightly forecasts): one detection pass
 * over the store (anomalies.service.ts). Idempotent: anomalies are keyed, so a rerun or a
 * redelivered job stores nothing new and opens no second alert.
 */
export function defineAnomalyJobs(queue: JobQueue, db: Kysely<DB>, settings: StoreSettings): void {
  queue.define<Record<string, never>>({
    type: 'anomalies:detect',
    description: 'Find demand spikes and drops, cost increases and quality issues; alert on high ones',
    startPermission: 'reports:view',
    payloadSchema: Type.Object({}, { additionalProperties: false }),
    defaultSchedule: { name: 'Anomaly Detection', cron: '30 3 * * *' },
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
