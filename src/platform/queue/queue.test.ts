import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/database.ts';
import { MIGRATIONS_DIR } from '../db/migrate.ts';
import { JobQueue, type JobDefinition, type QueueOptions } from './queue.ts';
import { jobQueueSchemaMigration } from './schema.ts';

const silent = pino({ level: 'silent' });

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${seconds} s: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface JobRow {
  id: string;
  state: string;
  retry_count: number;
  output: Record<string, unknown> | null;
}

async function jobRow(t: TestDatabase, id: string): Promise<JobRow | undefined> {
  const { rows } =
    await sql<JobRow>`select id, state, retry_count, output from pgboss.job where id = ${id}`.execute(
      t.database.db,
    );
  return rows[0];
}

describe('job queue', () => {
  let t: TestDatabase;
  let queue: JobQueue;
  const options = (overrides: Partial<QueueOptions> = {}): QueueOptions => ({
    heartbeatSeconds: 10,
    concurrency: 1,
    stopTimeoutMs: 5_000,
    logger: silent,
    ...overrides,
  });

  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => {
    await queue?.stop();
    await t.drop();
  });

  it('is installed by a migration that matches the pinned pg-boss', () => {
    const migration = readFileSync(`${MIGRATIONS_DIR}/0018_job_queue.sql`, 'utf8');
    expect(migration).toBe(jobQueueSchemaMigration());
  });

  it('writes a job only when the transaction that enqueues it commits', async () => {
    const ran: string[] = [];
    queue = new JobQueue(t.database, options());
    queue.define<{ n: string }>({
      type: 'test:record',
      description: 'records its payload',
      async run(job) {
        ran.push(job.payload.n);
        return { seen: job.payload.n };
      },
    });
    await queue.start({ work: true });
    const rolledBack = new Error('roll back');
    let doomed: string | null = null;
    await expect(
      t.database.db.transaction().execute(async (trx) => {
        doomed = await queue.enqueue(trx, 'test:record', { n: 'rolled back' }, { orgId: null });
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    const kept = await t.database.db
      .transaction()
      .execute((trx) => queue.enqueue(trx, 'test:record', { n: 'committed' }, { orgId: null }));
    expect(doomed).toBeTruthy();
    expect(await jobRow(t, doomed!)).toBeUndefined();
    const done = await waitFor(
      () => jobRow(t, kept!),
      (row) => row?.state === 'completed',
    );
    expect(done!.output).toEqual({ seen: 'committed' });
    expect(ran).toEqual(['committed']);
  });

  it('retries a failing job with growing delays, then fails it with the error kept', async () => {
    const attempts: number[] = [];
    queue = new JobQueue(t.database, options());
    queue.define({
      type: 'test:flaky',
      description: 'always fails',
      retryLimit: 2,
      retryDelaySeconds: 1,
      async run() {
        attempts.push(Date.now());
        throw new Error(`attempt ${attempts.length} broke`);
      },
    });
    await queue.start({ work: true });
    const id = await queue.enqueue(t.database.db, 'test:flaky', {}, { orgId: null });
    const failed = await waitFor(
      () => jobRow(t, id!),
      (row) => row?.state === 'failed',
      60,
    );
    expect(attempts).toHaveLength(3);
    expect(failed!.output).toEqual({ message: 'attempt 3 broke' });
    // Backoff: retryDelay × (2^n/2 + 2^n/2 × random): at least 1 s, then at least 2 s.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(1_000);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(2_000);
  });

  it('runs higher priorities first and records progress', async () => {
    const order: string[] = [];
    const definition: JobDefinition<{ name: string }> = {
      type: 'test:ordered',
      description: 'records the order it ran in',
      async run(job) {
        order.push(job.payload.name);
        await job.progress(50);
        const { rows } = await sql<{
          progress: number;
        }>`select progress from job_progress where job_id = ${job.id}`.execute(t.database.db);
        return { progressSeen: rows[0]?.progress };
      },
    };
    // Enqueue before any worker runs, so all three wait together.
    const producer = new JobQueue(t.database, options());
    producer.define(definition);
    await producer.start({ work: false });
    const ids: Array<string | null> = [];
    for (const [name, priority] of [
      ['low', 'low'],
      ['normal', 'normal'],
      ['critical', 'critical'],
      ['high', 'high'],
    ] as const) {
      ids.push(await producer.enqueue(t.database.db, 'test:ordered', { name }, { orgId: null, priority }));
    }
    await producer.stop();
    queue = new JobQueue(t.database, options());
    queue.define(definition);
    await queue.start({ work: true });
    await waitFor(
      async () => order.length,
      (n) => n === 4,
    );
    expect(order).toEqual(['critical', 'high', 'normal', 'low']);
    const done = await waitFor(
      () => jobRow(t, ids[0]!),
      (row) => row?.state === 'completed',
    );
    expect(done!.output).toEqual({ progressSeen: 50 });
  });
});
