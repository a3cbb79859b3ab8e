import { describe, expect, it } from 'vitest';
import { choose, planBacktest, score } from './backtest.ts';

describe('backtest', () => {
  it('plans three origins at the end of the history', () => {
    expect(planBacktest(730, 28, 'daily')).toEqual({ origins: [646, 674, 702], horizon: 28 });
    expect(planBacktest(730, 7, 'daily')).toEqual({ origins: [709, 716, 723], horizon: 7 });
    // 30 days: (30 − 21) / 3 = 3 days per origin.
    expect(planBacktest(30, 28, 'daily')).toEqual({ origins: [21, 24, 27], horizon: 3 });
    expect(planBacktest(104, 52, 'weekly')).toEqual({ origins: [65, 78, 91], horizon: 13 });
    expect(planBacktest(22, 28, 'daily')).toBeNull();
  });

  it('scores MAE, RMSE, MASE, MAPE on days with sales, and bias', () => {
    const scores = score([
      { actual: 10, forecast: 12, baseline: 14 },
      { actual: 0, forecast: 1, baseline: 0 },
      { actual: 5, forecast: 2, baseline: null },
    ]);
    expect(scores).toEqual({
      mae: 2,
      rmse: Math.sqrt(14 / 3),
      mase: 3 / 4,
      mape: ((0.2 + 0.6) / 2) * 100,
      bias: 0,
      points: 3,
    });
  });

  it('chooses the lowest RMSE, or the simplest candidate within 2% of it', () => {
    const scores = (rmse: number) => ({ mae: 0, rmse, mase: null, mape: null, bias: 0, points: 1 });
    expect(
      choose([
        { method: 'seasonal_naive', scores: scores(10) },
        { method: 'mstl_ets', scores: scores(9) },
      ]).method,
    ).toBe('mstl_ets');
    const tie = choose([
      { method: 'mstl_ets', scores: scores(10) },
      { method: 'seasonal_naive', scores: scores(10.1) },
    ]);
    expect(tie).toMatchObject({ method: 'seasonal_naive', tie: true });
  });
});
