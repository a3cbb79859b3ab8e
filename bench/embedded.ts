import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDatabase } from '../src/platform/db/database.ts';
import { buildServer, cpuSecondsOf, freePort, memoryOf, startCommand } from './bench.ts';
import { writeBenchCsv } from './data.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * The embedded default (PGlite, what `npm start` runs with no DATABASE_URL) beside PostgreSQL
 * mode, measured in the same run: each mode's server as `npm start` runs it, started on an empty
 * data directory (embedded: the first start builds the database and seeds the demo store, as a
 * new user's does; PostgreSQL: it migrates an empty database, and seeds nothing), started again
 * on what the first start left, left idle, then given a fresh store and a bulk import. The two
 * modes take turns, round by round, so both see the same machine; figures are the rounds' medians.
 */
export interface ModeFigures {
  /** Spawn to a healthy /health on an empty data directory (or database). */
  firstStartSeconds: number;
  /** Peak RSS of that first process. */
  firstStartPeakRssMb: number;
  /** Spawn to a healthy /health on the data the first start left. */
  restartSeconds: number;
  /** RSS of the restarted server once settled, before any request but /health. */
  idleRssMb: number;
  importRows: number;
  importRowsPerSecond: number;
  /** Peak RSS of the restarted server, from its start to the end of the import. */
  importPeakRssMb: number;
}

export interface EmbeddedComparison {
  rounds: number;
  embedded: ModeFigures;
  /** Null when the benchmark runs without DATABASE_URL. */
  postgres: ModeFigures | null;
  /** Embedded over PostgreSQL import rows/s, per round (the budget reads their median). */
  importRatios: number[] | null;
  /** `npm start`'s compile step (scripts/build.ts) with nothing to compile, in seconds. */
  buildCheckSeconds: number;
}

export interface EmbeddedOptions {
  importRows: number;
  rounds: number;
  /** PostgreSQL server for the counterpart (each round gets a database of its own). */
  databaseUrl?: string | undefined;
  log?: (line: string) => void;
}

export interface Running {
  child: ChildProcess;
  url: string;
  seconds: number;
  /** CPU time (user + system) the server had used when it first answered healthy. */
  cpuSeconds: number;
  stop(): Promise<void>;
}

/**
 * The server as `npm start` runs it, timed from spawn to a healthy /health. `root` is the
 * checkout to run (built beforehand): another one's server can be measured beside this one's.
 */
export async function start(
  dataDir: string,
  databaseUrl: string | undefined,
  seedDemo: boolean,
  root = ROOT,
): Promise<Running> {
  const { flags, entry } = startCommand();
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...flags, entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      SEED_DEMO: String(seedDemo),
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'benchmark-secret-benchmark-secret-benchmark',
      IMPORT_MAX_BYTES: String(1024 * 1024 * 1024),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${errors}`);
    const healthy = await fetch(`${url}/health`)
      .then((response) => response.ok)
      .catch(() => false);
    if (healthy) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    child,
    url,
    seconds,
    cpuSeconds: cpuSecondsOf(child.pid!),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** RSS once the start-up work has settled: sampled until it stops falling (at most 5 s). */
export async function settledRss(pid: number): Promise<number> {
  let last = memoryOf(pid).rss;
  for (let sample = 0; sample < 10; sample++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = memoryOf(pid).rss;
    if (now >= last) return now;
    last = now;
  }
  return last;
}

async function importInto(server: Running, csvPath: string, rows: number): Promise<number> {
  const register = await fetch(`${server.url}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: `bench-${randomUUID()}@example.com`,
      username: 'bench',
      password: 'benchmark-password',
      companyName: 'Bench Import Grocer',
      acceptTerms: true,
    }),
  });
  const token = ((await register.json()) as { data: { accessToken: string } }).data.accessToken;
  const form = new FormData();
  form.append('file', await openAsBlob(csvPath), 'bench-items.csv');
  const started = performance.now();
  const response = await fetch(`${server.url}/v1/inventory/bulk-import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const seconds = (performance.now() - started) / 1000;
  const body = (await response.json()) as { data?: { created: number } };
  if (!response.ok || body.data?.created !== rows)
    throw new Error(`import failed: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  return rows / seconds;
}

