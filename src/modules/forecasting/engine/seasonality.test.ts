import { describe, expect, it } from 'vitest';
import { dailySeries } from '../../../../test/helpers/demand.ts';
import { dayNumber } from './periods.ts';
import { estimateYearly, weekdayProfile } from './seasonality.ts';

const start = dayNumber('2022-01-01');

describe('seasonality', () => {
  it('recovers a yearly swing from two years of daily sales', () => {
    const values = dailySeries(
      '2022-01-01',
      730,
      1,
      (t) => 40 * Math.exp(0.3 * Math.cos((2 * Math.PI * (start + t)) / 365.2425)),
    );
    const profile = estimateYearly(values, 730, (i) => start + i, 1)!;
    expect(profile).not.toBeNull();
    const peak = profile.at(dayNumber('2023-01-01'));
    const trough = profile.at(dayNumber('2023-07-02'));
    expect(peak / trough).toBeGreaterThan(1.6);
    expect(peak / trough).toBeLessThan(2.0); // e^0.6 ≈ 1.82
  });

  it('finds no yearly profile in noise', () => {
    const values = dailySeries('2022-01-01', 730, 2, () => 40);
    expect(estimateYearly(values, 730, (i) => start + i, 1)).toBeNull();
  });

  it('gives each weekday its mean over the overall mean', () => {
    const values = Array.from({ length: 28 }, (_, t) => (t % 7 === 6 ? 8 : 1));
    const profile = weekdayProfile(values, 28, 28);
    expect(profile).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 4]);
  });
});
