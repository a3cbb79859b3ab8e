import { describe, expect, it } from 'vitest';
import { mstlEts, seasonalNaive, tsb } from './models.ts';

describe('models', () => {
  it('seasonal naive repeats the last season, and naive the last value', () => {
    expect([...seasonalNaive([1, 2, 3, 4, 5, 6, 7, 8, 9], 7, 9)]).toEqual([3, 4, 5, 6, 7, 8, 9, 3, 4]);
    expect([...seasonalNaive([4, 6], 1, 3)]).toEqual([6, 6, 6]);
  });

  it('MSTL-ETS continues a weekly pattern on a rising level', () => {
    const shape = [0, 5, 10, 5, 0, -5, -15];
    const history = Float64Array.from({ length: 140 }, (_, t) => 50 + 0.1 * t + shape[t % 7]!);
    const forecast = mstlEts(history, [7], 7);
    const expected = Array.from({ length: 7 }, (_, j) => 50 + 0.1 * (140 + j) + shape[(140 + j) % 7]!);
    forecast.forEach((value, j) => expect(value).toBeCloseTo(expected[j]!, 0));
  });

  it('AutoETS without periods forecasts a constant level', () => {
    const forecast = mstlEts(new Float64Array(60).fill(12), [], 3);
    forecast.forEach((value) => expect(value).toBeCloseTo(12, 6));
  });

  it('TSB forecasts probability × size, and decays after demand stops', () => {
    const steady = Array.from({ length: 100 }, (_, t) => (t % 4 === 0 ? 2 : 0));
    const [level] = tsb(steady, 1);
    expect(level).toBeGreaterThan(0.4);
    expect(level).toBeLessThan(0.6);
    const stopped = [...steady, ...new Array<number>(60).fill(0)];
    expect(tsb(stopped, 1)[0]).toBeLessThan(level! / 2);
    expect([...tsb(new Array<number>(30).fill(0), 2)]).toEqual([0, 0]);
  });
});
