import { describe, expect, it } from 'vitest';
import { demandHistory, type LedgerDay } from './history.ts';

const day = (date: string, sold: number, closingStock: number, soldOut = false): LedgerDay => ({
  day: date,
  sold,
  soldOut,
  closingStock,
});

describe('demandHistory', () => {
  it('gives one value per day from the first movement, zeros on quiet days with stock', () => {
    const history = demandHistory([day('2026-03-01', 4, 6), day('2026-03-03', 2, 4)], '2026-03-04');
    expect(history).toEqual({ start: '2026-03-01', values: [4, 0, 2, 0], censoredDays: 0 });
  });

  it('censors a sell-out day and the empty days after it, not the restocked day', () => {
    const history = demandHistory(
      [
        day('2026-03-01', 5, 0, true), // sold out: demand was at least 5
        // 03-02: no movement, shelf empty all day
        day('2026-03-03', 0, 0), // a count, nothing sold, still empty
        day('2026-03-04', 2, 5), // morning delivery, then sales: a normal day
      ],
      '2026-03-05',
    );
    expect(history).toEqual({ start: '2026-03-01', values: [null, null, null, 2, 0], censoredDays: 3 });
  });

  it('counts a day that sold out and was restocked later as censored', () => {
    expect(demandHistory([day('2026-03-01', 6, 12, true)], '2026-03-01').values).toEqual([null]);
  });

  it('is empty for an item without movements', () => {
    expect(demandHistory([], '2026-03-01')).toEqual({ start: null, values: [], censoredDays: 0 });
  });
});
