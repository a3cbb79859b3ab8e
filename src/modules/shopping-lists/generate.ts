import { probit } from 'simple-statistics';
import { type DailyDemand, demandOver } from '../forecasting/policy.ts';
import { type CatalogueTerms, expectedDeliveryDate, isoWeekday, unitCostFor } from '../vendors/catalogue.ts';

/**
 * The rules that turn an item's situation (stock by lot, stock on order, forecast, catalogue
 * lines) into a shopping-list suggestion: how many to buy, how pressing it is, and why, in words
 * a manager reads. Pure, so the numbers are tested exactly and the service only gathers inputs.
 *
 * Quantity = order-up-to level − sellable stock on hand − stock on order, rounded up to the
 * vendor's case pack and minimum, and never more than sells before it expires:
 * - the order-up-to level covers the days until the vendor's next delivery plus `daysAhead`,
 *   at the store's service level: expected demand + z·σ over that span (policy.ts's demandOver);
 * - sellable stock is what is on hand minus what is expected to expire unsold before the end of
 *   that span, found by selling the forecast day by day first-expiring-lot-first;
 * - the cap: what arrives sells only after the stock left on the delivery day, and must sell
 *   within the shelf life: demand over [delivery, delivery + shelf life] − stock left then.
 * Without a forecast (too little history) the item's reorder point decides instead.
 */

export type Priority = 'low' | 'medium' | 'high' | 'urgent';
export const PRIORITIES: readonly Priority[] = ['low', 'medium', 'high', 'urgent'];

export interface LotOnHand {
  quantity: number;
  /** Last day it may be sold; null: does not expire. */
  expirationDate: string | null;
}

export interface VendorOffer extends CatalogueTerms {
  vendorId: string;
  vendorName: string;
  preferred: boolean;
  /** The catalogue line's minimum order, in units. */
  minimumUnits: number;
}

export interface ItemSituation {
  itemId: string;
  name: string;
  lots: readonly LotOnHand[];
  /** Units on open purchase orders not yet received. */
  onOrder: number;
  reorderPoint: number | null;
  shelfLifeDays: number | null;
  /** Cost per unit without a catalogue line: the item's vendor cost, else its unit cost. */
  fallbackUnitCost: number | null;
  /** The stored daily forecast and the day its first point is for; null without enough history. */
  forecast: { firstDate: string; points: readonly DailyDemand[] } | null;
  offers: readonly VendorOffer[];
}

export interface GenerationRules {
  today: string;
  daysAhead: number;
  serviceLevel: number;
  defaultLeadTimeDays: number;
  /** The reorder point of an item without its own, when there is no forecast. */
  lowStockThreshold: number;
  /** false: count all unexpired stock as sellable, whatever its expiry date. */
  includeExpiring: boolean;
}

export interface Suggestion {
  itemId: string;
  itemName: string;
  suggestedQuantity: number;
  priority: Priority;
  reason: string;
  estimatedCost: number;
  vendorId: string | null;
  preferredVendor: string | null;
  /** Days until the shelf is expected to be empty (null: no forecast, or beyond what was simulated). */
  daysOfCover: number | null;
  emptiesOn: string | null;
  /** Most worth buying before it expires; null without a shelf life or forecast. */
  maxQuantity: number | null;
  usedForecast: boolean;
}

const EPSILON = 1e-9;
/** How far ahead stock is sold in the simulation, at least (cover beyond it reads "more than"). */
const MIN_SIMULATED_DAYS = 60;
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function plusDays(date: string, days: number): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + days);
  return next.toISOString().slice(0, 10);
}

/** 18, 2.5, 0.125: at most three decimals, no trailing zeros. */
export const formatQuantity = (value: number) => String(Math.round(value * 1000) / 1000);
const roundMoney = (value: number) => Math.round(value * 100) / 100;

/** "Friday" within the coming week, else the date. */
function dayName(today: string, date: string): string {
  const ahead = daysBetween(today, date);
  if (ahead === 0) return 'today';
  if (ahead === 1) return 'tomorrow';
  if (ahead > 1 && ahead < 7) return WEEKDAYS[isoWeekday(date) - 1]!;
  return `on ${date}`;
}

export interface ShelfSimulation {
  /** Days until stock runs out at expected demand; Infinity: not within the simulated days. */
  daysOfCover: number;
  /** Units expected to expire unsold within `wasteHorizon` days, by expiry date. */
  waste: Array<{ date: string; quantity: number }>;
}

/**
 * Sells the expected daily demand from the lots, first-expiring first, day by day from today: a
 * lot is thrown away after its expiration date. Gives when the shelf empties and what expires
 * unsold within `wasteHorizon` days.
 */
