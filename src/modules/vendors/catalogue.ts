import type { PriceBreak } from '../../platform/db/schema.ts';

/**
 * The rules of a vendor's catalogue line that purchasing (and later shopping lists) apply: which
 * unit cost a quantity gets under the line's price breaks, and the first day an order placed
 * today can arrive given the vendor's lead time and delivery days. Pure functions over the line's
 * values, so every caller prices and dates an order the same way.
 */

export interface CatalogueTerms {
  /** Cost of one unit below the first price break. */
  unitCost: number;
  /** Ascending by minQuantity (units). */
  priceBreaks: readonly PriceBreak[];
  unitsPerCase: number;
  leadTimeDays: number;
  /** ISO weekdays (1 = Monday … 7 = Sunday); empty: any day. */
  deliveryDays: readonly number[];
}

/** The unit cost for an order of `units` units: the deepest price break it reaches, else the base cost. */
export function unitCostFor(terms: Pick<CatalogueTerms, 'unitCost' | 'priceBreaks'>, units: number): number {
  let cost = terms.unitCost;
  for (const priceBreak of terms.priceBreaks) {
    if (units >= priceBreak.minQuantity) cost = priceBreak.unitCost;
    else break;
  }
  return cost;
}

/** ISO weekday (1 = Monday … 7 = Sunday) of a YYYY-MM-DD date. */
export function isoWeekday(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

function plusDays(date: string, days: number): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + days);
  return next.toISOString().slice(0, 10);
}

/**
 * The first day an order placed on `orderDate` can arrive: `leadTimeDays` later, then moved to the
 * vendor's next delivery day when it does not deliver every day.
 */
export function expectedDeliveryDate(
  orderDate: string,
  terms: Pick<CatalogueTerms, 'leadTimeDays' | 'deliveryDays'>,
): string {
  const earliest = plusDays(orderDate, terms.leadTimeDays);
  if (terms.deliveryDays.length === 0) return earliest;
  for (let offset = 0; offset < 7; offset++) {
    const day = plusDays(earliest, offset);
    if (terms.deliveryDays.includes(isoWeekday(day))) return day;
  }
  return earliest;
}

/**
 * Price breaks as the catalogue keeps them: sorted by quantity, one per quantity, each no dearer
 * than the one below it (and than the base cost, when it is known): a break is a discount for
 * buying more, so a dearer one is a typing mistake to report, not to guess at. Returns the
 * problem or the sorted list.
 */
export function normalisePriceBreaks(
  breaks: readonly PriceBreak[],
  baseUnitCost?: number,
): { breaks: PriceBreak[] } | { problem: string } {
  const sorted = [...breaks].sort((a, b) => a.minQuantity - b.minQuantity);
  for (let index = 0; index < sorted.length; index++) {
    const current = sorted[index]!;
    const previous = sorted[index - 1];
    if (previous && current.minQuantity === previous.minQuantity) {
      return { problem: `has two price breaks from ${current.minQuantity} units` };
    }
    const below = previous ? previous.unitCost : baseUnitCost;
    if (below !== undefined && current.unitCost > below) {
      return {
        problem: `has a break from ${current.minQuantity} units at ${current.unitCost}, dearer than the ${below} ${previous ? `from ${previous.minQuantity} units` : 'base unit cost'}: a break must not cost more than the price below it`,
      };
    }
  }
  return { breaks: sorted };
}
