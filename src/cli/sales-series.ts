/**
 * Reads a sales CSV (plain or .gz) as a stream and yields one series at a time, as soon as its
 * rows end: memory holds one series, not the file. Shared by `forecast:csv` and `eval:forecast`.
 *
 * Rows of a series must be contiguous and in date order. Daily or weekly periods are detected
 * from the first series with two dates (all gaps whole weeks → weekly). Inside a series a missing
 * period is a period without sales (0); an empty `sales` cell is unknown demand (null).
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { dayNumber, isoDate } from '../modules/forecasting/engine/periods.ts';
import type { Frequency, SeriesInput } from '../modules/forecasting/engine/types.ts';

/** A problem with the input the user must fix: printed without a stack trace. */
export class InputError extends Error {}

export interface SalesSeries {
  /** The series' name: the `series` column, or `store` and `item` joined by a slash. */
  name: string;
  /** The key columns' values (e.g. { store: '1', item: '7' }). */
  keys: Record<string, string>;
  /** The 1-based line of the series' first row. */
  line: number;
  input: SeriesInput;
  /** The last period's date (ISO). */
  end: string;
}

export interface SalesReader {
  series: AsyncGenerator<SalesSeries>;
  /** Set once the first series with two dates has been read (or from `frequency`). */
  frequency(): Frequency | undefined;
  /** Bytes of the file read so far, and its size (for a progress bar). */
  bytesRead(): number;
  size: number;
}

interface Row {
  date: string;
  sales: string;
  [column: string]: string;
}

export function readSalesSeries(file: string, options: { frequency?: Frequency } = {}): SalesReader {
  const size = statSync(file).size;
  let bytes = 0;
  const raw = createReadStream(file);
  raw.on('data', (chunk) => (bytes += chunk.length));
  const text: Readable = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => text.destroy(error));
  const parser = text.pipe(parse({ columns: true, trim: true, skip_empty_lines: true, info: true }));
  text.on('error', (error) => parser.destroy(error));
  let frequency = options.frequency;

  async function* series(): AsyncGenerator<SalesSeries> {
    let keyColumns: string[] | undefined;
    const seen = new Set<string>();
    let current:
      | {
          name: string;
          keys: Record<string, string>;
          line: number;
          days: number[];
          sales: Array<number | null>;
        }
      | undefined;

    const finish = (): SalesSeries => {
      const { name, keys, line, days, sales } = current!;
      frequency ??= detectFrequency(days);
      return {
        name,
        keys,
        line,
        input: toInput(name, line, days, sales, frequency ?? 'daily'),
        end: isoDate(days.at(-1)!),
      };
    };

    for await (const { record, info } of parser as AsyncIterable<{ record: Row; info: { lines: number } }>) {
      if (!keyColumns) {
        const columns = Object.keys(record);
        for (const required of ['date', 'sales']) {
          if (!columns.includes(required))
            throw new InputError(`the input has no "${required}" column (columns: ${columns.join(', ')})`);
        }
        keyColumns = columns.includes('series')
          ? ['series']
          : columns.filter((c) => c !== 'date' && c !== 'sales');
        if (keyColumns.length === 0)
          throw new InputError(
            'the input has no column naming the series (e.g. "series", or "store" and "item")',
          );
      }
      const line = info.lines;
      const name = keyColumns.map((c) => record[c] ?? '').join('/');
      let day: number;
      try {
        day = dayNumber(record.date);
      } catch {
        throw new InputError(`line ${line}: "${record.date}" is not a date (yyyy-mm-dd)`);
      }
      const cell = record.sales;
      const value = cell === '' ? null : Number(cell);
      if (value !== null && !Number.isFinite(value))
        throw new InputError(`line ${line}: sales "${cell}" is not a number`);

      if (current && current.name !== name) {
        yield finish();
        current = undefined;
      }
      if (!current) {
        if (seen.has(name)) {
          throw new InputError(
            `line ${line}: series "${name}" appears again after other series; the rows of a series must be contiguous`,
          );
        }
        seen.add(name);
        current = {
          name,
          keys: Object.fromEntries(keyColumns.map((c) => [c, record[c] ?? ''])),
          line,
          days: [],
          sales: [],
        };
      } else if (day <= current.days.at(-1)!) {
        throw new InputError(
          `line ${line}: series "${name}" has ${record.date} after ${isoDate(current.days.at(-1)!)}; dates must increase`,
        );
      }
      current.days.push(day);
      current.sales.push(value);
    }
    if (current) yield finish();
  }

  return { series: series(), frequency: () => frequency, bytesRead: () => bytes, size };
}

function detectFrequency(days: number[]): Frequency | undefined {
  if (days.length < 2) return undefined;
  for (let i = 1; i < days.length; i++) if ((days[i]! - days[i - 1]!) % 7 !== 0) return 'daily';
  return 'weekly';
}

function toInput(
  name: string,
  line: number,
  days: number[],
  sales: Array<number | null>,
  frequency: Frequency,
): SeriesInput {
  const step = frequency === 'daily' ? 1 : 7;
  const first = days[0]!;
  const length = Math.floor((days.at(-1)! - first) / step) + 1;
  const values = new Array<number | null>(length).fill(0);
  for (let i = 0; i < days.length; i++) {
    const offset = days[i]! - first;
    if (offset % step !== 0) {
      throw new InputError(
        `series "${name}" (from line ${line}): ${isoDate(days[i]!)} is not a whole number of weeks after ${isoDate(first)}, but the input is weekly (detected from the first series; --frequency daily overrides)`,
      );
    }
    values[offset / step] = sales[i]!;
  }
  return { start: isoDate(first), frequency, values };
}
