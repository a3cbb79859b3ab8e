import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { pino } from 'pino';
import { createDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { JobQueue } from '../src/platform/queue/queue.ts';

/**
 * The job queue on PostgreSQL: throughput of no-op jobs with two worker processes
 * (bench/queue-worker.ts, the production JobQueue), and, on an idle queue, the time from a job's
 * enqueue committing to its handler starting. Budgets: ≥ 500 jobs/s, p95 ≤ 200 ms.
 */
export interface QueueFigures {
  jobs: number;
  workers: number;
  jobsPerSecond: number;
  latencySamples: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
}

export async function runQueueBench(options: {
  databaseUrl: string;
  jobs: number;
  latencySamples: number;
  log: (line: string) => void;
}): Promise<QueueFigures> {
  const admin = await createDatabase({ url: options.databaseUrl, poolMax: 1 });
  const name = `fresh_choice_bench_queue_${Date.now()}`;
  await admin.withSession((session) => session.exec(`create database "${name}"`));
  const url = new URL(options.databaseUrl);
  url.pathname = `/${name}`;
  const database = await createDatabase({ url: url.toString(), poolMax: 4 });
  const children: ChildProcess[] = [];
  try {
    await migrate(database);
    const producer = new JobQueue(database, {
      heartbeatSeconds: 30,
      concurrency: 1,
      stopTimeoutMs: 5_000,
      logger: pino({ level: 'warn' }),
    });
    producer.define({ type: 'bench:noop', description: 'does nothing', async run() {} });
    await producer.start({ work: false });

    // Throughput: the backlog written first, then two workers drain it.
    options.log(`queue: ${options.jobs} no-op jobs, two worker processes…`);
    for (let written = 0; written < options.jobs; written += 5_000) {
      const count = Math.min(5_000, options.jobs - written);
      await producer.enqueueMany(
        database.db,
        'bench:noop',
        Array.from({ length: count }, () => ({})),
        {
          orgId: null,
        },
      );
    }
    const starts: Array<{ jobId: string; startedAt: number }> = [];
    const spawnWorker = () =>
      new Promise<ChildProcess>((resolve) => {
        const child = spawn(process.execPath, [path.join(import.meta.dirname, 'queue-worker.ts')], {
          env: { ...process.env, DATABASE_URL: url.toString() },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        createInterface({ input: child.stdout }).on('line', (line) => {
          const message = JSON.parse(line) as { ready?: boolean; jobId?: string; startedAt?: number };
          if (message.ready) resolve(child);
          if (message.jobId) starts.push({ jobId: message.jobId, startedAt: message.startedAt! });
        });
      });
    const began = performance.now();
    await Promise.all([spawnWorker(), spawnWorker()]);
    for (;;) {
      const { rows } = await sql<{ done: number }>`
        select count(*)::int as done from pgboss.job where name = 'bench.noop' and state = 'completed'`.execute(
        database.db,
      );
      if (rows[0]!.done >= options.jobs) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - began) / 1000;

    // Latency on the idle queue: one job at a time, each after the previous one started.
    options.log(`queue: enqueue-to-start latency, ${options.latencySamples} jobs one at a time…`);
    const latencies: number[] = [];
    for (let sample = 0; sample < options.latencySamples; sample++) {
      const enqueuedAt = Date.now();
      const jobId = await producer.enqueue(database.db, 'bench:noop', { report: true }, { orgId: null });
      const deadline = Date.now() + 10_000;
      let start: { startedAt: number } | undefined;
      while (!(start = starts.find((s) => s.jobId === jobId)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      latencies.push(start ? start.startedAt - enqueuedAt : 10_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await producer.stop();
    latencies.sort((a, b) => a - b);
    const percentile = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!;
    return {
      jobs: options.jobs,
      workers: 2,
      jobsPerSecond: Math.round(options.jobs / seconds),
      latencySamples: latencies.length,
      latencyP50Ms: percentile(50),
      latencyP95Ms: percentile(95),
    };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
    await database.close();
    await admin.withSession((session) => session.exec(`drop database if exists "${name}" with (force)`));
    await admin.close();
  }
}

if (import.meta.main) {
  const figures = await runQueueBench({
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    jobs: Number(process.env.BENCH_QUEUE_JOBS ?? 20_000),
    latencySamples: Number(process.env.BENCH_QUEUE_SAMPLES ?? 200),
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
