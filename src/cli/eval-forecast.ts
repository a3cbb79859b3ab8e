/**
 * `npm run eval:forecast [SALES.csv[.gz]] [--holdout 28] [--limit N] [--per-series FILE.csv] [--threads T]`
 *
 * Holds out the last `holdout` periods of every series, forecasts them from the rest with the
 * engine (the same code and choices as the API), and prints a markdown table: the engine, the
 * engine restricted to seasonal naive, and plain weekly seasonal naive (the MASE benchmark), with
 * MASE, MAPE, RMSE, the coverage of the 80% and 95% intervals and the methods chosen. The default
 * input is the bundled store-item demand set (resources/data/sales/store-item-demand/).
 *
 * MASE here is per series the forecast's MAE over the MAE of plain seasonal naive (a week back for
 * daily data; a year back for weekly data with two years, else a week) on the held-out periods,
 * then averaged over the series. MAPE counts periods with sales; RMSE and coverage pool all
 * held-out periods with a known value.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { stringify } from 'csv-stringify';
import { createForecastPool } from '../modules/forecasting/engine/pool.ts';
import type { ForecastMethod, Frequency, SeriesForecast } from '../modules/forecasting/engine/types.ts';
import { InputError, readSalesSeries, type SalesSeries } from './sales-series.ts';

export const DEFAULT_INPUT = path.resolve(
  import.meta.dirname,
  '../../resources/data/sales/store-item-demand/train.csv.gz',
);
const USAGE =
  'usage: npm run eval:forecast -- [SALES.csv[.gz]] [--holdout 28] [--limit N] [--per-series FILE.csv] [--threads T]';

/** Accumulated errors of one forecaster over the held-out periods. */
class Tally {
  absolute = 0;
  squared = 0;
  percent = 0;
  withSales = 0;
  points = 0;
  inside80 = 0;
  inside95 = 0;
  withIntervals = 0;

  add(actual: number, mean: number, interval?: { lo80: number; hi80: number; lo95: number; hi95: number }) {
    const error = mean - actual;
    this.absolute += Math.abs(error);
    this.squared += error * error;
    this.points++;
    if (actual > 0) {
      this.percent += Math.abs(error) / actual;
      this.withSales++;
    }
    if (interval) {
      this.withIntervals++;
      if (actual >= interval.lo80 && actual <= interval.hi80) this.inside80++;
      if (actual >= interval.lo95 && actual <= interval.hi95) this.inside95++;
    }
  }
  merge(other: Tally) {
    this.absolute += other.absolute;
    this.squared += other.squared;
    this.percent += other.percent;
    this.withSales += other.withSales;
    this.points += other.points;
    this.inside80 += other.inside80;
    this.inside95 += other.inside95;
    this.withIntervals += other.withIntervals;
  }
  get mae() {
    return this.points > 0 ? this.absolute / this.points : 0;
  }
  get rmse() {
    return this.points > 0 ? Math.sqrt(this.squared / this.points) : 0;
  }
  get mape() {
    return this.withSales > 0 ? (100 * this.percent) / this.withSales : null;
  }
  get coverage80() {
    return this.withIntervals > 0 ? this.inside80 / this.withIntervals : null;
  }
  get coverage95() {
    return this.withIntervals > 0 ? this.inside95 / this.withIntervals : null;
  }
}

interface Row {
  name: string;
  keys: Record<string, string>;
  method: ForecastMethod;
  engine: Tally;
  engineSeasonalNaive: Tally;
  seasonalNaive: Tally;
}

export interface EvaluationResult {
  series: number;
  frequency?: Frequency;
  holdout: number;
  rows: Row[];
  engine: Tally & { mase: number | null };
  engineSeasonalNaive: Tally & { mase: number | null };
  seasonalNaive: Tally & { mase: number | null };
  methods: Record<string, number>;
  skipped: number;
  seconds: number;
}

