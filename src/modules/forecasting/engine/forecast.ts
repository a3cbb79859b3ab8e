/**
 * forecastSeries: one demand series in, a forecast with calibrated intervals, factors and
 * backtest accuracy out. Pure and synchronous; the API, the nightly job (through pool.ts) and the
 * CSV tools all call it.
 *
 * Steps: learn holiday and promotion effects and divide them out; impute censored (null) periods
 * from the same weekday around them; fit and divide out a yearly profile when there are two years;
 * backtest the candidates at rolling origins on that cleaned history (each origin re-learns all
 * of the above from its own past only); choose the best by RMSE, preferring the simpler on a near
 * tie; refit it on the whole history; multiply the effects back on the horizon; size the
 * intervals from the chosen model's backtest errors.
 */
import {
  BACKTEST_ORIGINS,
  MIN_FIT_PERIODS,
  NEAR_TIE,
  choose,
  planBacktest,
  score,
  type ScoredPoint,
  type Scores,
} from './backtest.ts';
import {
  NEUTRAL_EFFECTS,
  buildCalendar,
  estimateCalendarEffects,
  holidayMultiplier,
  promotionMultiplier,
  type CalendarEffects,
  type PeriodCalendar,
} from './calendar-effects.ts';
import { errorSd, fitErrorScale, predictiveInterval, type StepError } from './intervals.ts';
import { mstlEts, seasonalNaive, tsb } from './models.ts';
import { dayNumber, isoDate, periodDays } from './periods.ts';
import { estimateYearly, weekdayProfile } from './seasonality.ts';
import type {
  CandidateScore,
  ForecastFactor,
  ForecastMethod,
  ForecastOptions,
  ForecastPoint,
  Frequency,
  SeriesForecast,
  SeriesInput,
} from './types.ts';

/**
 * Models fit the most recent periods only: half a year of days (the weekday pattern and the
 * current level and trend; the yearly shape is fitted on all of it separately), three years of
 * weeks. On the store-item set and on generated series a 182-day window scored as well as 365
 * days in about a third of the time; 112 days scored worse (docs/forecasting.md).
 */
export const MODEL_WINDOW: Record<Frequency, number> = { daily: 182, weekly: 156 };
/** Below this many periods there is nothing to backtest on: the `mean` method answers. */
export const MIN_HISTORY: Record<Frequency, number> = { daily: 28, weekly: 13 };
/** A yearly profile needs (nearly) two years of history. */
const YEARLY_MIN_DAYS = 700;
const DEFAULT_CANDIDATES: ForecastMethod[] = ['seasonal_naive', 'tsb', 'mstl_ets'];
/** Periods whose mean is the "current level" the trend factor is measured against. */
const LEVEL_WINDOW: Record<Frequency, number> = { daily: 28, weekly: 4 };
/** The mean method's intervals: its variance is inflated this much (no backtest to size it). */
const INSUFFICIENT_VARIANCE_FACTOR = 2;
const MAX_HORIZON = 366;

interface Context {
  frequency: Frequency;
  days: number;
  startDay: number;
  seasonal: boolean;
  calendar: PeriodCalendar;
  useYearly: boolean;
  /** Every known value is a whole number: intervals are negative binomial. */
  counts: boolean;
  /** Distance to the periods that resemble this one (the same weekday for daily data). */
  neighbourStep: number;
}

interface Prepared {
  length: number;
  /** The history with effects divided out and censored periods imputed. */
  adjusted: Float64Array;
  calendarMultiplier: Float64Array;
  yearlyMultiplier: Float64Array;
  effects: CalendarEffects;
}

