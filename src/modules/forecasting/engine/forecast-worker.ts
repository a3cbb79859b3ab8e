/** A worker thread of the forecast pool (pool.ts): runs forecastSeries on what it is handed. */
import { forecastSeries } from './forecast.ts';
import type { ForecastOptions, SeriesForecast, SeriesInput } from './types.ts';

export interface ForecastTask {
  input: SeriesInput;
  options: ForecastOptions;
}

export default function run({ input, options }: ForecastTask): SeriesForecast {
  return forecastSeries(input, options);
}
