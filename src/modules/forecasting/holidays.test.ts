import { describe, expect, it } from 'vitest';
import { holidayCalendarProblem, publicHolidays } from './holidays.ts';

describe('public holidays', () => {
  it("lists a country's public holidays in the range, and none without a country", () => {
    const italy = publicHolidays('IT', null, '2026-12-01', '2027-01-07');
    expect(italy).toEqual(['2026-12-08', '2026-12-25', '2026-12-26', '2027-01-01', '2027-01-06']);
    expect(publicHolidays(null, null, '2026-01-01', '2026-12-31')).toEqual([]);
  });

  it("adds a region's own holidays", () => {
    // Epiphany is a public holiday in Bavaria, not in Berlin.
    expect(publicHolidays('DE', 'BY', '2026-01-06', '2026-01-06')).toEqual(['2026-01-06']);
    expect(publicHolidays('DE', 'BE', '2026-01-06', '2026-01-06')).toEqual([]);
  });

  it('names an unknown country or region', () => {
    expect(holidayCalendarProblem('IT', null)).toBeNull();
    expect(holidayCalendarProblem('ZZ', null)).toEqual({
      field: 'country',
      message: "'ZZ' is not a country with a holiday calendar",
    });
    expect(holidayCalendarProblem('DE', 'XX')).toMatchObject({
      field: 'region',
      message: expect.stringMatching(/'XX' is not a region of DE.*BY/),
    });
  });
});