export async function evaluateForecasts(options: {
  input: string;
  holdout: number;
  limit?: number;
  threads?: number;
  perSeries?: string;
  log?: NodeJS.WriteStream;
}): Promise<EvaluationResult> {
  const started = performance.now();
  const log = options.log ?? process.stderr;
  const threads = options.threads ?? availableParallelism();
  const reader = readSalesSeries(options.input);
  const pool = createForecastPool({ threads });
  const bar = log.isTTY
    ? new cliProgress.SingleBar(
        {
          format: 'eval:forecast [{bar}] {percentage}% | {series} series | {duration_formatted}',
          stream: log,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(reader.size, 0, { series: 0 });
  const perSeries = options.perSeries
    ? stringify({
        header: true,
        columns: [
          'series',
          'method',
          'mase',
          'mape',
          'rmse',
          'coverage80',
          'coverage95',
          'snaive_mape',
          'snaive_rmse',
        ],
      })
    : undefined;
  const perSeriesFile = options.perSeries ? createWriteStream(options.perSeries) : undefined;
  if (perSeries && perSeriesFile) perSeries.pipe(perSeriesFile);

  const rows: Row[] = [];
  let skipped = 0;
  let announced = false;
  const inFlight: Array<{
    series: SalesSeries;
    held: Array<number | null>;
    result: Promise<SeriesForecast[]>;
  }> = [];
  const score = async () => {
    const { series, held, result } = inFlight.shift()!;
    const [engine, engineSeasonalNaive] = await result;
    const history = series.input.values.slice(0, -options.holdout);
    const row: Row = {
      name: series.name,
      keys: series.keys,
      method: engine!.method,
      engine: new Tally(),
      engineSeasonalNaive: new Tally(),
      seasonalNaive: new Tally(),
    };
    const naive = plainSeasonalNaive(history, options.holdout, series.input.frequency);
    held.forEach((actual, j) => {
      if (actual == null || naive[j] == null) return;
      row.engine.add(actual, engine!.points[j]!.mean, engine!.points[j]);
      row.engineSeasonalNaive.add(
        actual,
        engineSeasonalNaive!.points[j]!.mean,
        engineSeasonalNaive!.points[j],
      );
      row.seasonalNaive.add(actual, naive[j]);
    });
    rows.push(row);
    if (perSeries) {
      const mase = row.seasonalNaive.mae > 0 ? row.engine.mae / row.seasonalNaive.mae : null;
      const values = [
        row.name,
        row.method,
        mase,
        row.engine.mape,
        row.engine.rmse,
        row.engine.coverage80,
        row.engine.coverage95,
        row.seasonalNaive.mape,
        row.seasonalNaive.rmse,
      ].map((v) => (typeof v === 'number' ? Math.round(v * 10_000) / 10_000 : v));
      if (!perSeries.write(values)) await once(perSeries, 'drain');
    }
    bar?.update(reader.bytesRead(), { series: rows.length });
  };

  try {
    for await (const series of reader.series) {
      if (options.limit !== undefined && rows.length + inFlight.length >= options.limit) break;
      if (!announced) {
        log.write(
          `eval:forecast: ${reader.frequency() ?? 'daily'} periods, holding out the last ${options.holdout}\n`,
        );
        announced = true;
      }
      const values = series.input.values;
      if (values.length <= options.holdout) {
        skipped++;
        continue;
      }
      const input = { ...series.input, values: values.slice(0, -options.holdout) };
      const forecastOptions = { horizon: options.holdout };
      const result = Promise.all([
        pool.forecast(input, forecastOptions),
        pool.forecast(input, { ...forecastOptions, candidates: ['seasonal_naive'] }),
      ]);
      result.catch(() => {}); // awaited in order by score()
      inFlight.push({ series, held: values.slice(-options.holdout), result });
      if (inFlight.length >= threads * 4) await score();
    }
    while (inFlight.length > 0) await score();
  } finally {
    bar?.stop();
    if (perSeries && perSeriesFile) {
      perSeries.end();
      await finished(perSeriesFile);
    }
    await pool.close();
  }

  const overall = (pick: (row: Row) => Tally) => {
    const total = new Tally();
    let maseSum = 0;
    let maseCount = 0;
    for (const row of rows) {
      total.merge(pick(row));
      if (row.seasonalNaive.mae > 0) {
        maseSum += pick(row).mae / row.seasonalNaive.mae;
        maseCount++;
      }
    }
    return Object.assign(total, { mase: maseCount > 0 ? maseSum / maseCount : null });
  };
  const methods: Record<string, number> = {};
  for (const row of rows) methods[row.method] = (methods[row.method] ?? 0) + 1;
  return {
    series: rows.length,
    frequency: reader.frequency(),
    holdout: options.holdout,
    rows,
    engine: overall((row) => row.engine),
    engineSeasonalNaive: overall((row) => row.engineSeasonalNaive),
    seasonalNaive: overall((row) => row.seasonalNaive),
    methods,
    skipped,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Plain seasonal naive on the raw history, stepping a further season back over unknown periods. */
function plainSeasonalNaive(history: ReadonlyArray<number | null>, horizon: number, frequency: Frequency) {
  const period = frequency === 'daily' ? 7 : history.length >= 104 ? 52 : 1;
  return Array.from({ length: horizon }, (_, j) => {
    let s = history.length - period + (j % period);
    while (s >= 0 && history[s] == null) s -= period;
    return s >= 0 ? history[s]! : null;
  });
}

export function formatReport(result: EvaluationResult): string {
  const number = (value: number | null, digits = 3) => (value == null ? '–' : value.toFixed(digits));
  const percent = (value: number | null) => (value == null ? '–' : `${(100 * value).toFixed(1)}%`);
  const methods = Object.entries(result.methods)
    .sort((a, b) => b[1] - a[1])
    .map(([method, count]) => `${method} ${count}`)
    .join(', ');
  const line = (name: string, tally: EvaluationResult['engine'], chosen: string) =>
    `| ${name} | ${number(tally.mase)} | ${number(tally.mape, 1)} | ${number(tally.rmse)} | ${percent(tally.coverage80)} | ${percent(tally.coverage95)} | ${chosen} |`;
  return [
    `${result.series} series, ${result.frequency ?? 'daily'}, last ${result.holdout} periods held out` +
      (result.skipped > 0 ? ` (${result.skipped} series too short, skipped)` : '') +
      `, ${result.seconds.toFixed(1)} s`,
    '',
    '| forecaster | MASE | MAPE % | RMSE | coverage80 | coverage95 | methods chosen |',
    '|---|---|---|---|---|---|---|',
    line('engine', result.engine, methods),
    line('engine, seasonal naive only', result.engineSeasonalNaive, `seasonal_naive ${result.series}`),
    line('seasonal naive (plain, the MASE benchmark)', result.seasonalNaive, '–'),
    '',
  ].join('\n');
}

if (import.meta.main) {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        holdout: { type: 'string', default: '28' },
        limit: { type: 'string' },
        'per-series': { type: 'string' },
        threads: { type: 'string' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { values: args, positionals } = parsed;
  const holdout = Number(args.holdout);
  const limit = args.limit === undefined ? undefined : Number(args.limit);
  const threads = args.threads === undefined ? undefined : Number(args.threads);
  const positive = (n: number | undefined) => n === undefined || (Number.isInteger(n) && n > 0);
  if (
    positionals.length > 1 ||
    !positive(holdout) ||
    holdout > 366 ||
    !positive(limit) ||
    !positive(threads)
  ) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  try {
    const result = await evaluateForecasts({
      input: positionals[0] ?? DEFAULT_INPUT,
      holdout,
      limit,
      threads,
      perSeries: args['per-series'],
    });
    process.stdout.write(formatReport(result));
  } catch (error) {
    if (!(error instanceof InputError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    process.stderr.write(`eval:forecast: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
