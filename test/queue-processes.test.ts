import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase } from '../src/platform/db/database.ts';
import { createTestApp } from './helpers/app.ts';
import { bearer, registerStore } from './helpers/auth.ts';
import { createTestDatabase, ON_POSTGRES, type TestDatabase } from './helpers/database.ts';
import { tempDir } from './helpers/files.ts';

/**
 * The queue across real processes: test/fixtures/queue-worker.ts runs the production JobQueue (and
 * Scheduler) in a child process. Heartbeats are 10 s, pg-boss's minimum, so a dead worker's job is
 * found within about 20 s.
 */

interface Worker {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  /** Resolves with the first event that matches. */
  next(
    match: (event: Record<string, unknown>) => boolean,
    seconds?: number,
  ): Promise<Record<string, unknown>>;
}

const children: ChildProcess[] = [];
let testDatabase: TestDatabase | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await testDatabase?.drop();
  testDatabase = undefined;
});

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fixtures/queue-worker.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    match: (event: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    events.push(event);
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(event)) waiter.resolve(event);
      else waiters.push(waiter);
    }
  });
  return {
    child,
    events,
    next(match, seconds = 60) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching event in ${seconds} s; saw ${JSON.stringify(events)}`)),
          seconds * 1000,
        );
        waiters.push({
          match,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event);
          },
        });
      });
    },
  };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** The database worker processes share: a PostgreSQL test database, or a PGlite data directory. */
async function workerDatabase(): Promise<{ env: Record<string, string>; pgliteDir?: string }> {
  if (ON_POSTGRES) {
    testDatabase = await createTestDatabase();
    return { env: { DATABASE_URL: testDatabase.url! } };
  }
  const pgliteDir = await tempDir();
  return { env: { PGLITE_DIR: pgliteDir }, pgliteDir };
}

interface EventRow {
  worker: string;
  event: string;
}

describe('a worker killed with SIGKILL mid-job', () => {
  it('has its job run again by another worker, and completed exactly once', async () => {
    const { env, pgliteDir } = await workerDatabase();
    const first = startWorker({ ...env, WORKER_NAME: 'first', ENQUEUE: '1' });
    const { jobId } = await first.next((e) => e.event === 'enqueued');
    await first.next((e) => e.event === 'started' && e.jobId === jobId);
    first.child.kill('SIGKILL');
    await killed(first.child);

    // On PGlite the next process opens the same data directory, recovering it after the crash.
    const second = startWorker({ ...env, WORKER_NAME: 'second', SLOW_MS: '500' });
    const started = await second.next((e) => e.event === 'started' && e.jobId === jobId, 80);
    expect(started.attempt).toBe(2);
    await second.next((e) => e.event === 'completed' && e.jobId === jobId);
    second.child.kill('SIGTERM');
    await second.next((e) => e.event === 'stopped');

    const database = ON_POSTGRES ? testDatabase!.database : await createDatabase({ pgliteDir: pgliteDir! });
    try {
      const { rows: events } = await sql<EventRow>`
        select worker, event from queue_test_events where job_id = ${jobId} order by at`.execute(database.db);
      expect(events).toEqual([
        { worker: 'first', event: 'started' },
        { worker: 'second', event: 'started' },
        { worker: 'second', event: 'completed' },
      ]);
      const { rows: jobs } = await sql<{ state: string; output: unknown }>`
        select state::text as state, output from pgboss.job where id = ${jobId}`.execute(database.db);
      expect(jobs).toEqual([{ state: 'completed', output: { worker: 'second' } }]);
    } finally {
      if (!ON_POSTGRES) await database.close();
    }
  });
});

describe('a worker stopped with SIGTERM mid-job', () => {
  it('hands the job back before it exits, and another worker completes it', async () => {
    const { env } = await workerDatabase();
    // The fixture's stop timeout is 5 s; the job would run 60 s.
    const first = startWorker({ ...env, WORKER_NAME: 'first', ENQUEUE: '1' });
    const { jobId } = await first.next((e) => e.event === 'enqueued');
    await first.next((e) => e.event === 'started' && e.jobId === jobId);
    const stopping = Date.now();
    first.child.kill('SIGTERM');
    await first.next((e) => e.event === 'stopped', 30);
    await killed(first.child);
    // Handed back at the stop, not left for its heartbeat to go stale (10 s + a supervisor pass).
    expect(Date.now() - stopping).toBeLessThan(15_000);

    const second = startWorker({ ...env, WORKER_NAME: 'second', SLOW_MS: '200' });
    const started = await second.next((e) => e.event === 'started' && e.jobId === jobId, 60);
    expect(started.attempt).toBe(2);
    await second.next((e) => e.event === 'completed' && e.jobId === jobId);
    expect(first.events.some((e) => e.event === 'completed')).toBe(false);
    second.child.kill('SIGTERM');
    await second.next((e) => e.event === 'stopped');
    await killed(second.child);
  });
});

describe.skipIf(!ON_POSTGRES)('several worker processes on PostgreSQL (PGlite is one process)', () => {
  it('never run a long job twice while its worker is alive', async () => {
    testDatabase = await createTestDatabase();
    const env = { DATABASE_URL: testDatabase.url!, SLOW_MS: '25000' };
    const a = startWorker({ ...env, WORKER_NAME: 'a', ENQUEUE: '1' });
    const b = startWorker({ ...env, WORKER_NAME: 'b' });
    const { jobId } = await a.next((e) => e.event === 'enqueued');
    await b.next((e) => e.event === 'ready');
    const done = await Promise.race([
      a.next((e) => e.event === 'completed' && e.jobId === jobId),
      b.next((e) => e.event === 'completed' && e.jobId === jobId),
    ]);
    expect(done.jobId).toBe(jobId);
    const { rows } = await sql<EventRow>`
      select worker, event from queue_test_events where job_id = ${jobId} order by at`.execute(
      testDatabase.database.db,
    );
    // 25 s is two and a half heartbeats: a lock that was not kept alive would have expired.
    expect(rows.map((row) => row.event)).toEqual(['started', 'completed']);
    expect(rows[0]!.worker).toBe(rows[1]!.worker);
  });

  it('fire each cron slot once with two processes running the scheduler', async () => {
    testDatabase = await createTestDatabase();
    const { db } = testDatabase.database;
    const env = { DATABASE_URL: testDatabase.url!, SCHEDULER: '1' };
    const a = startWorker({ ...env, WORKER_NAME: 'a' });
    const b = startWorker({ ...env, WORKER_NAME: 'b' });
    await Promise.all([a.next((e) => e.event === 'ready'), b.next((e) => e.event === 'ready')]);
    const { rows } = await sql<{ id: string }>`
      insert into organizations (name) values ('Two Schedulers') returning id`.execute(db);
    // Every two seconds (cron-parser's optional seconds field), so slots come quickly.
    await sql`insert into job_schedules (org_id, job_type, name, cron, next_run_at, time_zone)
              values (${rows[0]!.id}, 'test:tick', 'tick', '*/2 * * * * *', now(), 'UTC')`.execute(db);
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const { rows: slots } = await sql<{ singleton_key: string; jobs: number }>`
      select singleton_key, count(*)::int as jobs from pgboss.job where name = 'test.tick'
       group by singleton_key order by singleton_key`.execute(db);
    expect(slots.length).toBeGreaterThanOrEqual(4);
    expect(slots.filter((slot) => slot.jobs !== 1)).toEqual([]);
  });
});

describe.skipIf(!ON_POSTGRES)('npm run worker beside an API-only server', () => {
  it('works the jobs the API queues, shows in /health, and exits cleanly on SIGTERM', async () => {
    const t = await createTestApp({ workerMode: 'api' });
    try {
      const health = async () =>
        (await t.app.inject({ method: 'GET', url: '/health' })).json().data.services.workers;
      expect(await health()).toMatchObject({ status: 'unhealthy', mode: 'separate' });
      const worker = spawn(process.execPath, ['src/worker.ts'], {
        env: {
          ...process.env,
          DATABASE_URL: t.testDatabase.url!,
          JWT_SECRET: 'test-only-jwt-secret-with-at-least-32-characters',
          LOG_LEVEL: 'warn',
          DATA_DIR: await tempDir(),
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      children.push(worker);
      const admin = await registerStore(t.app);
      const started = await t.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: bearer(admin),
        payload: { type: 'inventory:low_stock_check' },
      });
      expect(started.statusCode).toBe(201);
      const id = started.json().data.job.id as string;
      const deadline = Date.now() + 60_000;
      let status = '';
      while (status !== 'completed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        status = (await t.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: bearer(admin) })).json()
          .data.status;
      }
      expect(status).toBe('completed');
      expect(await health()).toMatchObject({ status: 'healthy', mode: 'separate' });
      worker.kill('SIGTERM');
      const code = await new Promise((resolve) => worker.once('exit', resolve));
      expect(code).toBe(0);
    } finally {
      await t.close();
    }
  });
});
