import { describe, expect, it } from 'vitest';
import { demandOver, reorderPolicy } from './policy.ts';

const flat = (days: number, mean: number, sd: number) => Array.from({ length: days }, () => ({ mean, sd }));

describe('demandOver', () => {
  it('sums means and adds variances over whole and part days', () => {
    const points = [
      { mean: 1, sd: 1 },
      { mean: 2, sd: 2 },
      { mean: 4, sd: 2 },
    ];
    expect(demandOver(points, 0, 2)).toEqual({ mean: 3, sd: Math.sqrt(5) });
    // Half of day 0, all of day 1, half of day 2.
    expect(demandOver(points, 0.5, 2)).toEqual({ mean: 0.5 + 2 + 2, sd: Math.sqrt(0.5 + 4 + 2) });
    expect(demandOver(points, 0, 0)).toEqual({ mean: 0, sd: 0 });
  });

  it("repeats the forecast's last week past its end", () => {
    const week = [1, 2, 3, 4, 5, 6, 7].map((mean) => ({ mean, sd: 0 }));
    const points = [...flat(7, 100, 0), ...week];
    // Days 14..20 repeat days 7..13: 1+2+…+7 = 28.
    expect(demandOver(points, 14, 7).mean).toBe(28);
    expect(demandOver(points, 12, 3).mean).toBe(6 + 7 + 1);
  });
});

describe('reorderPolicy', () => {
  it('sets the reorder point over the lead time and the order-up-to level over lead time + review', () => {
    // 10 a day with σ 2 a day; lead 2 days, review 7; 95% → z ≈ 1.645.
    const policy = reorderPolicy({
      points: flat(28, 10, 2),
      leadTimeDays: 2,
      reviewPeriodDays: 7,
      serviceLevel: 0.95,
      shelfLifeDays: null,
    });
    expect(policy.leadTimeDemand).toBe(20);
    expect(policy.cycleDemand).toBe(90);
    expect(policy.reorderPoint).toBeCloseTo(20 + 1.6434 * 2 * Math.SQRT2, 2);
    expect(policy.orderUpTo).toBeCloseTo(90 + 1.6434 * 2 * 3, 2);
    expect(policy.safetyStock).toBeCloseTo(1.6434 * 6, 2);
    expect(policy.cappedByShelfLife).toBe(false);
    expect(policy.achievedServiceLevel).toBe(0.95);
  });

  it('never plans to hold more than sells before it expires', () => {
    // Shelf life 3 days: at most lead (2) + 3 days of demand = 50 may be on hand and on order.
    const policy = reorderPolicy({
      points: flat(28, 10, 2),
      leadTimeDays: 2,
      reviewPeriodDays: 7,
      serviceLevel: 0.95,
      shelfLifeDays: 3,
    });
    expect(policy.cappedByShelfLife).toBe(true);
    expect(policy.shelfLifeCap).toBe(50);
    expect(policy.orderUpTo).toBe(50);
    expect(policy.safetyStock).toBe(0);
    expect(policy.reorderPoint).toBeLessThanOrEqual(policy.orderUpTo);
    // 50 against a 9-day demand of 90 ± 6: almost certain to run out before the next order.
    expect(policy.achievedServiceLevel).toBeLessThan(0.01);
  });

  it('leaves a long shelf life uncapped', () => {
    const policy = reorderPolicy({
      points: flat(28, 10, 2),
      leadTimeDays: 2,
      reviewPeriodDays: 7,
      serviceLevel: 0.95,
      shelfLifeDays: 60,
    });
    expect(policy.cappedByShelfLife).toBe(false);
    expect(policy.shelfLifeCap).toBe(620);
  });

  it('plans nothing for an item forecast to sell nothing', () => {
    const policy = reorderPolicy({
      points: flat(28, 0, 0),
      leadTimeDays: 2,
      reviewPeriodDays: 7,
      serviceLevel: 0.95,
      shelfLifeDays: 5,
    });
    expect(policy).toMatchObject({ reorderPoint: 0, orderUpTo: 0, safetyStock: 0 });
  });
});
