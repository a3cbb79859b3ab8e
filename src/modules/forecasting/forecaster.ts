import { forecastSeries } from './engine/forecast.ts';
import { createForecastPool } from './engine/pool.ts';
import type { ForecastOptions, SeriesForecast, SeriesInput } from './engine/types.ts';
import type { Forecaster } from './forecasting.service.ts';

/**
 * The engine for the app: on `threads` worker threads (engine/pool.ts), started on first use so
 * a process that never forecasts starts none, or in the calling thread with `threads` 0. The
 * engine is CPU-bound WebAssembly and arithmetic: on the event loop, a 10,000-item refresh would
 * hold requests up for minutes.
 */
export function createForecaster(threads: number): Forecaster & { close(): Promise<void> } {
  if (threads === 0) {
    return {
      forecast: async (input: SeriesInput, options: ForecastOptions): Promise<SeriesForecast> =>
        forecastSeries(input, options),
      close: async () => {},
    };
  }
  let pool: ReturnType<typeof createForecastPool> | undefined;
  return {
    forecast: (input, options) => (pool ??= createForecastPool({ threads })).forecast(input, options),
    close: async () => {
      await pool?.close();
      pool = undefined;
    },
  };
}
