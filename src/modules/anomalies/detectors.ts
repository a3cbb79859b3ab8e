import { median, medianAbsoluteDeviation } from 'simple-statistics';
import type { AnomalySeverity } from '../../platform/db/schema.ts';

/**
 * The anomaly rules, pure: the repository gathers the figures, these decide. Every threshold is a
 * named constant here, documented in the API description (anomalies.schemas.ts).
 */

/** A robust band is median ± this many scaled MADs (≈ standard deviations for normal data). */
export const DEMAND_MAD_K = 3;
/** MAD × 1.4826 estimates σ for normal data. */
const MAD_SCALE = 1.4826;
/** Same-weekday days a baseline needs: fewer and the day is not judged. */
export const MIN_BASELINE_DAYS = 4;
/** A receipt's unit cost counts as an increase when above the median of earlier receipts by more than this share. */
export const COST_INCREASE_THRESHOLD = 0.1;
/** Earlier receipts with a unit cost needed before a cost is judged. */
export const COST_MIN_HISTORY = 3;
/** Damaged/spoiled waste movements from one vendor's lots needed in the window before it is judged. */
export const QUALITY_MIN_EVENTS = 3;
/** A vendor's recent waste share is unusual above max(this floor, QUALITY_RATE_FACTOR × its earlier share). */
export const QUALITY_RATE_FLOOR = 0.05;
export const QUALITY_RATE_FACTOR = 2;

const round = (value: number, places = 3) => Math.round(value * 10 ** places) / 10 ** places;

export interface DemandDay {
  /** Units sold that store day. */
  sold: number;
  /** The item was out of stock at the day's start or end: a low day is no drop then. */
  stockOut: boolean;
  /** The stored forecast for the day, when it covers it. */
  forecast?: { mean: number; sd: number; lo95: number; hi95: number } | undefined;
  /** Units sold on the same weekday in the weeks before (up to 8). */
  sameWeekday: readonly number[];
}

export interface DemandVerdict {
  type: 'demand_spike' | 'demand_drop';
  severity: AnomalySeverity;
  method: 'forecast_interval' | 'weekday_median_mad';
  expected: number;
  lower: number;
  upper: number;
  /** Distance from the expected value in σ (forecast) or scaled MADs (baseline). */
  score: number;
}

/**
 * A sales day outside the forecast's 95% interval, or, without a forecast for the day, outside the
 * same weekday's median ± 3 scaled MADs (robust to the odd outlier week). The spread never goes
 * below √median (Poisson-like counts) or 1 unit, so a very regular item is not flagged for one
 * unit more. Severity by the distance: under 3 σ low, under 5 medium, else high.
 */
export function judgeDemand(day: DemandDay): DemandVerdict | null {
  let expected: number;
  let lower: number;
  let upper: number;
  let spread: number;
  let method: DemandVerdict['method'];
  if (day.forecast) {
    ({ mean: expected, lo95: lower, hi95: upper } = day.forecast);
    spread = day.forecast.sd > 0 ? day.forecast.sd : Math.max(1, (upper - lower) / 3.92);
    method = 'forecast_interval';
  } else {
    if (day.sameWeekday.length < MIN_BASELINE_DAYS) return null;
    const values = [...day.sameWeekday];
    expected = median(values);
    spread = Math.max(MAD_SCALE * medianAbsoluteDeviation(values), Math.sqrt(expected), 1);
    lower = Math.max(0, expected - DEMAND_MAD_K * spread);
    upper = expected + DEMAND_MAD_K * spread;
    method = 'weekday_median_mad';
  }
  const spike = day.sold > upper;
  const drop = day.sold < lower && !day.stockOut;
  if (!spike && !drop) return null;
  const score = Math.abs(day.sold - expected) / spread;
  const severity: AnomalySeverity = score < 3 ? 'low' : score < 5 ? 'medium' : 'high';
  return {
    type: spike ? 'demand_spike' : 'demand_drop',
    severity,
    method,
    expected: round(expected),
    lower: round(lower),
    upper: round(upper),
    score: round(score, 2),
  };
}

export interface CostVerdict {
  severity: AnomalySeverity;
  median: number;
  increase: number;
}

/**
 * A unit cost (a receipt line's; invoices later through the same function) above the median of
 * the item's earlier costs by more than `threshold` (default 10%). Severity: up to 20% low, up to
 * 35% medium, else high.
 */
