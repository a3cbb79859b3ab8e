import { describe, expect, it } from 'vitest';
import { errorSd, fitErrorScale, predictiveInterval } from './intervals.ts';

describe('intervals', () => {
  it('fits the error variance as a base plus a growth per step, inflated for a small sample', () => {
    // Squared errors 1, 4, 9, 16 at steps 1–4: least squares 5x − 5 → base −5 < 0, so through the
    // origin at step − 1: growth = Σ(x·y)/Σx² = (0 + 4 + 18 + 48)/14 = 5.
    const scale = fitErrorScale([1, 2, 3, 4].map((step) => ({ step, error: step })));
    expect(scale).toEqual({ base: 0, growth: 5 * 2 });
    expect(errorSd(scale, 3)).toBeCloseTo(Math.sqrt(20), 12);
    // Errors that shrink with the step do not narrow later intervals.
    expect(fitErrorScale([4, 3, 2, 1].map((e, i) => ({ step: i + 1, error: e })))).toEqual({
      base: 7.5 * 2,
      growth: 0,
    });
  });

  it('gives count data negative-binomial intervals: skewed, whole numbers, from zero for slow movers', () => {
    // Mean 2, variance 6: NB with size 1 (geometric, p = 1/3): P(≤k) = 1 − (2/3)^(k+1), so the
    // 90% quantile is 5 ((2/3)^6 = 0.088) and the 97.5% one 9 ((2/3)^10 = 0.017).
    expect(predictiveInterval(2, Math.sqrt(6), true)).toEqual({ lo80: 0, hi80: 5, lo95: 0, hi95: 9 });
    // Mean 0.3, variance 0.64: P(0) = 0.82, P(≤1) = 0.93, P(≤2) = 0.972, P(≤3) = 0.987.
    expect(predictiveInterval(0.3, 0.8, true)).toEqual({ lo80: 0, hi80: 1, lo95: 0, hi95: 3 });
  });

  it('falls back to a normal interval clipped at zero for non-counts and under-dispersed errors', () => {
    const interval = predictiveInterval(10, 2, false);
    expect(interval.lo80).toBeCloseTo(10 - 1.2816 * 2, 3);
    expect(interval.hi95).toBeCloseTo(10 + 1.96 * 2, 3);
    expect(predictiveInterval(1, 5, false).lo95).toBe(0);
    expect(predictiveInterval(0, 3, true)).toEqual({ lo80: 0, hi80: 0, lo95: 0, hi95: 0 });
  });
});
