import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openAsBlob, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { createDatabase } from '../src/platform/db/database.ts';
import { BENCH_CATEGORIES, searchTerms, writeBenchCsv } from './data.ts';
import type { EmbeddedComparison } from './embedded.ts';
import type { FileUploadFigures } from './files.ts';
import type { QueueFigures } from './queue.ts';
import type { ForecastingReport } from './forecasting.ts';
import type { InvoiceFigures } from './invoices.ts';
import type { ShoppingOptimizerReport } from './shopping-optimizer.ts';
import type { RealtimeFigures } from './realtime.ts';
import { type ReceivingReport, runReceivingBench } from './receiving.ts';
import type { OptimizerFigures } from './optimizer.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface BenchOptions {
  items: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Share of items given a year of daily ledger rows. */
  ledgerShare: number;
  databaseUrl?: string | undefined;
  /** Keep the seeded benchmark database (PostgreSQL) for profiling; its URL is logged. */
  keepDatabase?: boolean;
  /**
   * How long autocannon waits for one response before counting a timeout (an error); autocannon's
   * own default, 10 s, unless set. The smoke run in the test suite sets it longer: there the
   * embedded database shares two cores with every other test file, and a request queued past 10 s
   * says nothing about the code, while a timed-out adjustment would also go uncounted in the
   * stock check.
   */
  requestTimeoutSeconds?: number;
  log?: (line: string) => void;
}

export interface ScenarioResult {
  name: string;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non2xx: number;
  peakRssMb: number | null;
  /** Responses by HTTP status, to tell what any non-2xx answers were. */
  statuses: Record<string, number>;
  /** Request errors (timeouts, resets) by message, to tell what any errors were. */
  errorKinds: Record<string, number>;
  note?: string;
}

