import { cumulativeStdNormalProbability, probit } from 'simple-statistics';

/**
 * Reorder policy from a daily forecast: a periodic-review (R, s, S) policy where the order
 * decision is made every `reviewPeriodDays` and a delivery takes `leadTimeDays`.
 *
 * - Reorder point s = expected demand over the lead time + z·σ over the lead time: at or below
 *   it, stock on hand and on order will not cover demand until an order placed now arrives.
 * - Order-up-to level S = expected demand over lead time + review period + z·σ over that span:
 *   what on hand + on order should reach after ordering, to last until the next order arrives.
 * - Safety stock = z·σ over lead time + review period, z the target service level's quantile
 *   (the probability of not running out in a cycle, assuming normal forecast errors).
 * - Shelf life caps S: stock ordered now must sell before it expires. At delivery the stock is
 *   S minus what sold during the lead time, and that must sell within the shelf life, so
 *   S ≤ expected demand over lead time + shelf life. When the cap binds, the service level the
 *   capped S still gives is reported (`achievedServiceLevel`): a short-lived item is better
 *   occasionally sold out than thrown away every week.
 *
 * σ over a span is √(Σ σ²) of the days in it: the errors of separate days are taken as
 * independent. A level error shared by all days would make it larger; the backtest intervals
 * the σ come from already include the level errors seen at each horizon step.
 */
export interface DailyDemand {
  mean: number;
  sd: number;
}

export interface ReorderPolicyInput {
  /** The daily forecast from tomorrow on. */
  points: ReadonlyArray<DailyDemand>;
  leadTimeDays: number;
  reviewPeriodDays: number;
  /** Target probability of not running out within a replenishment cycle, 0.5–0.999. */
  serviceLevel: number;
  shelfLifeDays: number | null;
}

export interface ReorderPolicy {
  reorderPoint: number;
  orderUpTo: number;
  safetyStock: number;
  /** Expected demand over the lead time and over lead time + review period. */
  leadTimeDemand: number;
  cycleDemand: number;
  serviceLevel: number;
  /** The service level S gives once capped by shelf life (= serviceLevel when not capped). */
  achievedServiceLevel: number;
  leadTimeDays: number;
  reviewPeriodDays: number;
  shelfLifeDays: number | null;
  cappedByShelfLife: boolean;
  /** Most stock worth holding: expected demand over lead time + shelf life; null without a shelf life. */
  shelfLifeCap: number | null;
}

/**
 * Expected demand and its σ over `days` days starting `fromDay` days after tomorrow (fractions of
 * a day count pro rata). Days past the forecast repeat the forecast's last seven days, so a
 * 28-day forecast still answers for a 45-day lead time plus review period.
 */
export function demandOver(points: ReadonlyArray<DailyDemand>, fromDay: number, days: number): DailyDemand {
  if (days <= 0 || points.length === 0) return { mean: 0, sd: 0 };
  const tail = points.slice(-Math.min(7, points.length));
  const dayAt = (index: number) =>
    index < points.length ? points[index]! : tail[(index - points.length) % tail.length]!;
  let mean = 0;
  let variance = 0;
  const end = fromDay + days;
  for (let index = Math.floor(fromDay); index < Math.ceil(end); index++) {
    const share = Math.min(end, index + 1) - Math.max(fromDay, index);
    if (share <= 0) continue;
    const day = dayAt(index);
    mean += share * day.mean;
    variance += share * day.sd * day.sd;
  }
  return { mean, sd: Math.sqrt(variance) };
}

const round = (value: number, places = 3) => Math.round(value * 10 ** places) / 10 ** places;

export function reorderPolicy(input: ReorderPolicyInput): ReorderPolicy {
  const serviceLevel = Math.min(0.999, Math.max(0.5, input.serviceLevel));
  const z = probit(serviceLevel);
  const lead = demandOver(input.points, 0, input.leadTimeDays);
  const cycle = demandOver(input.points, 0, input.leadTimeDays + input.reviewPeriodDays);
  const reorderPoint = lead.mean + z * lead.sd;
  let orderUpTo = Math.max(reorderPoint, cycle.mean + z * cycle.sd);
  let achievedServiceLevel = serviceLevel;
  let shelfLifeCap: number | null = null;
  let cappedByShelfLife = false;
  if (input.shelfLifeDays !== null && input.shelfLifeDays > 0) {
    shelfLifeCap = demandOver(input.points, 0, input.leadTimeDays + input.shelfLifeDays).mean;
    if (orderUpTo > shelfLifeCap) {
      orderUpTo = shelfLifeCap;
      cappedByShelfLife = true;
      achievedServiceLevel =
        cycle.sd > 0
          ? cumulativeStdNormalProbability((orderUpTo - cycle.mean) / cycle.sd)
          : orderUpTo >= cycle.mean
            ? 1
            : 0;
    }
  }
  return {
    reorderPoint: round(Math.min(reorderPoint, orderUpTo)),
    orderUpTo: round(orderUpTo),
    safetyStock: round(Math.max(0, orderUpTo - cycle.mean)),
    leadTimeDemand: round(lead.mean),
    cycleDemand: round(cycle.mean),
    serviceLevel,
    achievedServiceLevel: round(achievedServiceLevel, 4),
    leadTimeDays: input.leadTimeDays,
    reviewPeriodDays: input.reviewPeriodDays,
    shelfLifeDays: input.shelfLifeDays,
    cappedByShelfLife,
    shelfLifeCap: shelfLifeCap === null ? null : round(shelfLifeCap),
  };
}
