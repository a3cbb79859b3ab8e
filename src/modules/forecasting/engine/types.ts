/**
 * The forecasting engine's contract: pure functions from a demand series to a forecast with
 * intervals and backtest accuracy. The API (forecasting.service.ts), the nightly job, the
 * `forecast:csv` and `eval:forecast` tools all call the same engine, so what the evaluation
 * measures is what the store gets.
 */

export type Frequency = 'daily' | 'weekly';

/** A promotion in force over a range of periods (dates inclusive, ISO yyyy-mm-dd). */
export interface PromotionSpan {
  from: string;
  to: string;
  /** Price reduction as a fraction of the regular price, 0 < discount <= 1. */
  discount: number;
}

export interface SeriesInput {
  /** The first period's date (ISO yyyy-mm-dd). Weekly series: the first day of that week. */
  start: string;
  frequency: Frequency;
  /**
   * One value per consecutive period from `start`. `null` = demand unknown: a stock-out day
   * (censored: demand was at least what sold, so it is not a zero) or a missing period.
   */
  values: ReadonlyArray<number | null>;
  /** Store-local public holidays (ISO dates) covering the history and the horizon. */
  holidays?: ReadonlyArray<string>;
  /** Promotions covering the history and the horizon. */
  promotions?: ReadonlyArray<PromotionSpan>;
  /** Model weekly / yearly seasonality (default true). False: trend and level only. */
  includeSeasonality?: boolean;
  /** Learn and apply promotion effects (default true). */
  includePromotions?: boolean;
}

export interface ForecastOptions {
  /** Periods to forecast after the last one in `values` (1–366). */
  horizon: number;
  /**
   * The methods to backtest and choose from (default: seasonal_naive, tsb, mstl_ets). The
   * evaluation passes ['seasonal_naive'] to score the baseline through the same code.
   */
  candidates?: ForecastMethod[];
}

export type FactorName = 'weekday' | 'season' | 'trend' | 'holiday' | 'promotion';

/**
 * A factor's share of the day's forecast: `impact` is the multiplicative effect minus one
 * (+0.25 = the factor raises demand by 25% on that day; -0.1 lowers it by 10%).
 *
 * - weekday (daily series with seasonality): that weekday's mean over the mean of all days, in
 *   the model's recent window (holidays, promotions and the yearly profile taken out).
 * - season: the yearly profile's multiplier for the date (0 without two years of history).
 * - trend: the forecast with weekday, season, holiday and promotion taken out, over the mean of
 *   the last 28 days (4 weeks for weekly series) on the same footing: where the model takes the
 *   level.
 * - holiday, promotion: the multipliers learnt from the series' history (or their priors).
 * The mean is, up to the model's own noise, the recent level × (1 + each impact).
 */
export interface ForecastFactor {
  name: FactorName;
  impact: number;
}

export interface ForecastPoint {
  date: string;
  /** Expected demand (units), never negative. */
  mean: number;
  /** Standard deviation of the forecast error for this period (from the backtest). */
  sd: number;
  /** Central prediction intervals holding 80% and 95% of the probability mass. */
  lo80: number;
  hi80: number;
  lo95: number;
  hi95: number;
  factors: ForecastFactor[];
}

export type ForecastMethod =
  /** Too little history: the mean of what there is (or zero), with wide intervals. */
  | 'mean'
  /** Each period repeats the same period one season ago (a week for daily data). */
  | 'seasonal_naive'
  /** MSTL decomposition (weekly, and yearly when two years are there) with an AutoETS trend. */
  | 'mstl_ets'
  /** Teunter–Syntetos–Babai: intermittent demand as probability × size, for slow movers. */
  | 'tsb';

/** Backtest accuracy: rolling origins over the end of the history, never in-sample fit. */
export interface ForecastAccuracy {
  /** Mean absolute percentage error over periods with sales, in percent; null when none had any. */
  mape: number | null;
  rmse: number;
  /** MAE / MAE of weekly seasonal naive on the same held-out periods; null without a baseline. */
  mase: number | null;
  /** Mean of (forecast − actual): positive = over-forecasting. */
  bias: number;
  /** Rolling origins and periods per origin the scores come from, and the periods scored. */
  origins: number;
  horizon: number;
  points: number;
}

export interface CandidateScore {
  method: ForecastMethod;
  mase: number | null;
  rmse: number;
}

export interface SeriesForecast {
  method: ForecastMethod;
  /** In words: why this method ("lowest backtest error of 3 candidates", "only 9 days of sales"). */
  methodReason: string;
  /** Periods of history used (censored periods included). */
  historyPeriods: number;
  /** True when there was too little history to backtest, and `mean` was used. */
  insufficientHistory: boolean;
  frequency: Frequency;
  candidates: CandidateScore[];
  accuracy: ForecastAccuracy | null;
  points: ForecastPoint[];
}