export function simulateShelf(
  lots: readonly LotOnHand[],
  demand: (day: number) => number,
  today: string,
  wasteHorizon: number,
): ShelfSimulation {
  const stock = lots
    .filter((lot) => lot.quantity > 0 && (lot.expirationDate === null || lot.expirationDate >= today))
    .map((lot) => ({ ...lot }))
    .sort((a, b) => (a.expirationDate ?? '9999-12-31').localeCompare(b.expirationDate ?? '9999-12-31'));
  const waste = new Map<string, number>();
  let daysOfCover = Infinity;
  const days = Math.max(MIN_SIMULATED_DAYS, Math.ceil(wasteHorizon));
  for (let day = 0; day < days; day++) {
    const date = plusDays(today, day);
    for (const lot of stock) {
      if (lot.quantity > EPSILON && lot.expirationDate !== null && lot.expirationDate < date) {
        if (day < wasteHorizon) {
          waste.set(lot.expirationDate, (waste.get(lot.expirationDate) ?? 0) + lot.quantity);
        }
        lot.quantity = 0;
      }
    }
    let wanted = demand(day);
    const before = stock.reduce((sum, lot) => sum + lot.quantity, 0);
    for (const lot of stock) {
      if (wanted <= EPSILON) break;
      const sold = Math.min(lot.quantity, wanted);
      lot.quantity -= sold;
      wanted -= sold;
    }
    if (wanted > EPSILON && daysOfCover === Infinity) {
      const asked = demand(day);
      daysOfCover = day + (asked > 0 ? before / asked : 0);
      if (day >= wasteHorizon) break;
    }
  }
  return {
    daysOfCover,
    waste: [...waste]
      .map(([date, quantity]) => ({ date, quantity }))
      .sort((a, b) => a.date.localeCompare(b.date)),
  };
}

/** The line an item is bought on by default: the catalogue's preferred one, else the cheapest (then fastest). */
export function defaultOffer(offers: readonly VendorOffer[]): VendorOffer | null {
  const preferred = offers.find((offer) => offer.preferred);
  if (preferred) return preferred;
  return [...offers].sort((a, b) => a.unitCost - b.unitCost || a.leadTimeDays - b.leadTimeDays)[0] ?? null;
}

/** Rounds `units` up to whole cases and at least the line's minimum. */
export function roundToOffer(
  units: number,
  offer: Pick<VendorOffer, 'unitsPerCase' | 'minimumUnits'>,
): number {
  const pack = offer.unitsPerCase;
  return Math.ceil(Math.max(units, offer.minimumUnits) / pack - EPSILON) * pack;
}

function priorityFor(daysOfCover: number, deliveryInDays: number, daysAhead: number): Priority {
  if (daysOfCover < deliveryInDays) return 'urgent';
  if (daysOfCover < deliveryInDays + 2) return 'high';
  if (daysOfCover < deliveryInDays + daysAhead) return 'medium';
  return 'low';
}

function coverWords(daysOfCover: number): string {
  if (daysOfCover === Infinity) return `more than ${MIN_SIMULATED_DAYS} days of cover left`;
  if (daysOfCover <= EPSILON) return 'out of stock';
  if (daysOfCover < 1) return 'less than a day of cover left';
  const days = Math.floor(daysOfCover + EPSILON);
  return `${days} day${days === 1 ? '' : 's'} of cover left`;
}

const plural = (count: number, word: string) => `${formatQuantity(count)} ${word}${count === 1 ? '' : 's'}`;

/**
 * The suggestion for one item, or null when nothing needs buying (or nothing can be bought
 * without it expiring unsold: then `skipped` says why).
 */
