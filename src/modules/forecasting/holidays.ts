import { createRequire } from 'node:module';
import type HolidaysType from 'date-holidays';

/**
 * The store country's public holidays, from `date-holidays` (maintained rules for 200+
 * countries and their subdivisions). Loaded on first use: its rule set is about 1 MB of
 * JavaScript that a store without a country never needs.
 */
type HolidaysConstructor = typeof HolidaysType;
let Holidays: HolidaysConstructor | undefined;
const load = (): HolidaysConstructor =>
  (Holidays ??= createRequire(import.meta.url)('date-holidays') as HolidaysConstructor);

/** Null when the country (and region, when given) is known; else which is wrong and why. */
export function holidayCalendarProblem(
  country: string,
  region: string | null,
): { field: 'country' | 'region'; message: string } | null {
  const calendar = new (load())();
  if (!(country in calendar.getCountries())) {
    return { field: 'country', message: `'${country}' is not a country with a holiday calendar` };
  }
  if (region !== null) {
    const states = calendar.getStates(country) ?? {};
    if (!(region in states)) {
      const known = Object.keys(states).join(', ') || 'none';
      return {
        field: 'region',
        message: `'${region}' is not a region of ${country} with a holiday calendar (known: ${known})`,
      };
    }
  }
  return null;
}

/** Public holidays (ISO dates) from `from` to `to` inclusive; none without a country. */
export function publicHolidays(
  country: string | null,
  region: string | null,
  from: string,
  to: string,
): string[] {
  if (country === null) return [];
  const calendar = region === null ? new (load())(country) : new (load())(country, region);
  const dates = new Set<string>();
  for (let year = Number(from.slice(0, 4)); year <= Number(to.slice(0, 4)); year++) {
    for (const holiday of calendar.getHolidays(year) || []) {
      if (holiday.type !== 'public') continue;
      // A holiday's `date` is local 'YYYY-MM-DD hh:mm:ss'; one may span days (start/end).
      const first = holiday.date.slice(0, 10);
      const last = new Date(holiday.end.getTime() - 1);
      const lastLocal = last.getTime() > holiday.start.getTime() ? isoDay(last, holiday.start, first) : first;
      for (let day = first; day <= lastLocal; day = nextDay(day)) {
        if (day >= from && day <= to) dates.add(day);
      }
    }
  }
  return [...dates].sort();
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/** The local day of `instant`, given that `start` is local midnight of `startDay`. */
function isoDay(instant: Date, start: Date, startDay: string): string {
  const days = Math.floor((instant.getTime() - start.getTime()) / 86_400_000);
  const date = new Date(`${startDay}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
