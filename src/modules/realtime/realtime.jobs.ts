import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { pruneBatch } from '../../platform/realtime/outbox.repository.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';

const PRUNE_BATCH = 10_000;

/**
 * `outbox:prune`: deletes published outbox events older than REALTIME_RETENTION_HOURS, in
 * batches (each its own transaction). Scheduled per store like every default schedule; the
 * pruning itself covers every store and is safe to run concurrently, so whichever store's slot
 * comes first does the work and the others find little left.
 */
export function defineRealtimeJobs(queue: JobQueue, db: Kysely<DB>, retentionHours: number): void {
  queue.define({
    type: 'outbox:prune',
    description: 'Delete delivered realtime events older than REALTIME_RETENTION_HOURS',
    defaultSchedule: { name: 'Prune delivered realtime events', cron: '45 3 * * *' },
    retryLimit: 3,
    async run() {
      const before = new Date(Date.now() - retentionHours * 3_600_000);
      let deleted = 0;
      for (;;) {
        const batch = await pruneBatch(db, before, PRUNE_BATCH);
        deleted += batch;
        if (batch < PRUNE_BATCH) break;
      }
      return { deleted, before: before.toISOString() };
    },
  });
}
