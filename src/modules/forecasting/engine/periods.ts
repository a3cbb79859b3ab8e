/** Calendar arithmetic on ISO dates (yyyy-mm-dd) as whole UTC days: no time zones, no DST. */
import type { Frequency } from './types.ts';

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of an ISO date; throws on anything that is not a real calendar date. */
export function dayNumber(iso: string): number {
  const match = ISO_DATE.exec(iso);
  if (!match) throw new RangeError(`not an ISO date (yyyy-mm-dd): ${JSON.stringify(iso)}`);
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (isoDate(ms / DAY_MS) !== iso) throw new RangeError(`not a calendar date: ${iso}`);
  return ms / DAY_MS;
}

export function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Monday … 6 = Sunday. */
export function weekdayOf(day: number): number {
  return (day + 3) % 7; // 1970-01-01 was a Thursday
}

/** "mm-dd" of a day: the key under which a fixed-date holiday recurs. */
export function monthDay(day: number): string {
  return isoDate(day).slice(5);
}

export function periodDays(frequency: Frequency): number {
  return frequency === 'daily' ? 1 : 7;
}
