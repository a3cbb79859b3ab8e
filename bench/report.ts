import type { BenchReport, ScenarioResult } from './bench.ts';

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
  return checks;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

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
