/**
 * Holiday and promotion effects: multiplicative, learnt from the series' own history as the ratio
 * of what sold on those periods to a local baseline (the same weekday one and two weeks either
 * side, on days that were neither holidays nor promotions), shrunk toward a prior when there are
 * few observations. The engine divides them out of the history before fitting a model and
 * multiplies them back on the horizon.
 */
import { dayNumber, monthDay, periodDays } from './periods.ts';
import type { Frequency, PromotionSpan } from './types.ts';

/**
 * Default promotion lift for an item with no promotion history: demand × (1 − discount)^−2, a
 * constant price elasticity of 2 (10% off → +23%, 20% off → +56%, 30% off → +104%), in the range
 * published for promoted grocery items. The history's own elasticity replaces it as evidence
 * grows: the prior counts as PROMOTION_PRIOR_DAYS days at 20% off.
 */
export const PROMOTION_PRIOR_ELASTICITY = 2;
export const PROMOTION_PRIOR_DAYS = 3;
/** A holiday's effect is neutral (×1) until observed; the prior counts as this many holidays. */
export const HOLIDAY_PRIOR_OBSERVATIONS = 3;
/** A recurring holiday (same month and day) shrinks toward all holidays' pooled effect. */
export const HOLIDAY_DATE_PRIOR_OBSERVATIONS = 1;

const MAX_DISCOUNT = 0.9;
const MIN_RATIO = 0.05;
const MAX_RATIO = 20;
const MIN_MULTIPLIER = 0.05;
const MAX_MULTIPLIER = 6;
const REFERENCE_EXPOSURE = -Math.log(1 - 0.2);

export interface PeriodCalendar {
  /** 1 when the period holds a public holiday. */
  holiday: Uint8Array;
  /** Daily series: the holiday's month and day, under which a fixed-date holiday recurs. */
  holidayKey: Array<string | null>;
  /**
   * Promotion pressure: the mean over the period's days of −ln(1 − discount) of the deepest
   * promotion that day (0 without one). Lift = exp(elasticity × exposure) = (1 − d)^−elasticity.
   */
  promotion: Float64Array;
}

export function buildCalendar(
  startDay: number,
  frequency: Frequency,
  periods: number,
  holidays: ReadonlyArray<string>,
  promotions: ReadonlyArray<PromotionSpan>,
): PeriodCalendar {
  const days = periodDays(frequency);
  const holiday = new Uint8Array(periods);
  const holidayKey: Array<string | null> = new Array<string | null>(periods).fill(null);
  const promotion = new Float64Array(periods);
  const end = startDay + periods * days;
  for (const date of holidays) {
    const day = dayNumber(date);
    if (day < startDay || day >= end) continue;
    const t = Math.floor((day - startDay) / days);
    holiday[t] = 1;
    if (frequency === 'daily') holidayKey[t] = monthDay(day);
  }
  if (promotions.length > 0) {
    const dailyExposure = new Float64Array(periods * days);
    for (const span of promotions) {
      const discount = Math.min(Math.max(span.discount, 0), MAX_DISCOUNT);
      const exposure = -Math.log(1 - discount);
      const from = Math.max(dayNumber(span.from), startDay);
      const to = Math.min(dayNumber(span.to), end - 1);
      for (let day = from; day <= to; day++) {
        const i = day - startDay;
        if (exposure > dailyExposure[i]!) dailyExposure[i] = exposure;
      }
    }
    for (let t = 0; t < periods; t++) {
      let sum = 0;
      for (let d = 0; d < days; d++) sum += dailyExposure[t * days + d]!;
      promotion[t] = sum / days;
    }
  }
  return { holiday, holidayKey, promotion };
}

export interface CalendarEffects {
  /** Multiplier on a holiday with no history of its own date. */
  holiday: number;
  holidayByDate: Map<string, number>;
  /** Exponent of the promotion lift: lift = exp(elasticity × exposure). */
  promotionElasticity: number;
  holidaysObserved: number;
  promotionPeriodsObserved: number;
}

export const NEUTRAL_EFFECTS: CalendarEffects = {
  holiday: 1,
  holidayByDate: new Map(),
  promotionElasticity: PROMOTION_PRIOR_ELASTICITY,
  holidaysObserved: 0,
  promotionPeriodsObserved: 0,
};

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * Learns the effects from the first `length` periods of `values`. `neighbourStep` is the distance
 * to the periods that make a period's baseline (7 for daily data: the same weekday).
 */
