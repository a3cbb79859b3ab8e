import { describe, expect, it } from 'vitest';
import { addDays, dailySeries, poisson, seededRandom } from '../../../../test/helpers/demand.ts';
import { forecastSeries } from './forecast.ts';
import type { PromotionSpan, SeriesForecast } from './types.ts';

const start = '2024-01-01'; // a Monday
const WEEKDAY_SHAPE = [0.8, 0.9, 1, 1, 1.1, 1.5, 0.7];
const factor = (point: SeriesForecast['points'][number], name: string) =>
  point.factors.find((f) => f.name === name)?.impact;
const meanOf = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('forecastSeries: model choice', () => {
  it('chooses seasonal naive for a weekly pattern that repeats exactly, and forecasts it', () => {
    const pattern = [12, 15, 18, 20, 30, 45, 8];
    const values = Array.from({ length: 364 }, (_, t) => pattern[t % 7]!);
    const forecast = forecastSeries({ start, frequency: 'daily', values }, { horizon: 14 });
    expect(forecast.method).toBe('seasonal_naive');
    expect(forecast.insufficientHistory).toBe(false);
    expect(forecast.points.map((p) => p.mean)).toEqual([...pattern, ...pattern]);
    expect(forecast.points[0]!.date).toBe('2024-12-30');
    expect(forecast.accuracy).toMatchObject({
      rmse: 0,
      mape: 0,
      bias: 0,
      origins: 3,
      horizon: 14,
      points: 42,
    });
    // Monday's share of the week: 12 against a mean of 148/7.
    expect(factor(forecast.points[0]!, 'weekday')).toBeCloseTo(12 / (148 / 7) - 1, 3);
  });

  it('chooses MSTL-ETS for a trending series with a weekday pattern', () => {
    const values = dailySeries(start, 365, 7, (t, w) => (20 + 0.25 * t) * WEEKDAY_SHAPE[w]!);
    const forecast = forecastSeries({ start, frequency: 'daily', values }, { horizon: 28 });
    expect(forecast.method).toBe('mstl_ets');
    expect(forecast.methodReason).toBe(
      'lowest backtest RMSE of 3 candidates over 3 rolling origins × 28 days',
    );
    expect(forecast.candidates.map((c) => c.method)).toEqual(['seasonal_naive', 'tsb', 'mstl_ets']);
    const chosen = forecast.candidates.find((c) => c.method === 'mstl_ets')!;
    expect(chosen.mase).toBeLessThan(0.85);
    expect(forecast.accuracy!.mase).toBe(chosen.mase);
    // The level keeps rising: the last forecast week is above the last observed week.
    const lastWeek = meanOf(values.slice(-7));
    expect(meanOf(forecast.points.slice(-7).map((p) => p.mean))).toBeGreaterThan(lastWeek);
    expect(factor(forecast.points.at(-1)!, 'trend')).toBeGreaterThan(0.05);
  });

  it('chooses TSB for an intermittent slow mover, with skewed intervals that start at zero', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 365 }, () => (random() < 0.08 ? 1 + Math.floor(random() * 3) : 0));
    const forecast = forecastSeries({ start, frequency: 'daily', values }, { horizon: 28 });
    expect(forecast.method).toBe('tsb');
    const point = forecast.points[0]!;
    expect(point.mean).toBeGreaterThan(0.05);
    expect(point.mean).toBeLessThan(0.3);
    expect(point.lo80).toBe(0);
    expect(point.lo95).toBe(0);
    expect(Number.isInteger(point.hi95)).toBe(true);
    expect(point.hi95).toBeGreaterThanOrEqual(1);
    expect(point.factors.map((f) => f.name)).toEqual(['season', 'trend', 'holiday', 'promotion']);
  });
});

describe('forecastSeries: intervals', () => {
  it('holds out roughly 80% and 95% of generated future points in the 80% and 95% intervals', () => {
    let inside80 = 0;
    let inside95 = 0;
    let total = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const level = 5 + seed * 2;
      const all = dailySeries(start, 400, seed, (t, w) => level * (1 + 0.0005 * t) * WEEKDAY_SHAPE[w]!);
      const history = all.slice(0, 372);
      const forecast = forecastSeries({ start, frequency: 'daily', values: history }, { horizon: 28 });
      forecast.points.forEach((point, j) => {
        const actual = all[372 + j]!;
        if (actual >= point.lo80 && actual <= point.hi80) inside80++;
        if (actual >= point.lo95 && actual <= point.hi95) inside95++;
        total++;
        expect(point.lo95).toBeGreaterThanOrEqual(0);
        expect(point.lo95).toBeLessThanOrEqual(point.lo80);
        expect(point.hi80).toBeLessThanOrEqual(point.hi95);
        expect(point.sd).toBeGreaterThan(0);
      });
    }
    expect(total).toBe(840);
    expect(inside80 / total).toBeGreaterThan(0.74);
    expect(inside80 / total).toBeLessThan(0.88);
    expect(inside95 / total).toBeGreaterThan(0.9);
    expect(inside95 / total).toBeLessThan(0.99);
  });
});