export function forecastSeries(input: SeriesInput, options: ForecastOptions): SeriesForecast {
  const horizon = options.horizon;
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > MAX_HORIZON) {
    throw new RangeError(`horizon must be a whole number from 1 to ${MAX_HORIZON}, not ${horizon}`);
  }
  const values = input.values;
  let known = 0;
  let counts = true;
  for (const value of values) {
    if (value == null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`values must be finite numbers or null, not ${String(value)}`);
    }
    known++;
    if (!Number.isInteger(value)) counts = false;
  }
  const frequency = input.frequency;
  const days = periodDays(frequency);
  const startDay = dayNumber(input.start);
  const seasonal = input.includeSeasonality ?? true;
  const n = values.length;
  const ctx: Context = {
    frequency,
    days,
    startDay,
    seasonal,
    calendar: buildCalendar(
      startDay,
      frequency,
      n + horizon,
      input.holidays ?? [],
      (input.includePromotions ?? true) ? (input.promotions ?? []) : [],
    ),
    useYearly: seasonal && n * days >= YEARLY_MIN_DAYS,
    counts,
    neighbourStep: frequency === 'daily' ? 7 : 1,
  };

  const plan = n >= MIN_HISTORY[frequency] ? planBacktest(n, horizon, frequency) : null;
  if (!plan || known < MIN_FIT_PERIODS[frequency]) return meanForecast(values, horizon, known, ctx);

  const candidates = options.candidates?.length ? [...new Set(options.candidates)] : DEFAULT_CANDIDATES;
  const runs = new Map<ForecastMethod, { points: ScoredPoint[]; errors: StepError[] } | null>(
    candidates.map((method) => [method, { points: [], errors: [] }]),
  );
  for (const origin of plan.origins) {
    const prepared = prepare(values, origin, plan.horizon, ctx);
    const baseline = seasonalNaiveBaseline(values, origin, plan.horizon, ctx);
    for (const method of candidates) {
      const run = runs.get(method);
      if (!run) continue;
      const adjusted = runModel(method, prepared, plan.horizon, ctx);
      if (!adjusted) {
        runs.set(method, null);
        continue;
      }
      for (let j = 0; j < plan.horizon; j++) {
        const actual = values[origin + j];
        if (actual == null) continue; // censored: demand unknown, not scored
        const multiplier = prepared.calendarMultiplier[origin + j]! * prepared.yearlyMultiplier[origin + j]!;
        const forecast = Math.max(0, adjusted[j]! * multiplier);
        run.points.push({ actual, forecast, baseline: baseline[j]! });
        const errorScale = errorMultiplier(prepared, origin + j);
        run.errors.push({ step: j + 1, error: errorScale > 0 ? (actual - forecast) / errorScale : 0 });
      }
    }
  }
  const scored: Array<{ method: ForecastMethod; scores: Scores; errors: StepError[] }> = [];
  for (const [method, run] of runs)
    if (run) scored.push({ method, scores: score(run.points), errors: run.errors });
  if (scored.length === 0) return meanForecast(values, horizon, known, ctx);

  const chosen = choose(scored);
  const chosenErrors = scored.find((c) => c.method === chosen.method)!.errors;
  const prepared = prepare(values, n, horizon, ctx);
  const adjusted = runModel(chosen.method, prepared, horizon, ctx);
  if (!adjusted) return meanForecast(values, horizon, known, ctx);
  const scale = fitErrorScale(chosenErrors);
  const sdAt = (step: number) => errorSd(scale, step);

  const best = scored.reduce((a, b) => (b.scores.rmse < a.scores.rmse ? b : a));
  const unit = frequency === 'daily' ? 'days' : 'weeks';
  const where = `${plan.origins.length} rolling origins × ${plan.horizon} ${unit}`;
  const methodReason =
    chosen.scores.points === 0
      ? `no known sales in the backtest periods (${where}): the simplest candidate`
      : chosen.tie
        ? `within ${NEAR_TIE * 100}% of the best backtest RMSE (${best.method}) and simpler, ${where}`
        : scored.length === 1
          ? `the only candidate requested, backtested over ${where}`
          : `lowest backtest RMSE of ${scored.length} candidates over ${where}`;

  return {
    method: chosen.method,
    methodReason,
    historyPeriods: n,
    insufficientHistory: false,
    frequency,
    candidates: scored.map(({ method, scores }): CandidateScore => ({
      method,
      mase: scores.mase,
      rmse: scores.rmse,
    })),
    accuracy:
      chosen.scores.points > 0
        ? {
            mape: chosen.scores.mape,
            rmse: chosen.scores.rmse,
            mase: chosen.scores.mase,
            bias: chosen.scores.bias,
            origins: plan.origins.length,
            horizon: plan.horizon,
            points: chosen.scores.points,
          }
        : null,
    points: horizonPoints(prepared, adjusted, horizon, sdAt, ctx, chosen.method !== 'tsb'),
  };
}

