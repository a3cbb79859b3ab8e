import { describe, expect, it } from 'vitest';
import {
  buildCalendar,
  estimateCalendarEffects,
  holidayMultiplier,
  promotionMultiplier,
  PROMOTION_PRIOR_ELASTICITY,
} from './calendar-effects.ts';
import { dayNumber } from './periods.ts';

const start = dayNumber('2024-01-01');

describe('calendar effects', () => {
  it('marks holidays and promotion exposure per period, daily and weekly', () => {
    const promotions = [{ from: '2024-01-03', to: '2024-01-04', discount: 0.5 }];
    const daily = buildCalendar(start, 'daily', 10, ['2024-01-02', '2023-12-25'], promotions);
    expect([...daily.holiday]).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(daily.holidayKey[1]).toBe('01-02');
    expect([...daily.promotion].map((x) => Math.round(x * 1000) / 1000)).toEqual([
      0, 0, 0.693, 0.693, 0, 0, 0, 0, 0, 0,
    ]);
    const weekly = buildCalendar(start, 'weekly', 2, ['2024-01-09'], promotions);
    expect([...weekly.holiday]).toEqual([0, 1]);
    expect(weekly.promotion[0]).toBeCloseTo((2 * Math.log(2)) / 7, 12);
  });

  it('measures effects against the same weekday around them, shrunk toward the prior', () => {
    const values = new Array<number>(70).fill(10);
    // Day 35 a holiday selling 2 (ratio 0.2), days 49–50 a 50% promotion selling 40 (ratio 4).
    values[35] = 2;
    values[49] = 40;
    values[50] = 40;
    const calendar = buildCalendar(
      start,
      'daily',
      70,
      ['2024-02-05'],
      [{ from: '2024-02-19', to: '2024-02-20', discount: 0.5 }],
    );
    const effects = estimateCalendarEffects(values, 70, calendar, 7);
    // One holiday against a prior of three neutral ones: exp(ln 0.2 / 4).
    expect(effects.holiday).toBeCloseTo(Math.exp(Math.log(0.2) / 4), 12);
    // Its own date: (1 · ln 0.2 + 1 · pooled) / 2.
    expect(holidayMultiplier(effects, calendar, 35)).toBeCloseTo(
      Math.exp((Math.log(0.2) + Math.log(0.2) / 4) / 2),
      12,
    );
    const x = Math.log(2);
    const prior = 3 * Math.log(1 / 0.8) ** 2;
    const elasticity = (prior * PROMOTION_PRIOR_ELASTICITY + 2 * x * Math.log(4)) / (prior + 2 * x * x);
    expect(effects.promotionElasticity).toBeCloseTo(elasticity, 12);
    expect(promotionMultiplier(effects, calendar, 49)).toBeCloseTo(Math.exp(elasticity * x), 12);
    expect(promotionMultiplier(effects, calendar, 48)).toBe(1);
  });
});
