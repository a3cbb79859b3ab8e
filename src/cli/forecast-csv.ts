/**
 * `npm run forecast:csv -- --input SALES.csv --horizon N --output FORECASTS.csv [--threads T]`
 *
 * Forecasts every series of a sales file (`date,series,sales`, .csv or .csv.gz) with the same
 * engine as the API, on worker threads, and writes `series,date,mean,lo80,hi80,lo95,hi95` for the
 * N periods after each series' last date. The input streams through: each series is forecast when
 * its rows end, and only a few series per thread are in flight, so memory stays bounded however
 * many series the file holds. Output keeps the input's order.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { stringify } from 'csv-stringify';
import { createForecastPool } from '../modules/forecasting/engine/pool.ts';
import type { Frequency, SeriesForecast } from '../modules/forecasting/engine/types.ts';
import { InputError, readSalesSeries } from './sales-series.ts';

const USAGE =
  'usage: npm run forecast:csv -- --input SALES.csv[.gz] --horizon N --output FORECASTS.csv [--threads T] [--frequency daily|weekly]';
const IN_FLIGHT_PER_THREAD = 4;

export interface ForecastCsvOptions {
  input: string;
  output: string;
  horizon: number;
  threads?: number;
  frequency?: Frequency;
  /** Where progress and the detected frequency are reported (stderr). */
  log?: NodeJS.WriteStream;
}

export async function forecastCsv(
  options: ForecastCsvOptions,
): Promise<{ series: number; frequency?: Frequency }> {
  const log = options.log ?? process.stderr;
  const threads = options.threads ?? availableParallelism();
  const reader = readSalesSeries(options.input, { frequency: options.frequency });
  const out = createWriteStream(options.output);
  const csv = stringify({
    header: true,
    columns: ['series', 'date', 'mean', 'lo80', 'hi80', 'lo95', 'hi95'],
  });
  csv.pipe(out);
  const pool = createForecastPool({ threads });
  const bar = log.isTTY
    ? new cliProgress.SingleBar(
        {
          format: 'forecast:csv [{bar}] {percentage}% | {series} series | {duration_formatted}',
          stream: log,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(reader.size, 0, { series: 0 });

  let written = 0;
  let announced = false;
  const inFlight: Array<{ name: string; result: Promise<SeriesForecast> }> = [];
  const writeOldest = async () => {
    const { name, result } = inFlight.shift()!;
    const forecast = await result;
    for (const point of forecast.points) {
      const row = [
        name,
        point.date,
        ...[point.mean, point.lo80, point.hi80, point.lo95, point.hi95].map(round),
      ];
      if (!csv.write(row)) await once(csv, 'drain');
    }
    written++;
    bar?.update(reader.bytesRead(), { series: written });
  };

  try {
    for await (const series of reader.series) {
      if (!announced) {
        log.write(
          `forecast:csv: ${reader.frequency() ?? 'daily'} periods (${options.frequency ? 'given by --frequency' : `detected from the dates of "${series.name}"`})\n`,
        );
        announced = true;
      }
      const result = pool.forecast(series.input, { horizon: options.horizon });
      result.catch(() => {}); // awaited in order by writeOldest; this only keeps it from being "unhandled" meanwhile
      inFlight.push({ name: series.name, result });
      if (inFlight.length >= threads * IN_FLIGHT_PER_THREAD) await writeOldest();
    }
    while (inFlight.length > 0) await writeOldest();
  } finally {
    bar?.stop();
    csv.end();
    await finished(out);
    await pool.close();
  }
  return { series: written, frequency: reader.frequency() };
}

const round = (value: number) => Math.round(value * 1000) / 1000;

if (import.meta.main) {
  let args;
  try {
    args = parseArgs({
      options: {
        input: { type: 'string' },
        output: { type: 'string' },
        horizon: { type: 'string' },
        threads: { type: 'string' },
        frequency: { type: 'string' },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const horizon = Number(args.horizon);
  const threads = args.threads === undefined ? undefined : Number(args.threads);
  if (
    !args.input ||
    !args.output ||
    !Number.isInteger(horizon) ||
    horizon < 1 ||
    horizon > 366 ||
    (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) ||
    (args.frequency !== undefined && args.frequency !== 'daily' && args.frequency !== 'weekly')
  ) {
    process.stderr.write(`${USAGE}\n(--horizon is a whole number of periods from 1 to 366)\n`);
    process.exit(2);
  }
  const started = performance.now();
  try {
    const { series } = await forecastCsv({
      input: args.input,
      output: args.output,
      horizon,
      threads,
      frequency: args.frequency,
    });
    process.stderr.write(
      `forecast:csv: ${series} series forecast ${horizon} periods ahead in ${((performance.now() - started) / 1000).toFixed(1)} s → ${args.output}\n`,
    );
  } catch (error) {
    if (!(error instanceof InputError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    process.stderr.write(`forecast:csv: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
