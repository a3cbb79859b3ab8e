import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { addDays, dailySeries } from '../../test/helpers/demand.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'forecast-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a tool as `npm run` would (node on the TypeScript source), never throwing on exit codes. */
async function tool(script: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, 'src/cli', script), ...args], {
      cwd: root,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const csvRows = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(','));

describe('forecast:csv', () => {
  it('forecasts each daily series N days after its own last date, with the interval columns', async () => {
    const lines = ['date,series,sales'];
    dailySeries('2024-01-01', 90, 1, (_, w) => 10 + w).forEach((v, t) =>
      lines.push(`${addDays('2024-01-01', t)},apples,${v}`),
    );
    // Oranges: a gap (2024-02-10 missing → 0 sales) and an unknown day (empty cell → null).
    dailySeries('2024-01-15', 60, 2, () => 5).forEach((v, t) => {
      const date = addDays('2024-01-15', t);
      if (date !== '2024-02-10') lines.push(`${date},oranges,${date === '2024-02-20' ? '' : v}`);
    });
    lines.push('2024-03-01,kiwis,2', '2024-03-02,kiwis,3');
    const input = path.join(dir, 'daily.csv');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const output = path.join(dir, 'daily-forecasts.csv');

    const result = await tool('forecast-csv.ts', [
      '--input',
      input,
      '--horizon',
      '5',
      '--output',
      output,
      '--threads',
      '1',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('forecast:csv: daily periods (detected from the dates of "apples")');
    expect(result.stderr).toContain('3 series forecast 5 periods ahead');
    const rows = csvRows(output);
    expect(rows[0]).toEqual(['series', 'date', 'mean', 'lo80', 'hi80', 'lo95', 'hi95']);
    expect(rows.slice(1).map((r) => `${r[0]} ${r[1]}`)).toEqual([
      ...[0, 1, 2, 3, 4].map((d) => `apples ${addDays('2024-03-31', d)}`),
      ...[0, 1, 2, 3, 4].map((d) => `oranges ${addDays('2024-03-15', d)}`),
      ...[0, 1, 2, 3, 4].map((d) => `kiwis ${addDays('2024-03-03', d)}`),
    ]);
    for (const row of rows.slice(1)) {
      const [mean, lo80, hi80, lo95, hi95] = row.slice(2).map(Number);
      expect(lo95).toBeGreaterThanOrEqual(0);
      expect(lo95! <= lo80! && lo80! <= mean! && mean! <= hi80! && hi80! <= hi95!).toBe(true);
    }
    // Two days of kiwis: the mean of 2 and 3.
    expect(rows.at(-1)![2]).toBe('2.5');
  });

  it('detects weekly periods and reads .csv.gz', async () => {
    const lines = ['date,series,sales'];
    for (let w = 0; w < 60; w++) lines.push(`${addDays('2023-01-02', 7 * w)},bread,${100 + (w % 4)}`);
    const input = path.join(dir, 'weekly.csv.gz');
    writeFileSync(input, gzipSync(`${lines.join('\n')}\n`));
    const output = path.join(dir, 'weekly-forecasts.csv');
    const result = await tool('forecast-csv.ts', ['--input', input, '--horizon', '3', '--output', output]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('forecast:csv: weekly periods');
    expect(
      csvRows(output)
        .slice(1)
        .map((r) => r[1]),
    ).toEqual(['2024-02-26', '2024-03-04', '2024-03-11']);
  });

  it('refuses a series whose rows reappear after another series, naming it and the line', async () => {
    const input = path.join(dir, 'split.csv');
    writeFileSync(
      input,
      ['date,series,sales', '2024-01-01,a,1', '2024-01-02,a,2', '2024-01-01,b,3', '2024-01-03,a,4', ''].join(
        '\n',
      ),
    );
    const result = await tool('forecast-csv.ts', [
      '--input',
      input,
      '--horizon',
      '2',
      '--output',
      path.join(dir, 'x.csv'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').slice(-2)).toEqual([
      'forecast:csv: line 5: series "a" appears again after other series; the rows of a series must be contiguous',
      '',
    ]);
  });

  it('says when the first series made the file weekly, and takes --frequency daily instead', async () => {
    const input = path.join(dir, 'mixed.csv');
    writeFileSync(
      input,
      'date,series,sales\n2024-01-01,a,1\n2024-01-08,a,2\n2024-01-01,b,3\n2024-01-02,b,4\n',
    );
    const output = path.join(dir, 'mixed-forecasts.csv');
    const weekly = await tool('forecast-csv.ts', ['--input', input, '--horizon', '1', '--output', output]);
    expect(weekly.code).toBe(1);
    expect(weekly.stderr).toContain(
      'series "b" (from line 4): 2024-01-02 is not a whole number of weeks after 2024-01-01, but the input is weekly',
    );
    const daily = await tool('forecast-csv.ts', [
      '--input',
      input,
      '--horizon',
      '1',
      '--output',
      output,
      '--frequency',
      'daily',
    ]);
    expect(daily.code).toBe(0);
    expect(daily.stderr).toContain('forecast:csv: daily periods (given by --frequency)');
    expect(
      csvRows(output)
        .slice(1)
        .map((r) => `${r[0]} ${r[1]}`),
    ).toEqual(['a 2024-01-09', 'b 2024-01-03']);
  });

  it('explains its usage when the horizon is missing, and a bad sales cell by its line', async () => {
    const usage = await tool('forecast-csv.ts', ['--input', 'x.csv', '--output', 'y.csv']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: npm run forecast:csv -- --input SALES.csv[.gz] --horizon N');
    const input = path.join(dir, 'bad.csv');
    writeFileSync(input, 'date,series,sales\n2024-01-01,a,1\n2024-01-02,a,lots\n');
    const bad = await tool('forecast-csv.ts', [
      '--input',
      input,
      '--horizon',
      '2',
      '--output',
      path.join(dir, 'y.csv'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('forecast:csv: line 3: sales "lots" is not a number\n');
  });
});

describe('eval:forecast', () => {
  it('prints the engine against seasonal naive and writes a row per series', async () => {
    const lines = ['date,store,item,sales'];
    for (const [store, item, seed] of [
      [1, 1, 1],
      [1, 2, 2],
      [2, 1, 3],
    ] as const) {
      dailySeries(
        '2023-01-02',
        300,
        seed,
        (t, w) => (20 + 0.05 * t) * [0.8, 0.9, 1, 1, 1.1, 1.5, 0.7][w]!,
      ).forEach((v, t) => lines.push(`${addDays('2023-01-02', t)},${store},${item},${v}`));
    }
    const input = path.join(dir, 'sales.csv');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const perSeries = path.join(dir, 'per-series.csv');
    const result = await tool('eval-forecast.ts', [
      input,
      '--holdout',
      '14',
      '--per-series',
      perSeries,
      '--threads',
      '1',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('eval:forecast: daily periods, holding out the last 14');
    const table = result.stdout.split('\n');
    expect(table[0]).toMatch(/^3 series, daily, last 14 periods held out, [\d.]+ s$/);
    expect(table[2]).toBe('| forecaster | MASE | MAPE % | RMSE | coverage80 | coverage95 | methods chosen |');
    expect(table[4]).toMatch(/^\| engine \| \d\.\d{3} \| [\d.]+ \| [\d.]+ \| [\d.]+% \| [\d.]+% \| /);
    expect(table[5]).toMatch(/^\| engine, seasonal naive only \| .* \| seasonal_naive 3 \|$/);
    expect(table[6]).toMatch(
      /^\| seasonal naive \(plain, the MASE benchmark\) \| 1\.000 \| [\d.]+ \| [\d.]+ \| – \| – \| – \|$/,
    );
    const rows = csvRows(perSeries);
    expect(rows[0]).toEqual([
      'series',
      'method',
      'mase',
      'mape',
      'rmse',
      'coverage80',
      'coverage95',
      'snaive_mape',
      'snaive_rmse',
    ]);
    expect(rows.slice(1).map((r) => r[0])).toEqual(['1/1', '1/2', '2/1']);
  });

  it('stops after --limit series', async () => {
    const result = await tool('eval-forecast.ts', [
      path.join(dir, 'sales.csv'),
      '--holdout',
      '7',
      '--limit',
      '1',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^1 series, daily, last 7 periods held out/);
  });
});