describe('forecastSeries: calendar effects', () => {
  const flat = dailySeries(start, 240, 11, () => 20);

  it('lifts a promotion with no history by the default for its discount, and only when promotions are on', () => {
    const promotions = [{ from: addDays(start, 240), to: addDays(start, 243), discount: 0.2 }];
    const withPromotion = forecastSeries(
      { start, frequency: 'daily', values: flat, promotions },
      { horizon: 7 },
    );
    // (1 − 0.2)^−2 = 1.5625: the documented default lift.
    expect(withPromotion.points.map((p) => factor(p, 'promotion'))).toEqual([
      0.5625, 0.5625, 0.5625, 0.5625, 0, 0, 0,
    ]);
    expect(withPromotion.points[0]!.mean / withPromotion.points[5]!.mean).toBeGreaterThan(1.4);
    const off = forecastSeries(
      { start, frequency: 'daily', values: flat, promotions, includePromotions: false },
      { horizon: 7 },
    );
    expect(off.points.map((p) => factor(p, 'promotion'))).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('learns the lift promotions had in the history and applies it on the horizon', () => {
    const random = seededRandom(5);
    const promotions: PromotionSpan[] = [];
    for (let from = 20; from < 300; from += 35) {
      promotions.push({ from: addDays(start, from), to: addDays(start, from + 3), discount: 0.3 });
    }
    promotions.push({ from: addDays(start, 301), to: addDays(start, 302), discount: 0.3 });
    const inPromotion = (t: number) =>
      promotions.some((p) => addDays(start, t) >= p.from && addDays(start, t) <= p.to);
    // Promotions triple demand here: well above the default (1 − 0.3)^−2 ≈ 2.04.
    const values = Array.from({ length: 300 }, (_, t) => poisson(random, inPromotion(t) ? 60 : 20));
    const forecast = forecastSeries({ start, frequency: 'daily', values, promotions }, { horizon: 4 });
    const lift = factor(forecast.points[1]!, 'promotion')! + 1;
    expect(lift).toBeGreaterThan(2.6);
    expect(lift).toBeLessThan(3.3);
    expect(forecast.points[1]!.mean).toBeGreaterThan(50);
    expect(forecast.points[3]!.mean).toBeLessThan(25);
    // The promotions were divided out before fitting: the ordinary days are not forecast higher.
    expect(factor(forecast.points[3]!, 'promotion')).toBe(0);
  });

  it('learns a holiday effect from past holidays on the same date and from holidays in general', () => {
    const holidays = [
      '2024-04-01',
      '2024-05-01',
      '2024-06-03',
      '2024-08-15',
      '2024-12-25',
      '2025-04-21',
      '2025-05-01',
    ];
    const values = dailySeries(start, 480, 21, (t) => (holidays.includes(addDays(start, t)) ? 6 : 30));
    const forecast = forecastSeries({ start, frequency: 'daily', values, holidays }, { horizon: 7 });
    // 2025-04-25 onwards: 2025-05-01 is the 7th day, a holiday seen last year too.
    expect(forecast.points[6]!.date).toBe('2025-05-01');
    const impact = factor(forecast.points[6]!, 'holiday')!;
    expect(impact).toBeLessThan(-0.5);
    expect(forecast.points[6]!.mean).toBeLessThan(14);
    expect(factor(forecast.points[5]!, 'holiday')).toBe(0);
    expect(forecast.points[5]!.mean).toBeGreaterThan(22);
  });
});

describe('forecastSeries: censored demand and short histories', () => {
  it('does not let stock-out days (null) pull the forecast down', () => {
    const random = seededRandom(9);
    const demand = dailySeries(start, 300, 9, () => 25);
    // A third of the days out of stock: recorded sales would be 0, the ledger says null.
    const stockOut = demand.map(() => random() < 0.33);
    const censored = demand.map((v, t) => (stockOut[t] ? null : v));
    const asZero = demand.map((v, t) => (stockOut[t] ? 0 : v));
    const horizon = { horizon: 14 };
    const fromNulls = meanOf(
      forecastSeries({ start, frequency: 'daily', values: censored }, horizon).points.map((p) => p.mean),
    );
    const fromZeros = meanOf(
      forecastSeries({ start, frequency: 'daily', values: asZero }, horizon).points.map((p) => p.mean),
    );
    expect(fromNulls).toBeGreaterThan(22.5);
    expect(fromNulls).toBeLessThan(27.5);
    expect(fromZeros).toBeLessThan(20);
  });

  it('answers a short history with the mean method and says how many periods there were', () => {
    const forecast = forecastSeries(
      { start, frequency: 'daily', values: [3, 4, null, 5, 2, 6, 3, 4, 5, 3] },
      { horizon: 3 },
    );
    expect(forecast.method).toBe('mean');
    expect(forecast.insufficientHistory).toBe(true);
    expect(forecast.historyPeriods).toBe(10);
    expect(forecast.accuracy).toBeNull();
    expect(forecast.methodReason).toBe(
      'only 10 days of history (9 with known sales; 28 needed to backtest): the mean of those',
    );
    expect(forecast.points.map((p) => p.date)).toEqual(['2024-01-11', '2024-01-12', '2024-01-13']);
    expect(forecast.points[0]!.mean).toBeCloseTo(35 / 9, 10);
    expect(forecast.points[0]!.lo80).toBeLessThan(forecast.points[0]!.mean);
  });

  it('uses the mean when a long history has too few known days, and says so', () => {
    const values = Array.from({ length: 100 }, (_, t) => (t % 5 === 0 ? 3 : null));
    const forecast = forecastSeries({ start, frequency: 'daily', values }, { horizon: 2 });
    expect(forecast.method).toBe('mean');
    expect(forecast.methodReason).toBe(
      'only 20 of 100 days with known sales (21 needed to backtest): the mean of those',
    );
    expect(forecast.points.map((p) => p.mean)).toEqual([3, 3]);
  });

  it('forecasts zero with a reason when nothing is known', () => {
    const forecast = forecastSeries({ start, frequency: 'daily', values: [null, null] }, { horizon: 2 });
    expect(forecast.method).toBe('mean');
    expect(forecast.methodReason).toBe('no known sales in 2 days of history: forecasting zero');
    expect(forecast.points.map((p) => [p.mean, p.hi95])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});

describe('forecastSeries: weekly series and options', () => {
  it('forecasts weekly periods a week apart with a yearly season and no weekday factor', () => {
    const random = seededRandom(4);
    const values = Array.from({ length: 120 }, (_, t) =>
      poisson(random, 200 * (1 + 0.4 * Math.sin((2 * Math.PI * t) / 52.18))),
    );
    const forecast = forecastSeries({ start, frequency: 'weekly', values }, { horizon: 4 });
    expect(forecast.frequency).toBe('weekly');
    expect(forecast.points.map((p) => p.date)).toEqual([
      '2026-04-20',
      '2026-04-27',
      '2026-05-04',
      '2026-05-11',
    ]);
    expect(forecast.points[0]!.factors.map((f) => f.name)).toEqual([
      'season',
      'trend',
      'holiday',
      'promotion',
    ]);
    // Week 120 of a 52.18-week sine: sin(2π·120/52.18) ≈ 0.67, so the season lifts by about a quarter.
    expect(factor(forecast.points[0]!, 'season')).toBeGreaterThan(0.15);
    expect(forecast.accuracy!.horizon).toBe(4);
  });

  it('leaves out weekday and season when seasonality is off', () => {
    const values = dailySeries(
      start,
      800,
      2,
      (t, w) => 30 * WEEKDAY_SHAPE[w]! * (1 + 0.3 * Math.sin((2 * Math.PI * t) / 365)),
    );
    const on = forecastSeries({ start, frequency: 'daily', values }, { horizon: 7 });
    expect(on.points[0]!.factors.map((f) => f.name)).toContain('weekday');
    expect(factor(on.points[0]!, 'season')).not.toBe(0);
    const off = forecastSeries(
      { start, frequency: 'daily', values, includeSeasonality: false },
      { horizon: 7 },
    );
    expect(off.points[0]!.factors.map((f) => f.name)).not.toContain('weekday');
    expect(off.points.every((p) => factor(p, 'season') === 0)).toBe(true);
  });

  it('scores only the candidates asked for', () => {
    const values = dailySeries(start, 200, 8, () => 10);
    const forecast = forecastSeries(
      { start, frequency: 'daily', values },
      { horizon: 7, candidates: ['seasonal_naive'] },
    );
    expect(forecast.method).toBe('seasonal_naive');
    expect(forecast.candidates.map((c) => c.method)).toEqual(['seasonal_naive']);
    expect(forecast.methodReason).toBe(
      'the only candidate requested, backtested over 3 rolling origins × 7 days',
    );
  });

  it('refuses a horizon outside 1–366 and values that are not numbers', () => {
    const input = { start, frequency: 'daily' as const, values: [1, 2, 3] };
    expect(() => forecastSeries(input, { horizon: 0 })).toThrow(RangeError);
    expect(() => forecastSeries(input, { horizon: 367 })).toThrow(
      'horizon must be a whole number from 1 to 366',
    );
    expect(() => forecastSeries({ ...input, values: [1, Number.NaN] }, { horizon: 1 })).toThrow(RangeError);
    expect(() => forecastSeries({ ...input, start: '2024-02-30' }, { horizon: 1 })).toThrow(
      'not a calendar date',
    );
  });
});
