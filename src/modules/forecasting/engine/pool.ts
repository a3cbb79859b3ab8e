/**
 * A worker-thread pool for forecasting many series (the nightly refresh, `forecast:csv`): each
 * forecast is CPU-bound WebAssembly and JavaScript for ~20 ms, so the event loop hands them to
 * threads and stays free for the database work around them.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { ForecastTask } from './forecast-worker.ts';
import type { ForecastOptions, SeriesForecast, SeriesInput } from './types.ts';

export interface ForecastPool {
  forecast(input: SeriesInput, options: ForecastOptions): Promise<SeriesForecast>;
  close(): Promise<void>;
}

/**
 * The worker is forecast-worker.ts under src (tests, `node src/...`: Node strips the types) and
 * forecast-worker.js under dist (the build): the same extension as this file.
 */
const workerFile = (() => {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `forecast-worker${path.extname(here)}`);
})();

export function createForecastPool(options: { threads?: number } = {}): ForecastPool {
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const piscina = new Piscina<ForecastTask, SeriesForecast>({
    filename: workerFile,
    minThreads: threads,
    maxThreads: threads,
    // Callers bound what they queue (the CSV tool keeps a few series per thread in flight).
  });
  return {
    forecast: (input, forecastOptions) => piscina.run({ input, options: forecastOptions }),
    close: () => piscina.close(),
  };
}
