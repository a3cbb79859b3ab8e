import { afterAll, describe, expect, it } from 'vitest';
import { dailySeries } from '../../../../test/helpers/demand.ts';
import { forecastSeries } from './forecast.ts';
import { createForecastPool } from './pool.ts';

describe('forecast pool', () => {
  const pool = createForecastPool({ threads: 2 });
  afterAll(() => pool.close());

  it('answers on worker threads exactly what forecastSeries answers in this thread', async () => {
    const inputs = [1, 2, 3, 4].map((seed) => ({
      start: '2024-01-01',
      frequency: 'daily' as const,
      values: dailySeries('2024-01-01', 200, seed, (_, w) => 10 + w),
    }));
    const results = await Promise.all(inputs.map((input) => pool.forecast(input, { horizon: 7 })));
    expect(results).toEqual(inputs.map((input) => forecastSeries(input, { horizon: 7 })));
  });

  it('rejects a bad request with the engine error, and keeps working', async () => {
    const input = { start: '2024-01-01', frequency: 'daily' as const, values: [1, 2] };
    await expect(pool.forecast(input, { horizon: 0 })).rejects.toThrow('horizon must be a whole number');
    await expect(pool.forecast(input, { horizon: 1 })).resolves.toMatchObject({ method: 'mean' });
  });
});
