import type { BenchReport, ScenarioResult } from './bench.ts';
import type { EmbeddedComparison, ModeFigures } from './embedded.ts';

/** The budgets of the benchmark issue, checked against a report (PostgreSQL figures). */
export function budgetChecks(report: BenchReport): Array<{ budget: string; measured: string; met: boolean }> {
  const get = (name: string) => report.scenarios.find((scenario) => scenario.name === name);
  const list = get('list');
  const search = get('search');
  const mix = get('mix');
  const checks: Array<{ budget: string; measured: string; met: boolean }> = [];
  if (list) {
    checks.push({
      budget: 'list ≥ 80% of ceiling req/s',
      measured:
        report.ceilingRatio === null ? 'no ceiling (embedded)' : `${Math.round(report.ceilingRatio * 100)}%`,
      met: report.ceilingRatio !== null && report.ceilingRatio >= 0.8,
    });
    checks.push({
      budget: 'list p99 ≤ 50 ms at 50 connections, 0 errors',
      measured: `${list.p99} ms, ${list.errors + list.non2xx} errors`,
      met: list.p99 <= 50 && list.errors + list.non2xx === 0,
    });
  }
  if (report.sessionCheck) {
    checks.push({
      budget: 'list with the session check ≥ 97% of req/s without it',
      measured: `${round1(report.sessionCheck.ratio * 100)}%`,
      met: report.sessionCheck.ratio >= 0.97,
    });
  }
  if (search)
    checks.push({
      budget: 'search p95 ≤ 25 ms at 10 connections',
      measured: `${search.p95} ms`,
      met: search.p95 <= 25,
    });
  if (mix) {
    checks.push({
      budget: 'mix ≥ 1,500 req/s, p99 ≤ 60 ms, 0 errors',
      measured: `${mix.requestsPerSecond} req/s, ${mix.p99} ms, ${mix.errors + mix.non2xx} errors`,
      met: mix.requestsPerSecond >= 1500 && mix.p99 <= 60 && mix.errors + mix.non2xx === 0,
    });
  }
  checks.push({
    budget: 'adjust-hot: no lost or doubled update, ≥ 500/s',
    measured: `${report.adjustHot.applied} applied, stock ${report.adjustHot.actualStock} (expected ${report.adjustHot.expectedStock}), ${report.adjustHot.perSecond}/s`,
    met: report.adjustHot.actualStock === report.adjustHot.expectedStock && report.adjustHot.perSecond >= 500,
  });
  checks.push({
    budget: 'import ≥ 10,000 rows/s, peak RSS ≤ 350 MB',
    measured: `${report.seed.rowsPerSecond} rows/s, ${report.seed.peakRssMb} MB`,
    met: report.seed.rowsPerSecond >= 10_000 && report.seed.peakRssMb <= 350,
  });
  checks.push({
    budget: 'idle server RSS ≤ 150 MB',
    measured: `${report.idleRssMb} MB`,
    met: report.idleRssMb <= 150,
  });
  checks.push(...embeddedChecks(report));
  if (report.realtime) {
    const realtime = report.realtime;
    checks.push({
      budget: `realtime: p99 commit-to-delivery ≤ 100 ms, ${realtime.clients.toLocaleString('en')} clients, every event exactly once`,
      measured: `${realtime.p99Ms} ms; ${realtime.delivered.toLocaleString('en')} of ${realtime.expectedDeliveries.toLocaleString('en')} delivered, ${realtime.duplicates} duplicates`,
      met: realtime.p99Ms <= 100 && realtime.missing === 0 && realtime.duplicates === 0,
    });
  }
  if (report.queue) {
    const queue = report.queue;
    checks.push(
      {
        budget: 'queue: ≥ 500 no-op jobs/s with two workers (PostgreSQL)',
        measured: `${queue.jobsPerSecond} jobs/s`,
        met: queue.jobsPerSecond >= 500,
      },
      {
        budget: 'queue: enqueue-to-start p95 ≤ 200 ms on an idle queue',
        measured: `${queue.latencyP95Ms} ms`,
        met: queue.latencyP95Ms <= 200,
      },
    );
  }
  if (report.files) {
    const files = report.files;
    const growth = files.serverPeakRssMb - files.serverRssBeforeMb;
    checks.push({
      budget: `files: a ${files.megabytes} MB upload never sits in memory (server RSS growth ≤ 100 MB)`,
      measured: `+${growth} MB at ${files.megabytesPerSecond} MB/s`,
      met: growth <= 100,
    });
  }
  if (report.forecasting) {
    const forecasting = report.forecasting;
    checks.push({
      budget: `forecasting: nightly refresh of ${forecasting.items.toLocaleString('en')} items × ${forecasting.historyDays} days ≤ 5 min, peak RSS ≤ 500 MB`,
      measured: `${forecasting.seconds} s (${forecasting.itemsPerSecond} items/s), ${forecasting.peakRssMb} MB`,
      met: forecasting.seconds <= 300 && forecasting.peakRssMb <= 500,
    });
  }
  if (report.shoppingOptimizer) {
    const shopping = report.shoppingOptimizer;
    checks.push({
      budget: `shopping optimiser: ${shopping.lines.toLocaleString('en')} lines × ${shopping.vendors} vendors ≤ 5 s, within 1% of the proven optimum`,
      measured: `${shopping.seconds} s, ${shopping.gapPercent}% from the bound (${shopping.status}), ${shopping.savingsPercent}% below the simple plan`,
      met: shopping.seconds <= 5 && shopping.gapPercent <= 1,
    });
  }
  if (report.optimizer) {
    const optimizer = report.optimizer;
    checks.push({
      budget: `optimizer: ${optimizer.items.toLocaleString('en')} items solved ≤ 5 s`,
      measured: `${optimizer.maxSeconds} s (slowest of ${optimizer.rounds}), gap ${optimizer.mipGap}, ${optimizer.status}`,
      met: optimizer.maxSeconds <= 5,
    });
  }
  if (report.receiving) {
    const receiving = report.receiving;
    checks.push({
      // Our bar (the issue names the figure, not a budget): a delivery's 50 lines booked in half a
      // second, every line in the ledger.
      budget: `receiving: a ${receiving.linesPerReceipt}-line receipt p95 ≤ 500 ms, every line in the ledger`,
      measured: `p95 ${receiving.p95Ms} ms, ${receiving.ledgerRowsWritten} of ${receiving.receipts * receiving.linesPerReceipt} lines`,
      met:
        receiving.p95Ms <= 500 &&
        receiving.ledgerRowsWritten === receiving.receipts * receiving.linesPerReceipt,
    });
  }
  return checks;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** The embedded default's budgets (bench/embedded.ts), when that section ran. */
function embeddedChecks(report: BenchReport): Array<{ budget: string; measured: string; met: boolean }> {
  const comparison = report.embedded;
  if (!comparison) return [];
  const { embedded } = comparison;
  const ratio = importRatio(comparison);
  return [
    {
      budget: 'embedded: idle RSS ≤ 200 MB',
      measured: `${embedded.idleRssMb} MB`,
      met: embedded.idleRssMb <= 200,
    },
    {
      budget: `embedded: ${embedded.importRows.toLocaleString('en')}-row import peak RSS ≤ 400 MB`,
      measured: `${embedded.importPeakRssMb} MB`,
      met: embedded.importPeakRssMb <= 400,
    },
    {
      budget: 'embedded: import ≥ 50% of PostgreSQL rows/s (same run)',
      measured: ratio === null ? 'no PostgreSQL in this run' : `${Math.round(ratio * 100)}%`,
      met: ratio !== null && ratio >= 0.5,
    },
    {
      budget: 'embedded: first start with the demo store healthy ≤ 5 s',
      measured: `${embedded.firstStartSeconds} s`,
      met: embedded.firstStartSeconds <= 5,
    },
    {
      budget: 'embedded: restart healthy ≤ 2 s',
      measured: `${embedded.restartSeconds} s`,
      met: embedded.restartSeconds <= 2,
    },
    {
      budget: 'npm start compiles nothing when nothing changed (≤ 0.5 s)',
      measured: `${comparison.buildCheckSeconds} s`,
      met: comparison.buildCheckSeconds <= 0.5,
    },
  ];
}

/** Embedded over PostgreSQL import rows/s: the median of the rounds' ratios. */
function importRatio(comparison: EmbeddedComparison): number | null {
  if (!comparison.importRatios?.length) return null;
  return [...comparison.importRatios].sort((a, b) => a - b)[Math.floor(comparison.importRatios.length / 2)]!;
}

function embeddedSection(comparison: EmbeddedComparison | undefined): string[] {
  if (!comparison) return [];
  const { embedded, postgres } = comparison;
  const ratio = importRatio(comparison);
  const row = (label: string, value: (figures: ModeFigures) => number, share?: string) =>
    `| ${label} | ${value(embedded)} | ${postgres ? value(postgres) : '–'} | ${share ?? ''} |`;
  return [
    '## Embedded default (PGlite) beside PostgreSQL',
    '',
    `Each mode's server as \`npm start\` runs it: a first start on an empty data directory (embedded: builds the database and seeds the demo store; PostgreSQL: migrates an empty database, seeds nothing), a restart on what it left, the restarted server's RSS once settled, then a bulk import of ${embedded.importRows.toLocaleString('en')} rows into a new store. ${comparison.rounds} round(s), the modes taking turns; medians.`,
    '',
    '| | embedded | PostgreSQL | embedded / PostgreSQL |',
    '|---|---|---|---|',
    row('first start to healthy, s', (figures) => figures.firstStartSeconds),
    row('first start peak RSS, MB', (figures) => figures.firstStartPeakRssMb),
    row('restart to healthy, s', (figures) => figures.restartSeconds),
    row('idle RSS after restart, MB', (figures) => figures.idleRssMb),
    row(
      'import rows/s',
      (figures) => figures.importRowsPerSecond,
      ratio === null
        ? ''
        : `${Math.round(ratio * 100)}% (rounds: ${comparison.importRatios!.map((each) => `${Math.round(each * 100)}%`).join(', ')})`,
    ),
    row('import peak RSS (from restart), MB', (figures) => figures.importPeakRssMb),
    '',
    `- \`npm start\`'s compile step with nothing changed: ${comparison.buildCheckSeconds} s.`,
    '',
  ];
}

const row = (scenario: ScenarioResult) => {
  const odd = Object.entries(scenario.statuses).filter(([status]) => !status.startsWith('2'));
  const note = [
    scenario.note,
    odd.length ? `non-2xx: ${odd.map(([status, count]) => `${status}×${count}`).join(', ')}` : '',
    Object.keys(scenario.errorKinds).length
      ? `errors: ${Object.entries(scenario.errorKinds)
          .map(([kind, count]) => `${kind}×${count}`)
          .join(', ')}`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
  return `| ${scenario.name} | ${scenario.connections} | ${scenario.requestsPerSecond} | ${scenario.p50} | ${scenario.p95} | ${scenario.p99} | ${scenario.errors + scenario.non2xx} | ${scenario.peakRssMb ?? '–'} | ${note} |`;
};

export function renderMarkdown(report: BenchReport): string {
  const checks = budgetChecks(report);
  return [
    '# Benchmarks',
    '',
    `Run ${report.date} with \`npm run bench\` (${report.items.toLocaleString('en')} items).`,
    '',
    `- Machine: ${report.machine}`,
    `- Node: ${report.node}`,
    `- Database: ${report.database}`,
    '- Load generator: autocannon in the same process tree, on the same machine (so it competes for the same 2 cores).',
    '',
    '## Scenarios',
    '',
    '| scenario | connections | req/s | p50 ms | p95 ms | p99 ms | errors | server peak RSS MB | note |',
    '|---|---|---|---|---|---|---|---|---|',
    ...report.scenarios.map(row),
    '',
    `- import (seed): ${report.seed.rows.toLocaleString('en')} rows in ${report.seed.seconds} s = ${report.seed.rowsPerSecond.toLocaleString('en')} rows/s, server peak RSS ${report.seed.peakRssMb} MB; plus ${report.seed.ledgerRows.toLocaleString('en')} ledger rows (a year of daily sales for a share of the items).`,
    `- idle server after start-up on the seeded data: ${report.idleRssMb} MB RSS.`,
    `- list as a share of the ceiling: ${report.ceilingRatio === null ? 'n/a (the ceiling runs on PostgreSQL)' : `${Math.round(report.ceilingRatio * 100)}%: the median of ${report.ceilingRoundRatios?.length ?? 0} rounds in which the two take turns going first, each after its own warm-up, so both see the same machine (each round: ${(report.ceilingRoundRatios ?? []).map((ratio) => `${Math.round(ratio * 100)}%`).join(', ')}); the table's req/s pool all rounds`}.`,
    `- the session check's price: ${report.sessionCheck === null ? 'n/a (measured on PostgreSQL, where two servers can share the database)' : `list with the check ran at ${round1(report.sessionCheck.ratio * 100)}% of the req/s of the same server without it (bench/api-without-session-check.js), the median of ${report.sessionCheck.roundRatios.length} alternating rounds (each round: ${report.sessionCheck.roundRatios.map((ratio) => `${round1(ratio * 100)}%`).join(', ')}); server CPU per list response ${report.sessionCheck.cpuMicrosPerRequest.checked} µs with the check, ${report.sessionCheck.cpuMicrosPerRequest.unchecked} µs without (medians of the rounds; the median of the rounds' ratios is ${round1(report.sessionCheck.cpuRatio * 100)}%), a measure that, unlike the rate, holds when other processes share the cores`}.`,
    '',
    ...embeddedSection(report.embedded),
    ...queueSection(report),
    ...realtimeSection(report),
    ...filesSection(report),
    ...optimizerSection(report),
    ...receivingSection(report),
    ...forecastingSection(report),
    ...invoicesSection(report),
    '## Budgets',
    '',
    '| budget | measured | met |',
    '|---|---|---|',
    ...checks.map((check) => `| ${check.budget} | ${check.measured} | ${check.met ? 'yes' : '**no**'} |`),
    '',
    'p95/p99 are exact percentiles over every response of the measured window (after a warm-up).',
    '',
  ].join('\n');
}

function queueSection(report: BenchReport): string[] {
  const queue = report.queue;
  if (!queue) return [];
  return [
    '## Job queue (PostgreSQL)',
    '',
    `- ${queue.jobs.toLocaleString('en')} no-op jobs written first, then drained by ${queue.workers} worker processes (bench/queue-worker.ts: the production JobQueue, batches of 50): ${queue.jobsPerSecond.toLocaleString('en')} jobs/s, worker start-up included.`,
    `- On the idle queue, ${queue.latencySamples} jobs one at a time: enqueue committed to handler started p50 ${queue.latencyP50Ms} ms, p95 ${queue.latencyP95Ms} ms (NOTIFY wakes the workers; without it they would wait for the 2 s poll).`,
    '',
  ];
}

function realtimeSection(report: BenchReport): string[] {
  const realtime = report.realtime;
  if (!realtime) return [];
  return [
    '## Realtime delivery (PostgreSQL)',
    '',
    `- ${realtime.clients.toLocaleString('en')} WebSocket clients (one process) subscribed to \`inventory:changes\` of one store while ${realtime.adjustments.toLocaleString('en')} stock adjustments ran through the API, four at a time over eight items (bench/realtime.ts).`,
    `- Adjust response (the commit has happened) to each client's receipt of the event: p50 ${realtime.p50Ms} ms, p95 ${realtime.p95Ms} ms, p99 ${realtime.p99Ms} ms over ${realtime.delivered.toLocaleString('en')} deliveries (an event that arrived before the response counts 0).`,
    `- Delivered ${realtime.delivered.toLocaleString('en')} of ${realtime.expectedDeliveries.toLocaleString('en')} (every client × every event), ${realtime.duplicates} duplicates, ${realtime.missing} missing.`,
    `- Server RSS ${realtime.serverRssMb} MB with the clients connected: ${realtime.rssPerConnectionKb} kB per connection.`,
    '',
  ];
}

function invoicesSection(report: BenchReport): string[] {
  const invoices = report.invoices;
  if (!invoices) return [];
  return [
    '## Invoice extraction',
    '',
    `- A ${invoices.textPages}-page text PDF (bench/invoices.ts, 30 lines a page): ${invoices.textSeconds} s, ${invoices.textMsPerPage} ms per page, ${invoices.textLines} lines read.`,
    `- ${invoices.ocrPages} scanned pages (200 DPI, OCR): ${invoices.ocrSeconds} s, ${invoices.ocrSecondsPerPage} s per page, ${invoices.ocrLines} lines read.`,
    `- A ${invoices.largePages}-page text PDF: ${invoices.largeSeconds} s, peak RSS ${invoices.largePeakRssMb} MB (a process that only loads the modules and the bytes: ${invoices.baselinePeakRssMb} MB).`,
    '',
  ];
}

function forecastingSection(report: BenchReport): string[] {
  const forecasting = report.forecasting;
  if (!forecasting) return [];
  const methods = Object.entries(forecasting.methods)
    .map(([method, count]) => `${method} ${count.toLocaleString('en')}`)
    .join(', ');
  return [
    '## Forecasting (PostgreSQL)',
    '',
    `- The nightly refresh (forecast:update_predictions' work, bench/forecasting.ts) of ${forecasting.items.toLocaleString('en')} items with ${forecasting.historyDays} days of generated daily sales (${forecasting.ledgerRows.toLocaleString('en')} ledger rows; weekly and yearly patterns, trend, a fifth slow movers, stock-outs), horizon 28, on ${forecasting.threads} engine threads: ${forecasting.seconds} s, ${forecasting.itemsPerSecond} items/s, ${forecasting.cpuSeconds} CPU s in this process, peak RSS ${forecasting.peakRssMb} MB.`,
    `- Methods the backtest chose: ${methods}.`,
    '',
  ];
}

function receivingSection(report: BenchReport): string[] {
  const receiving = report.receiving;
  if (!receiving) return [];
  return [
    '## Receiving',
    '',
    `- ${receiving.receipts} receipts of ${receiving.linesPerReceipt} lines each against sent purchase orders (items spread over the store), one at a time with an Idempotency-Key (bench/receiving.ts): p50 ${receiving.p50Ms} ms, p95 ${receiving.p95Ms} ms, max ${receiving.maxMs} ms; ${receiving.ledgerRowsWritten.toLocaleString('en')} ledger rows written (expected ${(receiving.receipts * receiving.linesPerReceipt).toLocaleString('en')}).`,
    '',
  ];
}

function optimizerSection(report: BenchReport): string[] {
  const optimizer = report.optimizer;
  if (!optimizer) return [];
  return [
    '## Inventory optimiser',
    '',
    `- POST /v1/ml/optimize/inventory's model (bench/optimizer.ts) on ${optimizer.items.toLocaleString('en')} synthetic items, ${optimizer.candidates.toLocaleString('en')} binary candidates, budget at 80% of ordering every item to 0.95, all three objectives: ${optimizer.seconds.join(' s, ')} s per round (candidates, model, HiGHS solve, report); HiGHS loaded once in ${optimizer.loadSeconds} s; status ${optimizer.status}, MIP gap ${optimizer.mipGap}, plan service level ${optimizer.serviceLevel}, budget binding: ${optimizer.budgetBinding ? 'yes' : 'no'}.`,
    '',
  ];
}

function filesSection(report: BenchReport): string[] {
  const files = report.files;
  if (!files) return [];
  return [
    '## Large upload',
    '',
    `- One ${files.megabytes} MB file posted to POST /v1/files/upload (multipart, generated while sent) on the server as \`npm start\` runs it, this run's database: ${files.seconds} s = ${files.megabytesPerSecond} MB/s, first byte sent to the 201; server RSS ${files.serverRssBeforeMb} MB before, ${files.serverPeakRssMb} MB at its peak (sampled every 50 ms).`,
    '',
  ];
}
