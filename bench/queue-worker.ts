/**
 * A worker process for bench/queue.ts: the production JobQueue on DATABASE_URL with one no-op job
 * type, `bench:noop`, fetched in batches of 50. Each job's start is written to stdout as a JSON
 * line {jobId, startedAt} when its payload asks (`report: true`), for the latency measurement.
 */
import { pino } from 'pino';
import { createDatabase } from '../src/platform/db/database.ts';
import { JobQueue } from '../src/platform/queue/queue.ts';

const database = await createDatabase({ url: process.env.DATABASE_URL!, poolMax: 4 });
const queue = new JobQueue(database, {
  heartbeatSeconds: 30,
  concurrency: 1,
  stopTimeoutMs: 5_000,
  logger: pino({ level: 'warn' }),
});
queue.define<{ report?: boolean }>({
  type: 'bench:noop',
  description: 'does nothing',
  batchSize: 50,
  async run(job) {
    if (job.payload.report)
      process.stdout.write(`${JSON.stringify({ jobId: job.id, startedAt: Date.now() })}\n`);
  },
});
await queue.start({ work: true });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.on('SIGTERM', () => {
  void queue
    .stop()
    .then(() => database.close())
    .then(() => process.exit(0));
});