export function judgeCost(
  unitCost: number,
  earlierCosts: readonly number[],
  threshold = COST_INCREASE_THRESHOLD,
): CostVerdict | null {
  if (earlierCosts.length < COST_MIN_HISTORY) return null;
  const usual = median([...earlierCosts]);
  if (usual <= 0) return null;
  const increase = unitCost / usual - 1;
  if (increase <= threshold + 1e-12) return null;
  const severity: AnomalySeverity = increase <= 0.2 ? 'low' : increase <= 0.35 ? 'medium' : 'high';
  return { severity, median: round(usual, 4), increase: round(increase, 4) };
}

export interface QualityFigures {
  /** Damaged or spoiled units of this vendor's lots wasted in the window, and the movements. */
  recentWaste: number;
  recentEvents: number;
  /** Units received from the vendor in the window. */
  recentReceived: number;
  /** The same over the earlier period. */
  earlierWaste: number;
  earlierReceived: number;
}

export interface QualityVerdict {
  severity: AnomalySeverity;
  recentRate: number;
  earlierRate: number | null;
}

/**
 * Damaged/spoiled waste as a share of the units received from the vendor, recent window vs its
 * own earlier rate: unusual with at least QUALITY_MIN_EVENTS waste movements and a share above
 * max(5%, 2 × earlier). Severity by the recent share: under 10% low, under 25% medium, else high.
 */
export function judgeQuality(figures: QualityFigures): QualityVerdict | null {
  if (figures.recentEvents < QUALITY_MIN_EVENTS || figures.recentReceived <= 0) return null;
  const recentRate = figures.recentWaste / figures.recentReceived;
  const earlierRate = figures.earlierReceived > 0 ? figures.earlierWaste / figures.earlierReceived : null;
  const bar = Math.max(QUALITY_RATE_FLOOR, QUALITY_RATE_FACTOR * (earlierRate ?? 0));
  if (recentRate <= bar) return null;
  const severity: AnomalySeverity = recentRate < 0.1 ? 'low' : recentRate < 0.25 ? 'medium' : 'high';
  return {
    severity,
    recentRate: round(recentRate, 4),
    earlierRate: earlierRate === null ? null : round(earlierRate, 4),
  };
}

const percent = (share: number) => `${round(share * 100, 1)}%`;

export function describeDemand(itemName: string, day: string, sold: number, verdict: DemandVerdict) {
  const against =
    verdict.method === 'forecast_interval'
      ? `the forecast's 95% interval ${verdict.lower}–${verdict.upper} (expected ${verdict.expected})`
      : `the usual ${verdict.lower}–${verdict.upper} for that weekday (median ${verdict.expected})`;
  if (verdict.type === 'demand_spike')
    return {
      description: `${itemName} sold ${sold} on ${day}, above ${against}.`,
      suggestedActions: [
        'Check stock and open orders: the spike may empty the shelf before the next delivery',
        'Look for a cause (promotion, event, weather, a competitor out of stock) and record a promotion if there was one',
        'Consider ordering more if the higher demand continues',
      ],
    };
  return {
    description: `${itemName} sold ${sold} on ${day}, below ${against}, with stock on the shelf.`,
    suggestedActions: [
      'Check the item is on display, priced and scanning correctly',
      'Check for quality complaints or a competing promotion',
      'Reduce the next order if demand stays low, to avoid waste',
    ],
  };
}

export function describeCost(
  itemName: string,
  vendorName: string | null,
  unitCost: number,
  verdict: CostVerdict,
) {
  return {
    description: `${itemName} was received at ${unitCost} a unit${vendorName ? ` from ${vendorName}` : ''}, ${percent(verdict.increase)} above its usual ${verdict.median}.`,
    suggestedActions: [
      'Check the receipt or invoice against the agreed price',
      'Ask the vendor about the increase, or compare other vendors for this item',
      "Review the item's retail price and margin",
    ],
  };
}

export function describeQuality(itemName: string, vendorName: string, verdict: QualityVerdict) {
  return {
    description: `${percent(verdict.recentRate)} of the ${itemName} received from ${vendorName} in the last 30 days was wasted as damaged or spoiled${verdict.earlierRate === null ? '' : `, against ${percent(verdict.earlierRate)} before`}.`,
    suggestedActions: [
      'Inspect deliveries from this vendor on arrival and refuse damaged stock',
      'Check storage conditions (temperature, handling) for this item',
      'Raise the quality problem with the vendor, or consider another vendor',
    ],
  };
}