/** One round of one mode: first start, restart, idle, import. */
async function round(
  csvPath: string,
  rows: number,
  databaseUrl: string | undefined,
): Promise<Omit<ModeFigures, 'importRows'>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fresh-choice-bench-embedded-'));
  const running: Running[] = [];
  try {
    const first = await start(dataDir, databaseUrl, !databaseUrl);
    running.push(first);
    const firstStartPeakRssMb = memoryOf(first.child.pid!).peak;
    await first.stop();
    const again = await start(dataDir, databaseUrl, !databaseUrl);
    running.push(again);
    const idleRssMb = await settledRss(again.child.pid!);
    const importRowsPerSecond = await importInto(again, csvPath, rows);
    const importPeakRssMb = memoryOf(again.child.pid!).peak;
    return {
      firstStartSeconds: first.seconds,
      firstStartPeakRssMb,
      restartSeconds: again.seconds,
      idleRssMb,
      importRowsPerSecond,
      importPeakRssMb,
    };
  } finally {
    for (const server of running) await server.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function summarize(rounds: Array<Omit<ModeFigures, 'importRows'>>, importRows: number): ModeFigures {
  const of = (key: keyof Omit<ModeFigures, 'importRows'>) => median(rounds.map((figures) => figures[key]));
  return {
    firstStartSeconds: Math.round(of('firstStartSeconds') * 100) / 100,
    firstStartPeakRssMb: of('firstStartPeakRssMb'),
    restartSeconds: Math.round(of('restartSeconds') * 100) / 100,
    idleRssMb: of('idleRssMb'),
    importRows,
    importRowsPerSecond: Math.round(of('importRowsPerSecond')),
    importPeakRssMb: of('importPeakRssMb'),
  };
}

/** A database of its own on the PostgreSQL server, dropped by the returned function. */
async function freshPostgres(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `fc_bench_embedded_${randomUUID().slice(0, 8)}`;
  const admin = await createDatabase({ url: adminUrl, poolMax: 1 });
  await admin.withSession((session) => session.exec(`create database "${name}"`));
  await admin.close();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = await createDatabase({ url: adminUrl, poolMax: 1 });
      await again.withSession((session) => session.exec(`drop database if exists "${name}" with (force)`));
      await again.close();
    },
  };
}

export async function runEmbeddedComparison(options: EmbeddedOptions): Promise<EmbeddedComparison> {
  const log = options.log ?? (() => {});
  buildServer();
  const checkStarted = performance.now();
  execFileSync(process.execPath, ['scripts/build.ts'], { cwd: ROOT, stdio: 'inherit' });
  const buildCheckSeconds = Math.round((performance.now() - checkStarted) / 10) / 100;

  const csvDir = await mkdtemp(path.join(os.tmpdir(), 'fresh-choice-bench-csv-'));
  try {
    const csvPath = path.join(csvDir, 'items.csv');
    await writeBenchCsv(csvPath, options.importRows, new Date().toISOString().slice(0, 10));
    const embedded: Array<Omit<ModeFigures, 'importRows'>> = [];
    const postgres: Array<Omit<ModeFigures, 'importRows'>> = [];
    for (let index = 0; index < options.rounds; index++) {
      // Alternate which mode goes first, as the list/ceiling rounds do.
      const order = index % 2 === 0 ? ['embedded', 'postgres'] : ['postgres', 'embedded'];
      for (const mode of order) {
        if (mode === 'embedded') {
          log(
            `embedded round ${index + 1}: first start, restart, idle, import of ${options.importRows} rows…`,
          );
          embedded.push(await round(csvPath, options.importRows, undefined));
        } else if (options.databaseUrl) {
          log(
            `PostgreSQL round ${index + 1}: first start, restart, idle, import of ${options.importRows} rows…`,
          );
          const database = await freshPostgres(options.databaseUrl);
          try {
            postgres.push(await round(csvPath, options.importRows, database.url));
          } finally {
            await database.drop();
          }
        }
      }
    }
    return {
      rounds: options.rounds,
      embedded: summarize(embedded, options.importRows),
      postgres: postgres.length ? summarize(postgres, options.importRows) : null,
      importRatios: postgres.length
        ? embedded.map(
            (figures, index) =>
              Math.round((1000 * figures.importRowsPerSecond) / postgres[index]!.importRowsPerSecond) / 1000,
          )
        : null,
      buildCheckSeconds,
    };
  } finally {
    await rm(csvDir, { recursive: true, force: true });
  }
}