export function estimateCalendarEffects(
  values: ArrayLike<number | null>,
  length: number,
  calendar: PeriodCalendar,
  neighbourStep: number,
): CalendarEffects {
  const isEvent = (t: number) => calendar.holiday[t] === 1 || calendar.promotion[t]! > 0;
  const baseline = (t: number): number | null => {
    let sum = 0;
    let count = 0;
    for (const offset of [-2, -1, 1, 2]) {
      const s = t + offset * neighbourStep;
      if (s < 0 || s >= length || isEvent(s)) continue;
      const value = values[s];
      if (value == null) continue;
      sum += value;
      count++;
    }
    return count > 0 ? sum / count : null;
  };

  // Holidays: pooled, and per recurring date. Promotions: by discount level (exposure rounded),
  // each group's ratio of sums, so a slow mover's zero days do not make a log of zero.
  let holidayActual = 0;
  let holidayBase = 0;
  let holidaysObserved = 0;
  const byDate = new Map<string, { actual: number; base: number; count: number }>();
  const byExposure = new Map<number, { actual: number; base: number; count: number; exposure: number }>();
  for (let t = 0; t < length; t++) {
    const value = values[t];
    if (value == null || !isEvent(t)) continue;
    const base = baseline(t);
    if (base == null) continue;
    if (calendar.holiday[t] === 1) {
      if (calendar.promotion[t]! > 0) continue; // both at once: neither effect can be read off
      holidayActual += value;
      holidayBase += base;
      holidaysObserved++;
      const key = calendar.holidayKey[t];
      if (key != null) {
        const group = byDate.get(key) ?? { actual: 0, base: 0, count: 0 };
        group.actual += value;
        group.base += base;
        group.count++;
        byDate.set(key, group);
      }
    } else {
      const key = Math.round(calendar.promotion[t]! * 100);
      const group = byExposure.get(key) ?? { actual: 0, base: 0, count: 0, exposure: 0 };
      group.actual += value;
      group.base += base;
      group.count++;
      group.exposure += calendar.promotion[t]!;
      byExposure.set(key, group);
    }
  }

  const logRatio = (actual: number, base: number) =>
    base > 0 ? Math.log(clamp(actual / base, MIN_RATIO, MAX_RATIO)) : actual > 0 ? Math.log(MAX_RATIO) : 0;

  const pooledLog =
    (holidaysObserved * logRatio(holidayActual, holidayBase)) /
    (holidaysObserved + HOLIDAY_PRIOR_OBSERVATIONS);
  const holidayByDate = new Map<string, number>();
  for (const [key, group] of byDate) {
    const log =
      (group.count * logRatio(group.actual, group.base) + HOLIDAY_DATE_PRIOR_OBSERVATIONS * pooledLog) /
      (group.count + HOLIDAY_DATE_PRIOR_OBSERVATIONS);
    holidayByDate.set(key, clamp(Math.exp(log), MIN_MULTIPLIER, MAX_MULTIPLIER));
  }

  // Elasticity: least squares through the origin of log ratio on exposure, with the prior as
  // PROMOTION_PRIOR_DAYS pseudo-observations at the reference exposure.
  const priorWeight = PROMOTION_PRIOR_DAYS * REFERENCE_EXPOSURE * REFERENCE_EXPOSURE;
  let numerator = priorWeight * PROMOTION_PRIOR_ELASTICITY;
  let denominator = priorWeight;
  let promotionPeriodsObserved = 0;
  for (const group of byExposure.values()) {
    const exposure = group.exposure / group.count;
    numerator += group.count * exposure * logRatio(group.actual, group.base);
    denominator += group.count * exposure * exposure;
    promotionPeriodsObserved += group.count;
  }

  return {
    holiday: clamp(Math.exp(pooledLog), MIN_MULTIPLIER, MAX_MULTIPLIER),
    holidayByDate,
    promotionElasticity: numerator / denominator,
    holidaysObserved,
    promotionPeriodsObserved,
  };
}

export function holidayMultiplier(effects: CalendarEffects, calendar: PeriodCalendar, t: number): number {
  if (calendar.holiday[t] !== 1) return 1;
  const key = calendar.holidayKey[t];
  return (key != null ? effects.holidayByDate.get(key) : undefined) ?? effects.holiday;
}

export function promotionMultiplier(effects: CalendarEffects, calendar: PeriodCalendar, t: number): number {
  const exposure = calendar.promotion[t]!;
  if (exposure === 0) return 1;
  return clamp(Math.exp(effects.promotionElasticity * exposure), MIN_MULTIPLIER, MAX_MULTIPLIER);
}
