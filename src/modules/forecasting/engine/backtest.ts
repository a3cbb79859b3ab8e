/**
 * Rolling-origin backtest: the history is cut at a few origins near its end, each candidate is
 * fitted on what came before an origin and scored on the periods after it. Accuracy, model
 * choice and interval widths all come from these out-of-sample errors.
 */
import type { ForecastMethod, Frequency } from './types.ts';

export const BACKTEST_ORIGINS = 3;
/** Periods scored per origin at most (a daily 4 weeks, a weekly quarter). */
const MAX_BACKTEST_HORIZON: Record<Frequency, number> = { daily: 28, weekly: 13 };
/** Periods a model needs before the first origin (three weeks of days; two months of weeks). */
export const MIN_FIT_PERIODS: Record<Frequency, number> = { daily: 21, weekly: 8 };
/**
 * A candidate within this share of the best RMSE counts as a tie, and the simplest of the tied
 * wins: its forecast is easier to trust and a small backtest difference is mostly noise.
 */
export const NEAR_TIE = 0.02;
/** Simplest first. */
export const SIMPLICITY: ForecastMethod[] = ['mean', 'seasonal_naive', 'tsb', 'mstl_ets'];

export interface BacktestPlan {
  /** History lengths at which forecasts are made, earliest first. */
  origins: number[];
  /** Periods scored after each origin. */
  horizon: number;
}

/** Null when the history is too short to hold anything out. */
export function planBacktest(length: number, horizon: number, frequency: Frequency): BacktestPlan | null {
  const perOrigin = Math.min(
    horizon,
    MAX_BACKTEST_HORIZON[frequency],
    Math.floor((length - MIN_FIT_PERIODS[frequency]) / BACKTEST_ORIGINS),
  );
  if (perOrigin < 1) return null;
  const origins: number[] = [];
  for (let k = BACKTEST_ORIGINS; k >= 1; k--) origins.push(length - k * perOrigin);
  return { origins, horizon: perOrigin };
}

export interface ScoredPoint {
  actual: number;
  forecast: number;
  /** The plain seasonal-naive forecast of the same period, when the history had one. */
  baseline: number | null;
}

export interface Scores {
  mae: number;
  rmse: number;
  /** MAE over the baseline's MAE on the periods both forecast. */
  mase: number | null;
  mape: number | null;
  bias: number;
  points: number;
}

export function score(points: ReadonlyArray<ScoredPoint>): Scores {
  let absolute = 0;
  let squared = 0;
  let signed = 0;
  let percent = 0;
  let withSales = 0;
  let modelOnBaseline = 0;
  let baselineAbsolute = 0;
  for (const { actual, forecast, baseline } of points) {
    const error = forecast - actual;
    absolute += Math.abs(error);
    squared += error * error;
    signed += error;
    if (actual > 0) {
      percent += Math.abs(error) / actual;
      withSales++;
    }
    if (baseline != null) {
      modelOnBaseline += Math.abs(error);
      baselineAbsolute += Math.abs(baseline - actual);
    }
  }
  const n = points.length;
  return {
    mae: n > 0 ? absolute / n : 0,
    rmse: n > 0 ? Math.sqrt(squared / n) : 0,
    mase: baselineAbsolute > 0 ? modelOnBaseline / baselineAbsolute : null,
    mape: withSales > 0 ? (100 * percent) / withSales : null,
    bias: n > 0 ? signed / n : 0,
    points: n,
  };
}

/**
 * The candidate with the lowest RMSE, or the simplest within NEAR_TIE of it. RMSE rather than MAE
 * because the reorder policy wants the mean: on a slow mover MAE rewards forecasting zero.
 */
export function choose(candidates: ReadonlyArray<{ method: ForecastMethod; scores: Scores }>): {
  method: ForecastMethod;
  scores: Scores;
  tie: boolean;
} {
  const best = Math.min(...candidates.map((c) => c.scores.rmse));
  const tied = candidates
    .filter((c) => c.scores.rmse <= best * (1 + NEAR_TIE) + 1e-12)
    .sort((a, b) => SIMPLICITY.indexOf(a.method) - SIMPLICITY.indexOf(b.method));
  const chosen = tied[0]!;
  return { ...chosen, tie: chosen.scores.rmse > best };
}
