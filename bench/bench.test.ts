import { describe, expect, it } from 'vitest';
import { type BenchReport, runBench } from './bench.ts';
import { runEmbeddedComparison } from './embedded.ts';
import { runFileUploadBench } from './files.ts';
import { runQueueBench } from './queue.ts';
import { budgetChecks, renderMarkdown } from './report.ts';

/**
 * A tiny run of the real benchmark code (a few hundred items, a few seconds per scenario) so it does
 * not rot. It asserts that every scenario ran and that the hot-item adjustments added up; it
 * asserts no timing: budgets are for `npm run bench`, on a quiet machine.
 */
describe('benchmark smoke run', () => {
  it('seeds through bulk import, runs every scenario and reports', { timeout: 180_000 }, async () => {
    const report = await runBench({
      items: 300,
      durationSeconds: 3,
      // One warm-up second per scenario: on a loaded machine a cold first search (statements
      // prepared, the store's vocabulary read) could take the whole window and leave no
      // response to count.
      warmupSeconds: 1,
      ledgerShare: 0.1,
      databaseUrl: process.env.DATABASE_URL,
      // Past autocannon's 10 s default: with the embedded database this run shares two cores with
      // the rest of the suite, and its p99 there reached 1.7 s; a request that waits longer is
      // load, not a defect. Errors still fail the test, with their kinds in the message.
      requestTimeoutSeconds: 120,
    });
    expect(report.seed.rows).toBe(300);
    expect(report.database).toMatch(/ \(autovacuum (on|off)\)(, Redis)?$/);
    expect(report.seed.ledgerRows).toBe(30 * 365);
    const names = report.scenarios.map((scenario) => scenario.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'list',
        'search',
        'mix',
        'adjust-hot',
        ...(process.env.DATABASE_URL ? ['ceiling', 'list, session check', 'list, no session check'] : []),
      ]),
    );
    for (const scenario of report.scenarios) {
      expect(scenario.requestsPerSecond, scenario.name).toBeGreaterThan(0);
      expect(scenario.errors, `${scenario.name}: ${JSON.stringify(scenario.errorKinds)}`).toBe(0);
      expect(scenario.non2xx, scenario.name).toBe(0);
    }
    if (process.env.DATABASE_URL) {
      expect(report.ceilingRoundRatios).toHaveLength(5);
      const sorted = [...report.ceilingRoundRatios!].sort((x, y) => x - y);
      expect(report.ceilingRatio).toBe(sorted[2]);
      expect(report.sessionCheck?.roundRatios).toHaveLength(5);
    } else {
      expect(report.sessionCheck).toBeNull();
    }
    expect(report.adjustHot.applied).toBeGreaterThan(0);
    expect(report.adjustHot.actualStock).toBe(report.adjustHot.expectedStock);
    expect(report.idleRssMb).toBeGreaterThan(0);
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('| list |');
    expect(budgetChecks(report).length).toBeGreaterThanOrEqual(5);
  });

  it(
    'measures the embedded default beside PostgreSQL mode and reports it',
    { timeout: 300_000 },
    async () => {
      const embedded = await runEmbeddedComparison({
        importRows: 300,
        rounds: 1,
        databaseUrl: process.env.DATABASE_URL,
      });
      for (const figures of [embedded.embedded, ...(process.env.DATABASE_URL ? [embedded.postgres!] : [])]) {
        expect(figures.importRows).toBe(300);
        expect(figures.firstStartSeconds).toBeGreaterThan(0);
        expect(figures.restartSeconds).toBeGreaterThan(0);
        expect(figures.idleRssMb).toBeGreaterThan(0);
        expect(figures.importRowsPerSecond).toBeGreaterThan(0);
        expect(figures.importPeakRssMb).toBeGreaterThanOrEqual(figures.idleRssMb);
      }
      expect(embedded.postgres === null).toBe(!process.env.DATABASE_URL);
      expect(embedded.importRatios?.length ?? 0).toBe(process.env.DATABASE_URL ? 1 : 0);

      // The section on its own, in an otherwise empty report.
      const report: BenchReport = {
        date: '',
        machine: '',
        node: '',
        database: '',
        items: 0,
        seed: { rows: 0, seconds: 0, rowsPerSecond: 0, peakRssMb: 0, ledgerRows: 0 },
        idleRssMb: 0,
        scenarios: [],
        adjustHot: { applied: 0, expectedStock: 0, actualStock: 0, perSecond: 0 },
        ceilingRatio: null,
        ceilingRoundRatios: null,
        sessionCheck: null,
        embedded,
      };
      const markdown = renderMarkdown(report);
      expect(markdown).toContain('## Embedded default (PGlite) beside PostgreSQL');
      expect(markdown).toContain('| idle RSS after restart, MB |');
      const budgets = budgetChecks(report).map((check) => check.budget);
      expect(budgets).toContain('embedded: idle RSS ≤ 200 MB');
      expect(budgets).toContain('embedded: restart healthy ≤ 2 s');
    },
  );

  it.skipIf(!process.env.DATABASE_URL)(
    'drains a backlog with two worker processes and samples latency',
    async () => {
      const figures = await runQueueBench({
        databaseUrl: process.env.DATABASE_URL!,
        jobs: 300,
        latencySamples: 5,
        log: () => {},
      });
      expect(figures).toMatchObject({ jobs: 300, workers: 2, latencySamples: 5 });
      expect(figures.jobsPerSecond).toBeGreaterThan(0);
      // A sample that timed out is recorded as 10 s: every job must have started.
      expect(figures.latencyP95Ms).toBeLessThan(10_000);
    },
  );

  it('uploads a large file through the real server and reports its memory', async () => {
    const figures = await runFileUploadBench({ megabytes: 8, databaseUrl: undefined, log: () => {} });
    expect(figures).toMatchObject({ megabytes: 8 });
    expect(figures.megabytesPerSecond).toBeGreaterThan(0);
    expect(figures.serverPeakRssMb).toBeGreaterThanOrEqual(figures.serverRssBeforeMb);
  });
});