export interface BenchReport {
  date: string;
  machine: string;
  node: string;
  database: string;
  items: number;
  seed: { rows: number; seconds: number; rowsPerSecond: number; peakRssMb: number; ledgerRows: number };
  idleRssMb: number;
  scenarios: ScenarioResult[];
  adjustHot: { applied: number; expectedStock: number; actualStock: number; perSecond: number };
  /** bench/receiving.ts: 50-line receipts against purchase orders, one at a time. */
  receiving?: ReceivingReport;
  /** The embedded default beside PostgreSQL mode (bench/embedded.ts), when it was run. */
  embedded?: EmbeddedComparison;
  /** The job queue on PostgreSQL (bench/queue.ts), when it was run. */
  queue?: QueueFigures;
  /** WebSocket delivery on PostgreSQL (bench/realtime.ts), when it was run. */
  realtime?: RealtimeFigures;
  /** A large upload through the server (bench/files.ts), when it was run. */
  files?: FileUploadFigures;
  /** The nightly forecast refresh on PostgreSQL (bench/forecasting.ts), when it was run. */
  forecasting?: ForecastingReport;
  /** The shopping-list optimiser (bench/shopping-optimizer.ts), when it was run. */
  shoppingOptimizer?: ShoppingOptimizerReport;
  /** Invoice extraction per page and a 100-page PDF's peak RSS (bench/invoices.ts), when run. */
  invoices?: InvoiceFigures;
  /** The inventory optimiser on synthetic items (bench/optimizer.ts), when it was run. */
  optimizer?: OptimizerFigures;
  /** list req/s over ceiling req/s: the median of the alternating rounds' ratios. */
  ceilingRatio: number | null;
  /** Each round's ratio, in the order run. */
  ceilingRoundRatios: number[] | null;
  /**
   * List req/s with the per-request session check over the same server without it
   * (bench/api-without-session-check.js): the median of alternating rounds' ratios, and each
   * round's. Null on the embedded database, where two servers cannot share the data directory.
   */
  sessionCheck: {
    ratio: number;
    roundRatios: number[];
    /** The servers' CPU time per list response, medians of the rounds. */
    cpuMicrosPerRequest: { checked: number; unchecked: number };
    /** Median of the rounds' CPU-per-response ratios, with the check over without it. */
    cpuRatio: number;
  } | null;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resident memory of a process, and its peak since start, in MB (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc). */
export function cpuSecondsOf(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces: utime is the
  // 14th field of the line, stime the 15th, in clock ticks (100 a second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Server {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/**
 * The server as `npm start` runs it: its Node flags and entry point (package.json is the one place
 * they are set), so the benchmark measures the server as it is deployed. The entry is the compiled
 * one, so it is built first with `npm run build`, as `npm start` does.
 */
export function startCommand(): { flags: string[]; entry: string } {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.split(/\s+/).slice(1);
  return {
    flags: words.filter((word) => word.startsWith('--')),
    entry: words.find((word) => !word.startsWith('--'))!,
  };
}

let built = false;
export function buildServer() {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

async function startProcess(
  script: string,
  env: Record<string, string>,
  readyText: string,
  flags: string[] = [],
): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [...flags, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept until the server is ready (to show why it did not start); after that the log is read
  // and dropped, so the benchmark process does not grow a string of every request line.
  let output = '';
  let ready = false;
  const collect = (chunk: Buffer) => {
    if (!ready) output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (!output.includes(readyText)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${script} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  ready = true;
  output = '';
  return {
    child,
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `script` replaces the entry point with the same flags and environment (a variant of the server). */
function startApi(dataDir: string, databaseUrl: string | undefined, script?: string) {
  buildServer();
  const { flags, entry } = startCommand();
  return startProcess(
    script ?? entry,
    {
      DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
      RATE_LIMIT_ENABLED: 'false',
      SEED_DEMO: 'false',
      // 'ready' is logged at info; request lines too, which is what production pays as well.
      LOG_LEVEL: 'info',
      JWT_SECRET: 'benchmark-secret-benchmark-secret-benchmark',
      IMPORT_MAX_BYTES: String(1024 * 1024 * 1024),
    },
    'Fresh Choice API ready',
    flags,
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;

/** One measured autocannon run: every response's latency and status, and how long it took. */
interface Measured {
  latencies: number[];
  statuses: Record<string, number>;
  errorKinds: Record<string, number>;
  seconds: number;
  raw: autocannon.Result;
}

/** autocannon's options for one run: the scenario's, the duration and the response timeout. */
function runOptions(options: autocannon.Options, seconds: number, bench: BenchOptions): autocannon.Options {
  return {
    ...options,
    ...(options.amount === undefined ? { duration: seconds } : {}),
    ...(bench.requestTimeoutSeconds ? { timeout: bench.requestTimeoutSeconds } : {}),
  };
}

async function measure(options: autocannon.Options, seconds: number, bench: BenchOptions): Promise<Measured> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  // The rate is counted from the responses themselves: autocannon notices the end of a run with a
  // fixed number of requests only on its one-second tick, so its duration for those is rounded up
  // to whole seconds (4,000 adjustments in 7.1 s read as 8.0 s, a flat 500/s).
  const started = performance.now();
  let lastResponse = started;
  const raw = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(runOptions(options, seconds, bench), (error, result) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result),
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      latencies.push(responseTime);
      lastResponse = performance.now();
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    instance.on('reqError', (error: Error) => {
      const kind = error.message || error.name;
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    });
  });
  return { latencies, statuses, errorKinds, seconds: (lastResponse - started) / 1000, raw };
}

/** A scenario's figures from one or more measured runs: exact percentiles over every response. */
function summarize(
  name: string,
  server: Server | null,
  options: autocannon.Options,
  runs: Measured[],
): ScenarioResult & { raw: autocannon.Result } {
  const latencies = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  for (const run of runs) {
    for (const [status, count] of Object.entries(run.statuses))
      statuses[status] = (statuses[status] ?? 0) + count;
    for (const [kind, count] of Object.entries(run.errorKinds))
      errorKinds[kind] = (errorKinds[kind] ?? 0) + count;
  }
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const raw = runs.at(-1)!.raw;
  return {
    name,
    connections: options.connections ?? 10,
    requestsPerSecond: round(latencies.length / seconds),
    p50: round(percentile(latencies, 50), 2),
    p95: round(percentile(latencies, 95), 2),
    p99: round(percentile(latencies, 99), 2),
    errors: runs.reduce((sum, run) => sum + run.raw.errors + run.raw.timeouts, 0),
    non2xx: runs.reduce((sum, run) => sum + run.raw.non2xx, 0),
    peakRssMb: server?.child.pid ? memoryOf(server.child.pid).peak : null,
    statuses,
    errorKinds,
    raw: { ...raw, '2xx': runs.reduce((sum, run) => sum + run.raw['2xx'], 0) },
  };
}

/** Load that is not measured, for a duration scenario: JIT, pools and caches settle first. */
async function warmUp(options: autocannon.Options, bench: BenchOptions) {
  if (bench.warmupSeconds > 0 && options.amount === undefined)
    await autocannon(runOptions(options, bench.warmupSeconds, bench));
}

/** Runs one autocannon scenario after a warm-up; latencies are recorded per response for exact percentiles. */
async function scenario(
  name: string,
  server: Server | null,
  options: autocannon.Options,
  bench: BenchOptions,
): Promise<ScenarioResult & { raw: autocannon.Result }> {
  await warmUp(options, bench);
  return summarize(name, server, options, [await measure(options, bench.durationSeconds, bench)]);
}

/**
 * Two scenarios measured in alternating rounds (A B, B A, A B, …), each after its own warm-up, so
 * that both see the same machine: this machine's speed drifts by 10-15% over minutes (other
 * tenants, the checkpointer), and run back to back the second of the two saw a different one.
 * Besides the pooled figures, each round's A/B rate ratio: their median is the comparison, so one
 * round disturbed by a neighbour does not decide it (pooled over three rounds, the list/ceiling
 * ratio of the same code read 79% to 89% across runs).
 */
async function interleaved(
  a: { name: string; server: Server; options: autocannon.Options },
  b: { name: string; server: Server; options: autocannon.Options },
  bench: BenchOptions,
  rounds = 5,
) {
  const sides = [a, b] as const;
  for (const side of sides) await warmUp(side.options, bench);
  const seconds = Math.max(1, Math.round(bench.durationSeconds / rounds));
  const runs: [Measured[], Measured[]] = [[], []];
  // Each run's server CPU time per response, in µs: unlike the rate, it barely moves when other
  // processes take the cores, so it still compares two servers on a busy machine.
  const cpu: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    for (const index of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const pid = sides[index]!.server.child.pid!;
      const before = cpuMsOf(pid);
      const run = await measure(sides[index]!.options, seconds, bench);
      runs[index]!.push(run);
      cpu[index]!.push(((cpuMsOf(pid) - before) * 1000) / Math.max(1, run.latencies.length));
    }
  }
  const rate = (run: Measured) => run.latencies.length / run.seconds;
  const ratios = runs[0].map((run, index) => round(rate(run) / rate(runs[1][index]!), 3));
  return {
    a: summarize(a.name, a.server, a.options, runs[0]),
    b: summarize(b.name, b.server, b.options, runs[1]),
    ratios,
    cpuMicrosPerRequest: cpu,
  };
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, in 10 ms ticks). */
function cpuMsOf(pid: number): number {
  // Fields after "pid (command) ": state is the 3rd field of the line, utime the 14th, stime the 15th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((x, y) => x - y),
    50,
  );

export async function runBench(bench: BenchOptions): Promise<BenchReport> {
  const log = bench.log ?? (() => {});
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fresh-choice-bench-'));
  let databaseUrl = bench.databaseUrl;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (databaseUrl) {
    // A database of its own, owned by the same role, dropped at the end.
    const name = `fc_bench_${randomUUID().slice(0, 8)}`;
    const admin = await createDatabase({ url: databaseUrl, poolMax: 1 });
    await admin.withSession((session) => session.exec(`create database "${name}"`));
    await admin.close();
    const parsed = new URL(databaseUrl);
    parsed.pathname = `/${name}`;
    databaseUrl = parsed.toString();
    const adminUrl = bench.databaseUrl!;
    if (bench.keepDatabase) log(`keeping the benchmark database: ${databaseUrl}`);
    else
      dropDatabase = async () => {
        const again = await createDatabase({ url: adminUrl, poolMax: 1 });
        await again.withSession((session) => session.exec(`drop database if exists "${name}" with (force)`));
        await again.close();
      };
  }
  const servers: Server[] = [];
  try {
    // 1. Seed through the product's own bulk path: register, then import the CSV.
    let api = await startApi(dataDir, databaseUrl);
    servers.push(api);
    const idleFresh = memoryOf(api.child.pid!).rss;
    const register = await fetch(`${api.url}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'bench@example.com',
        username: 'bench',
        password: 'benchmark-password',
        companyName: 'Bench Chain',
        acceptTerms: true,
      }),
    });
    const session = (
      (await register.json()) as { data: { accessToken: string; user: { organization: { id: string } } } }
    ).data;
    const orgId = session.user.organization.id;
    const today = new Date().toISOString().slice(0, 10);
    const csvPath = path.join(dataDir, 'bench-items.csv');
    await writeBenchCsv(csvPath, bench.items, today);
    log(`importing ${bench.items} rows…`);
    const form = new FormData();
    form.append('file', await openAsBlob(csvPath), 'bench-items.csv');
    const importStarted = performance.now();
    const imported = await fetch(`${api.url}/v1/inventory/bulk-import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.accessToken}` },
      body: form,
    });
    const importSeconds = (performance.now() - importStarted) / 1000;
    const importBody = (await imported.json()) as { data?: { created: number }; error?: unknown };
    if (!imported.ok || importBody.data?.created !== bench.items) {
      throw new Error(`import failed: ${imported.status} ${JSON.stringify(importBody).slice(0, 500)}`);
    }
    const importPeak = memoryOf(api.child.pid!).peak;
    await api.stop();

    // 2. A year of daily sales for a share of the items, written directly (it is history, not load).
    const database = await createDatabase({
      url: databaseUrl,
      pgliteDir: path.join(dataDir, 'pglite'),
      poolMax: 2,
    });
    const ledgerItems = Math.max(1, Math.round(bench.items * bench.ledgerShare));
    const ledger = await sql<{ count: number }>`
      with chosen as (
        select id from inventory_items where org_id = ${orgId} order by id limit ${ledgerItems}
      ), inserted as (
        insert into stock_movements (org_id, item_id, type, reason, quantity, stock_before, stock_after, occurred_at)
        select ${orgId}, chosen.id, 'sale', 'sold', -(1 + (random() * 5)::int), 0, 0, now() - make_interval(days => day)
          from chosen cross join generate_series(1, 365) as day
        returning 1
      ) select count(*)::int as count from inserted`.execute(database.db);
    // As after any bulk load, vacuum and refresh the planner's statistics now: left to
    // autovacuum, 1.8M new rows get vacuumed minutes later, in the middle of a measured scenario.
    await sql`vacuum (analyze) stock_movements`.execute(database.db);
    // And write the load's dirty pages out now: the seed leaves about a gigabyte of WAL, and the
    // checkpoint it forces otherwise runs during the first measured scenario (list), not during
    // the ones after it (its ratio to the ceiling read 0.72-0.81 across runs of the same code).
    if (databaseUrl) {
      await sql`checkpoint`
        .execute(database.db)
        .catch((error: Error) => log(`checkpoint skipped (${error.message}); one may run during list`));
    }
    await database.close();
    const ledgerRows = ledger.rows[0]?.count ?? 0;
    log(`ledger: ${ledgerRows} rows`);

    // 3. The API, restarted on the seeded data: idle memory, then load.
    api = await startApi(dataDir, databaseUrl);
    servers.push(api);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idleRss = memoryOf(api.child.pid!).rss;
    const auth = { authorization: `Bearer ${session.accessToken}` };
    const pages = Math.max(1, Math.floor(bench.items / 50));
    const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;
    const listPath = () => {
      const page = 1 + Math.floor(Math.random() * Math.min(pages, 200));
      const roll = Math.random();
      if (roll < 0.15)
        return `/v1/inventory?page=${(page % 20) + 1}&limit=50&category=${encodeURIComponent(pick(BENCH_CATEGORIES))}`;
      if (roll < 0.3)
        return `/v1/inventory?page=${(page % 20) + 1}&limit=50&status=${pick(['low_stock', 'in_stock', 'expiring'])}`;
      return `/v1/inventory?page=${page}&limit=50`;
    };
    const results: ScenarioResult[] = [];

    const listOptions: autocannon.Options = {
      url: api.url,
      connections: 50,
      headers: auth,
      requests: [{ setupRequest: (request) => ({ ...request, path: listPath() }) }],
    };
    // With PostgreSQL, list and the ceiling (a bare node:http + pg server sending the same
    // statement) are measured in alternating rounds, so that both see the same machine.
    let ceilingRatio: number | null = null;
    let ceilingRoundRatios: number[] | null = null;
    if (databaseUrl) {
      log('list and ceiling, alternating…');
      const ceiling = await startProcess(
        'bench/ceiling.ts',
        { DATABASE_URL: databaseUrl, BENCH_ORG: orgId },
        'ceiling ready',
      );
      servers.push(ceiling);
      const {
        a: list,
        b: bare,
        ratios,
      } = await interleaved(
        { name: 'list', server: api, options: listOptions },
        {
          name: 'ceiling',
          server: ceiling,
          options: {
            url: ceiling.url,
            connections: 50,
            requests: [
              { setupRequest: (request) => ({ ...request, path: listPath().replace('/v1/inventory', '/') }) },
            ],
          },
        },
        bench,
      );
      results.push(list, { ...bare, note: 'bare node:http + pg, same statement as list' });
      ceilingRoundRatios = ratios;
      // The median: five rounds, so the middle one.
      ceilingRatio = round(
        percentile(
          [...ratios].sort((x, y) => x - y),
          50,
        ),
        3,
      );
      await ceiling.stop();
    } else {
      log('list…');
      results.push(await scenario('list', api, listOptions, bench));
    }

    // The session check (is the token's session still live?) runs on every authenticated request.
    // Its price: list against the same server built without it, in alternating rounds, on the
    // same database; two servers cannot share an embedded one.
    let sessionCheck: BenchReport['sessionCheck'] = null;
    if (databaseUrl) {
      log('list with and without the session check, alternating…');
      const unchecked = await startApi(dataDir, databaseUrl, 'bench/api-without-session-check.js');
      servers.push(unchecked);
      const { a, b, ratios, cpuMicrosPerRequest } = await interleaved(
        { name: 'list, session check', server: api, options: listOptions },
        {
          name: 'list, no session check',
          server: unchecked,
          options: { ...listOptions, url: unchecked.url },
        },
        bench,
      );
      results.push(
        { ...a, note: 'the server as deployed, in rounds alternating with the next row' },
        { ...b, note: 'the same server without the per-request session check' },
      );
      const [checkedCpu, uncheckedCpu] = cpuMicrosPerRequest;
      sessionCheck = {
        ratio: round(median(ratios), 3),
        roundRatios: ratios,
        cpuMicrosPerRequest: { checked: round(median(checkedCpu)), unchecked: round(median(uncheckedCpu)) },
        cpuRatio: round(median(checkedCpu.map((micros, index) => micros / uncheckedCpu[index]!)), 3),
      };
      await unchecked.stop();
    }

    log('search…');
    const terms = searchTerms();
    results.push(
      await scenario(
        'search',
        api,
        {
          url: api.url,
          connections: 10,
          headers: auth,
          requests: [
            {
              setupRequest: (request) => ({
                ...request,
                path: `/v1/inventory?limit=20&search=${encodeURIComponent(pick(terms))}`,
              }),
            },
          ],
        },
        bench,
      ),
    );

    log('mix…');
    const someIds = (await (await fetch(`${api.url}/v1/inventory?limit=200`, { headers: auth })).json()) as {
      data: Array<{ id: string }>;
    };
    const updateIds = someIds.data.map((item) => item.id);
    let created = 0;
    results.push(
      await scenario(
        'mix',
        api,
        {
          url: api.url,
          connections: 50,
          headers: auth,
          requests: [
            {
              setupRequest: (request) => {
                const roll = Math.random();
                const json = { ...auth, 'content-type': 'application/json' };
                if (roll < 0.7)
                  return { ...request, method: 'GET', path: listPath(), headers: auth, body: undefined };
                if (roll < 0.9) {
                  created++;
                  return {
                    ...request,
                    method: 'POST',
                    headers: json,
                    path: '/v1/inventory',
                    body: JSON.stringify({
                      description: `Mix item ${created}`,
                      category: pick(BENCH_CATEGORIES),
                      remainingStock: 10,
                      unitCost: 1.2,
                    }),
                  };
                }
                return {
                  ...request,
                  method: 'PUT',
                  headers: json,
                  path: `/v1/inventory/${pick(updateIds)}`,
                  body: JSON.stringify({
                    unitRetail: Math.round(Math.random() * 1000) / 100,
                    location: `Aisle ${1 + Math.floor(Math.random() * 12)}`,
                  }),
                };
              },
            },
          ],
        },
        bench,
      ),
    );

    log('adjust-hot…');
    const hot = updateIds.slice(0, 10);
    const stockOf = async () => {
      let total = 0;
      for (const id of hot) {
        const item = (await (await fetch(`${api.url}/v1/inventory/${id}`, { headers: auth })).json()) as {
          data: { remainingStock: number };
        };
        total += item.data.remainingStock;
      }
      return total;
    };
    const before = await stockOf();
    // A fixed number of requests, not a duration: a run cut off by time abandons requests the
    // server still applies, and every applied adjustment must be counted to check the total.
    const adjustOptions: autocannon.Options = {
      url: api.url,
      amount: Math.max(200, 500 * bench.durationSeconds),
      connections: 50,
      headers: { ...auth, 'content-type': 'application/json' },
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            method: 'POST',
            path: `/v1/inventory/${pick(hot)}/adjust-stock`,
            body: JSON.stringify({ adjustment: 1, reason: 'received' }),
          }),
        },
      ],
    };
    const adjustRun = await scenario('adjust-hot', api, adjustOptions, bench);
    const applied = adjustRun.raw['2xx'];
    const after = await stockOf();
    results.push({
      ...adjustRun,
      note: after === before + applied ? 'final stock = start + successful adjustments' : 'MISMATCH',
    });

    log('receiving…');
    const receiving = await runReceivingBench({
      url: api.url,
      auth,
      items: bench.items,
      receipts: Number(process.env.BENCH_RECEIPTS ?? 40),
      lines: 50,
      log,
    });

    const apiPeak = memoryOf(api.child.pid!).peak;
    await api.stop();

    const version = await (async () => {
      const database = await createDatabase({
        url: databaseUrl,
        pgliteDir: path.join(dataDir, 'pglite'),
        poolMax: 1,
      });
      try {
        const { rows } = await sql<{ version: string; autovacuum: string }>`
          select version(), current_setting('autovacuum') as autovacuum`.execute(database.db);
        // Said in the report because it shapes the figures after mix: with autovacuum off, nothing
        // re-marks the pages mix updates as all-visible, and list pages fetch those rows' heap.
        return `${rows[0]!.version.split(' on ')[0]!} (autovacuum ${rows[0]!.autovacuum})`;
      } finally {
        await database.close();
      }
    })();

    return {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, ${os.type()} ${os.release()}`,
      node: process.version,
      database: `${databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)'}: ${version}${process.env.REDIS_URL ? ', Redis' : ''}`,
      items: bench.items,
      seed: {
        rows: bench.items,
        seconds: round(importSeconds, 2),
        rowsPerSecond: Math.round(bench.items / importSeconds),
        peakRssMb: importPeak,
        ledgerRows,
      },
      idleRssMb: idleRss,
      scenarios: results.map(({ ...rest }) => {
        delete (rest as { raw?: unknown }).raw;
        return rest;
      }),
      adjustHot: {
        applied,
        expectedStock: before + applied,
        actualStock: after,
        perSecond: adjustRun.requestsPerSecond,
      },
      receiving,
      ceilingRatio,
      ceilingRoundRatios,
      sessionCheck,
      ...{ idleFreshRssMb: idleFresh, apiPeakRssMb: apiPeak },
    };
  } finally {
    for (const server of servers) await server.stop().catch(() => {});
    await dropDatabase?.().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}