export function suggestOrder(item: ItemSituation, rules: GenerationRules): Suggestion | null {
  const offer = defaultOffer(item.offers);
  const deliveryDate = offer
    ? expectedDeliveryDate(rules.today, offer)
    : plusDays(rules.today, rules.defaultLeadTimeDays);
  const leadDays = daysBetween(rules.today, deliveryDate);
  const unitCost = (units: number) => (offer ? unitCostFor(offer, units) : (item.fallbackUnitCost ?? 0));
  const unexpired = item.lots
    .filter((lot) => lot.expirationDate === null || lot.expirationDate >= rules.today)
    .reduce((sum, lot) => sum + lot.quantity, 0);
  const words: string[] = [];
  const vendorWords = offer
    ? `delivery from ${offer.vendorName} takes ${plural(leadDays, 'day')}`
    : `delivery takes ${plural(leadDays, 'day')}`;

  if (!item.forecast) {
    const reorderPoint = item.reorderPoint ?? rules.lowStockThreshold;
    const position = unexpired + item.onOrder;
    if (position > reorderPoint + EPSILON) return null;
    const target = Math.max(2 * reorderPoint, position + 1);
    const need = target - position;
    const quantity = offer ? roundToOffer(need, offer) : Math.ceil(need - EPSILON);
    words.push(
      `no forecast yet (too little sales history): ${formatQuantity(unexpired)} in stock${item.onOrder > 0 ? ` and ${formatQuantity(item.onOrder)} on order` : ''}, at or below the reorder point of ${formatQuantity(reorderPoint)}`,
      `ordered up to twice the reorder point (${formatQuantity(target)})`,
      vendorWords,
    );
    if (offer && quantity > Math.ceil(need - EPSILON)) words.push(roundingWords(need, quantity, offer));
    const priority: Priority =
      unexpired <= EPSILON ? 'urgent' : unexpired <= reorderPoint / 2 ? 'high' : 'medium';
    return {
      itemId: item.itemId,
      itemName: item.name,
      suggestedQuantity: quantity,
      priority,
      reason: capitalise(words.join('; ')),
      estimatedCost: roundMoney(quantity * unitCost(quantity)),
      vendorId: offer?.vendorId ?? null,
      preferredVendor: offer?.vendorName ?? null,
      daysOfCover: null,
      emptiesOn: null,
      maxQuantity: null,
      usedForecast: false,
    };
  }

  const { points, firstDate } = item.forecast;
  const start = Math.max(0, daysBetween(firstDate, rules.today));
  const horizon = leadDays + rules.daysAhead;
  const daily = (day: number) => demandOver(points, start + day, 1).mean;
  const shelf = simulateShelf(item.lots, daily, rules.today, horizon);
  const wasted = rules.includeExpiring ? shelf.waste.reduce((sum, entry) => sum + entry.quantity, 0) : 0;
  const sellable = Math.max(0, unexpired - wasted);
  const cycle = demandOver(points, start, horizon);
  const z = probit(Math.min(0.999, Math.max(0.5, rules.serviceLevel)));
  const orderUpTo = cycle.mean + z * cycle.sd;
  const need = orderUpTo - sellable - item.onOrder;
  if (need <= EPSILON) return null;

  let cap: number | null = null;
  if (item.shelfLifeDays !== null) {
    const leftAtDelivery = Math.max(0, sellable + item.onOrder - demandOver(points, start, leadDays).mean);
    cap = Math.max(0, demandOver(points, start + leadDays, item.shelfLifeDays).mean - leftAtDelivery);
  }
  let quantity = offer ? roundToOffer(need, offer) : Math.ceil(need - EPSILON);
  let capped = false;
  if (cap !== null && quantity > cap + EPSILON) {
    const pack = offer?.unitsPerCase ?? 1;
    quantity = Math.floor(cap / pack + EPSILON) * pack;
    capped = true;
    if (quantity <= 0 || (offer && quantity < offer.minimumUnits - EPSILON)) return null;
  }

  const cover = shelf.daysOfCover;
  words.push(`${coverWords(cover)}, ${vendorWords}`);
  if (rules.includeExpiring) {
    // Said in whole units: the simulation's fractions (0.999 of a unit) are not what a manager counts.
    for (const entry of shelf.waste) {
      if (Math.round(entry.quantity) < 1) continue;
      words.push(`${Math.round(entry.quantity)} expire ${dayName(rules.today, entry.date)} before they sell`);
    }
  }
  if (item.onOrder > 0) words.push(`${formatQuantity(item.onOrder)} already on order`);
  words.push(
    `${formatQuantity(Math.ceil(need - EPSILON))} more needed to cover ${plural(horizon, 'day')} (expected sales ${formatQuantity(Math.round(cycle.mean * 10) / 10)})`,
  );
  if (capped) {
    words.push(
      `capped at ${formatQuantity(quantity)}: no more is expected to sell within its shelf life of ${plural(item.shelfLifeDays!, 'day')}`,
    );
  } else if (offer && quantity > Math.ceil(need - EPSILON)) {
    words.push(roundingWords(need, quantity, offer));
  }
  return {
    itemId: item.itemId,
    itemName: item.name,
    suggestedQuantity: quantity,
    priority: priorityFor(cover, leadDays, rules.daysAhead),
    reason: capitalise(words.join('; ')),
    estimatedCost: roundMoney(quantity * unitCost(quantity)),
    vendorId: offer?.vendorId ?? null,
    preferredVendor: offer?.vendorName ?? null,
    daysOfCover: cover === Infinity ? null : Math.round(cover * 100) / 100,
    emptiesOn: cover === Infinity ? null : plusDays(rules.today, Math.floor(cover + EPSILON)),
    maxQuantity: cap === null ? null : Math.round(cap * 1000) / 1000,
    usedForecast: true,
  };
}

function roundingWords(need: number, quantity: number, offer: VendorOffer): string {
  if (offer.minimumUnits > need && quantity <= roundToOffer(0, offer)) {
    return `raised to ${offer.vendorName}'s minimum order of ${formatQuantity(offer.minimumUnits)}${offer.unitsPerCase > 1 ? ` (${plural(quantity / offer.unitsPerCase, 'case')} of ${offer.unitsPerCase})` : ''}`;
  }
  return `rounded up to ${plural(quantity / offer.unitsPerCase, 'case')} of ${offer.unitsPerCase}`;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

const PRIORITY_RANK: Record<Priority, number> = { low: 0, medium: 1, high: 2, urgent: 3 };
/** The most pressing of some priorities (low when none). */
export function topPriority(priorities: readonly Priority[]): Priority {
  return priorities.reduce<Priority>(
    (top, next) => (PRIORITY_RANK[next] > PRIORITY_RANK[top] ? next : top),
    'low',
  );
}
export const priorityRank = (priority: Priority) => PRIORITY_RANK[priority];