function prepare(
  values: ReadonlyArray<number | null>,
  length: number,
  horizon: number,
  ctx: Context,
  useYearly = ctx.useYearly,
): Prepared {
  const effects =
    length > 0 ? estimateCalendarEffects(values, length, ctx.calendar, ctx.neighbourStep) : NEUTRAL_EFFECTS;
  const total = length + horizon;
  const calendarMultiplier = new Float64Array(total);
  for (let t = 0; t < total; t++) {
    calendarMultiplier[t] =
      holidayMultiplier(effects, ctx.calendar, t) * promotionMultiplier(effects, ctx.calendar, t);
  }
  const adjusted = new Float64Array(length);
  for (let t = 0; t < length; t++) {
    const value = values[t];
    adjusted[t] = value == null ? NaN : value / calendarMultiplier[t]!;
  }
  imputeCensored(adjusted, ctx.neighbourStep);
  const yearlyMultiplier = new Float64Array(total).fill(1);
  if (useYearly) {
    const profile = estimateYearly(adjusted, length, (i) => ctx.startDay + i * ctx.days, ctx.days);
    if (profile) {
      for (let t = 0; t < total; t++) yearlyMultiplier[t] = profile.at(ctx.startDay + t * ctx.days);
      for (let t = 0; t < length; t++) adjusted[t]! /= yearlyMultiplier[t]!;
    }
  }
  return { length, adjusted, calendarMultiplier, yearlyMultiplier, effects };
}

/**
 * Censored periods (NaN here) take the mean of the known values one and two seasons either side
 * (the same weekday), else of the nearest known week, else of everything known: a stock-out day
 * is imputed at the demand the days like it had, never at zero.
 */
export function imputeCensored(series: Float64Array, step: number): void {
  const n = series.length;
  let knownSum = 0;
  let knownCount = 0;
  for (let t = 0; t < n; t++) {
    if (!Number.isNaN(series[t]!)) {
      knownSum += series[t]!;
      knownCount++;
    }
  }
  if (knownCount === n) return;
  const overall = knownCount > 0 ? knownSum / knownCount : 0;
  const fills: Array<[number, number]> = [];
  for (let t = 0; t < n; t++) {
    if (!Number.isNaN(series[t]!)) continue;
    let sum = 0;
    let count = 0;
    for (const offset of [-2, -1, 1, 2]) {
      const value = series[t + offset * step];
      if (value !== undefined && !Number.isNaN(value)) {
        sum += value;
        count++;
      }
    }
    for (let distance = 1; count === 0 && distance <= 14; distance++) {
      for (const s of [t - distance, t + distance]) {
        const value = series[s];
        if (value !== undefined && !Number.isNaN(value)) {
          sum += value;
          count++;
        }
      }
    }
    fills.push([t, count > 0 ? sum / count : overall]);
  }
  for (const [t, value] of fills) series[t] = value;
}

/**
 * How the error spread scales with the period's multipliers: fully with holiday and promotion
 * effects (their size is itself uncertain), with the square root of the yearly profile (count
 * noise grows as the square root of the mean: in a low season the errors shrink less than the
 * mean does).
 */
function errorMultiplier(prepared: Prepared, t: number): number {
  return prepared.calendarMultiplier[t]! * Math.sqrt(prepared.yearlyMultiplier[t]!);
}

function seasonalPeriod(ctx: Context, length: number): number {
  if (!ctx.seasonal) return 1;
  if (ctx.frequency === 'daily') return 7;
  return length >= 104 ? 52 : 1;
}

/** Forecasts on the adjusted scale, or null when the model could not be fitted. */
function runModel(
  method: ForecastMethod,
  prepared: Prepared,
  horizon: number,
  ctx: Context,
): Float64Array | null {
  const { adjusted, length } = prepared;
  const window = adjusted.subarray(Math.max(0, length - MODEL_WINDOW[ctx.frequency]));
  try {
    switch (method) {
      case 'seasonal_naive':
        return seasonalNaive(adjusted, seasonalPeriod(ctx, length), horizon);
      case 'tsb':
        return tsb(window, horizon);
      case 'mstl_ets':
        return mstlEts(window, ctx.seasonal && ctx.frequency === 'daily' ? [7] : [], horizon);
      case 'mean': {
        let sum = 0;
        for (const value of window) sum += value;
        return new Float64Array(horizon).fill(window.length > 0 ? sum / window.length : 0);
      }
    }
  } catch {
    // augurs refuses some degenerate windows (e.g. constant ones); the other candidates remain.
    return null;
  }
}

/**
 * The benchmark MASE is measured against: weekly seasonal naive on the raw history (a week back
 * for daily data; a year back for weekly data with two years, else the last week), stepping a
 * further season back over censored periods.
 */
function seasonalNaiveBaseline(
  values: ReadonlyArray<number | null>,
  length: number,
  horizon: number,
  ctx: Context,
): Array<number | null> {
  const period = ctx.frequency === 'daily' ? 7 : length >= 104 ? 52 : 1;
  const out: Array<number | null> = [];
  for (let j = 0; j < horizon; j++) {
    let s = length - period + (j % period);
    while (s >= 0 && values[s] == null) s -= period;
    out.push(s >= 0 ? values[s]! : null);
  }
  return out;
}

