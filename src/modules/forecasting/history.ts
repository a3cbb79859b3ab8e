import { addDays } from '../inventory/inventory.service.ts';

/**
 * An item's demand history as the engine wants it: one value per store-local day, from the day
 * of its first movement in the window to `through`, where a day the item was out of stock is
 * `null` (censored) rather than what sold.
 *
 * Why censor: a day on which the shelf emptied shows how much there was to sell, not how much
 * customers wanted. Counting it as demand teaches the model that the item sells less exactly
 * when it runs out, and the next order is smaller still. The engine imputes censored days from
 * the item's own pattern and leaves them out of its scores.
 *
 * A day is out of stock when a sale left the stock at zero (sold out), or when nothing sold and
 * the day ended with none (or, without movements, the day before did). A day that opened empty
 * and was restocked before its first sale (the morning delivery after a sell-out) is a normal
 * day: the ledger does not know opening hours, and that delivery is by far the common case.
 */
export interface LedgerDay {
  /** Store-local day, YYYY-MM-DD. */
  day: string;
  /** Units sold that day (sales net of returns). */
  sold: number;
  /** A sale left the stock at zero. */
  soldOut: boolean;
  /** Stock after the day's last movement. */
  closingStock: number;
}

export interface DemandHistory {
  /** First day of the series; null when the item has no movement in the window. */
  start: string | null;
  values: Array<number | null>;
  /** Days counted as out of stock. */
  censoredDays: number;
}

/** `days` must be in date order, each day once, none after `through`. */
export function demandHistory(days: ReadonlyArray<LedgerDay>, through: string): DemandHistory {
  const first = days[0];
  if (!first) return { start: null, values: [], censoredDays: 0 };
  const values: Array<number | null> = [];
  let censoredDays = 0;
  let stock = 0;
  let next = 0;
  for (let day = first.day; day <= through; day = addDays(day, 1)) {
    const moved = days[next]?.day === day ? days[next++] : undefined;
    if (moved) stock = moved.closingStock;
    const outOfStock = moved && moved.sold > 0 ? moved.soldOut : stock <= 0;
    if (outOfStock) {
      values.push(null);
      censoredDays++;
    } else {
      values.push(moved ? Math.max(0, moved.sold) : 0);
    }
  }
  return { start: first.day, values, censoredDays };
}
