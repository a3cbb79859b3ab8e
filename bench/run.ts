import { writeFileSync } from 'node:fs';
import { runBench } from './bench.ts';
import { runEmbeddedComparison } from './embedded.ts';
import { runFileUploadBench } from './files.ts';
import { runForecastingBench } from './forecasting.ts';
import { runInvoiceBench } from './invoices.ts';
import { runOptimizerBench } from './optimizer.ts';
import { runQueueBench } from './queue.ts';
import { runRealtimeBench } from './realtime.ts';
import { runShoppingOptimizerBench } from './shopping-optimizer.ts';
import { budgetChecks, renderMarkdown } from './report.ts';

/**
 * `npm run bench`: seeds a benchmark store through bulk import, drives the real server with
 * autocannon, measures the bare ceiling, writes BENCHMARKS.md and prints it.
 * BENCH_ITEMS (100000), BENCH_DURATION (seconds per scenario, 15), BENCH_WARMUP (3),
 * BENCH_LEDGER_SHARE (0.05); DATABASE_URL selects PostgreSQL, else the embedded database;
 * BENCH_KEEP_DATABASE=1 keeps the seeded PostgreSQL database for profiling (its URL is logged).
 */
const report = await runBench({
  items: Number(process.env.BENCH_ITEMS ?? 100_000),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 15),
  warmupSeconds: Number(process.env.BENCH_WARMUP ?? 3),
  ledgerShare: Number(process.env.BENCH_LEDGER_SHARE ?? 0.05),
  databaseUrl: process.env.DATABASE_URL,
  keepDatabase: process.env.BENCH_KEEP_DATABASE === '1',
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});
// The embedded default beside PostgreSQL mode: BENCH_EMBEDDED_ROWS (20000) per import,
// BENCH_EMBEDDED_ROUNDS (3) rounds; BENCH_EMBEDDED=0 skips it.
if (process.env.BENCH_EMBEDDED !== '0') {
  report.embedded = await runEmbeddedComparison({
    importRows: Number(process.env.BENCH_EMBEDDED_ROWS ?? 20_000),
    rounds: Number(process.env.BENCH_EMBEDDED_ROUNDS ?? 3),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
}
// The job queue (PostgreSQL only: BENCH_QUEUE_JOBS (20000) no-op jobs, BENCH_QUEUE_SAMPLES (200)
// latency samples); BENCH_QUEUE=0 skips it.
if (process.env.DATABASE_URL && process.env.BENCH_QUEUE !== '0') {
  report.queue = await runQueueBench({
    databaseUrl: process.env.DATABASE_URL,
    jobs: Number(process.env.BENCH_QUEUE_JOBS ?? 20_000),
    latencySamples: Number(process.env.BENCH_QUEUE_SAMPLES ?? 200),
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
}
// WebSocket delivery (PostgreSQL only): BENCH_REALTIME_CLIENTS (1000) clients,
// BENCH_REALTIME_ADJUSTMENTS (500) adjustments; BENCH_REALTIME=0 skips it.
if (process.env.DATABASE_URL && process.env.BENCH_REALTIME !== '0') {
  report.realtime = await runRealtimeBench({
    databaseUrl: process.env.DATABASE_URL,
    clients: Number(process.env.BENCH_REALTIME_CLIENTS ?? 1000),
    adjustments: Number(process.env.BENCH_REALTIME_ADJUSTMENTS ?? 500),
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
}
// The nightly forecast refresh (PostgreSQL only): BENCH_FORECAST_ITEMS (10000) items with
// BENCH_FORECAST_DAYS (730) days of sales, FORECAST_THREADS (2) engine threads; BENCH_FORECAST=0 skips it.
if (process.env.DATABASE_URL && process.env.BENCH_FORECAST !== '0') {
  report.forecasting = await runForecastingBench({
    databaseUrl: process.env.DATABASE_URL,
    items: Number(process.env.BENCH_FORECAST_ITEMS ?? 10_000),
    days: Number(process.env.BENCH_FORECAST_DAYS ?? 730),
    threads: Number(process.env.FORECAST_THREADS ?? 2),
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
}
// The shopping-list optimiser (no database): BENCH_SHOPPING_LINES (2000) lines ×
// BENCH_SHOPPING_VENDORS (10) vendors; BENCH_SHOPPING=0 skips it.
if (process.env.BENCH_SHOPPING !== '0') {
  report.shoppingOptimizer = await runShoppingOptimizerBench(
    Number(process.env.BENCH_SHOPPING_LINES ?? 2000),
    Number(process.env.BENCH_SHOPPING_VENDORS ?? 10),
    (line) => process.stderr.write(`bench: ${line}\n`),
  );
}
// Invoice extraction (no database): a 20-page text PDF, 2 OCR pages, the peak RSS of a 100-page
// PDF; BENCH_INVOICES=0 skips it.
if (process.env.BENCH_INVOICES !== '0') {
  process.stderr.write('bench: invoice extraction…\n');
  report.invoices = await runInvoiceBench();
}
// A large upload (BENCH_FILE_MB, 200), on this run's database; BENCH_FILES=0 skips it.
if (process.env.BENCH_FILES !== '0') {
  report.files = await runFileUploadBench({
    megabytes: Number(process.env.BENCH_FILE_MB ?? 200),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
}
// The inventory optimiser: BENCH_OPTIMIZER_ITEMS (2000) items, BENCH_OPTIMIZER_ROUNDS (3);
// BENCH_OPTIMIZER=0 skips it.
if (process.env.BENCH_OPTIMIZER !== '0') {
  report.optimizer = await runOptimizerBench({
    items: Number(process.env.BENCH_OPTIMIZER_ITEMS ?? 2000),
    rounds: Number(process.env.BENCH_OPTIMIZER_ROUNDS ?? 3),
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
}
const markdown = renderMarkdown(report);
writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), markdown);
process.stdout.write(`${markdown}\n`);
process.stdout.write(`${JSON.stringify(report)}\n`);
const missed = budgetChecks(report).filter((check) => !check.met).length;
process.stderr.write(`bench: ${missed} budget(s) missed\n`);