function horizonPoints(
  prepared: Prepared,
  adjusted: Float64Array,
  horizon: number,
  sdAt: (step: number) => number,
  ctx: Context,
  weekdayPattern: boolean,
): ForecastPoint[] {
  const { length } = prepared;
  const daily = ctx.frequency === 'daily';
  // Only the models that forecast a weekday pattern have a weekday factor (TSB and mean are flat).
  const weekday =
    daily && ctx.seasonal && weekdayPattern
      ? weekdayProfile(prepared.adjusted, length, MODEL_WINDOW.daily)
      : null;
  const levelFrom = Math.max(0, length - LEVEL_WINDOW[ctx.frequency]);
  let level = 0;
  for (let t = levelFrom; t < length; t++) level += prepared.adjusted[t]!;
  level = length > levelFrom ? level / (length - levelFrom) : 0;

  const points: ForecastPoint[] = [];
  for (let h = 0; h < horizon; h++) {
    const t = length + h;
    const holiday = holidayMultiplier(prepared.effects, ctx.calendar, t);
    const promotion = promotionMultiplier(prepared.effects, ctx.calendar, t);
    const season = prepared.yearlyMultiplier[t]!;
    const multiplier = prepared.calendarMultiplier[t]! * season;
    const mean = Math.max(0, adjusted[h]! * multiplier);
    const sd = sdAt(h + 1) * errorMultiplier(prepared, t);
    const interval = predictiveInterval(mean, sd, ctx.counts);
    const weekdayIndex = weekday ? weekday[t % 7]! : 1;
    const factors: ForecastFactor[] = [];
    if (weekday) factors.push({ name: 'weekday', impact: round(weekdayIndex - 1) });
    factors.push(
      { name: 'season', impact: round(season - 1) },
      {
        name: 'trend',
        impact:
          level > 0 && weekdayIndex > 0 ? round(Math.max(0, adjusted[h]!) / weekdayIndex / level - 1) : 0,
      },
      { name: 'holiday', impact: round(holiday - 1) },
      { name: 'promotion', impact: round(promotion - 1) },
    );
    points.push({
      date: isoDate(ctx.startDay + t * ctx.days),
      mean,
      sd,
      lo80: Math.min(interval.lo80, mean),
      hi80: Math.max(interval.hi80, mean),
      lo95: Math.min(interval.lo95, mean),
      hi95: Math.max(interval.hi95, mean),
      factors,
    });
  }
  return points;
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

/**
 * Too little history to backtest: the mean of the known periods (holiday and promotion effects
 * still divided out and applied, from their priors), with intervals from the periods' own spread,
 * at least Poisson, doubled.
 */
function meanForecast(
  values: ReadonlyArray<number | null>,
  horizon: number,
  known: number,
  ctx: Context,
): SeriesForecast {
  const n = values.length;
  const prepared = prepare(values, n, horizon, ctx, false);
  let sum = 0;
  let squares = 0;
  for (let t = 0; t < n; t++) {
    if (values[t] == null) continue;
    sum += prepared.adjusted[t]!;
    squares += prepared.adjusted[t]! ** 2;
  }
  const mean = known > 0 ? sum / known : 0;
  const variance = known > 1 ? (squares - known * mean * mean) / (known - 1) : mean;
  const sd = Math.sqrt(
    Math.max(variance, mean) * (1 + 1 / Math.max(1, known)) * INSUFFICIENT_VARIANCE_FACTOR,
  );
  const unit = ctx.frequency === 'daily' ? 'days' : 'weeks';
  const needed = Math.max(MIN_HISTORY[ctx.frequency], MIN_FIT_PERIODS[ctx.frequency] + BACKTEST_ORIGINS);
  const methodReason =
    known === 0
      ? `no known sales in ${n} ${unit} of history: forecasting zero`
      : n < needed
        ? `only ${n} ${unit} of history (${known} with known sales; ${needed} needed to backtest): the mean of those`
        : `only ${known} of ${n} ${unit} with known sales (${MIN_FIT_PERIODS[ctx.frequency]} needed to backtest): the mean of those`;
  const adjusted = new Float64Array(horizon).fill(mean);
  return {
    method: 'mean',
    methodReason,
    historyPeriods: n,
    insufficientHistory: true,
    frequency: ctx.frequency,
    candidates: [],
    accuracy: null,
    points: horizonPoints(prepared, adjusted, horizon, () => sd, ctx, false),
  };
}
