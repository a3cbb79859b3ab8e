import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import type { AuthContext } from '../auth/guard.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import * as analytics from './analytics.repository.ts';
import { addDays, daysBetween, isoDate, loadContext } from './inventory.service.ts';

/** Sales velocity is measured over the last 28 days (four whole weeks: weekday mix is even). */
export const VELOCITY_WINDOW_DAYS = 28;
/** How far ahead at-risk stock is looked for. */
export const AT_RISK_HORIZON_DAYS = 90;
const LIST_LIMIT = 10;
const AT_RISK_LIMIT = 20;

const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places;

interface ExpiringLot {
  lotId: string;
  expirationDate: string;
  quantity: number;
  unitCost: number;
}

/**
 * Units of each lot expected to be left unsold when it expires, if sales go on at `velocity` per
 * day and are served first-expiring-first: by a lot's expiry, demand since today can have taken at
 * most velocity × days, less what earlier lots already absorbed.
 */
export function unsoldAtExpiry(lots: ExpiringLot[], velocity: number, today: string) {
  let absorbed = 0;
  return lots.map((lot) => {
    const demandByExpiry = velocity * Math.max(0, daysBetween(today, lot.expirationDate));
    const sold = Math.min(lot.quantity, Math.max(0, demandByExpiry - absorbed));
    absorbed += sold;
    return { ...lot, atRiskQuantity: round(lot.quantity - sold, 3) };
  });
}

export class AnalyticsService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;

  constructor(db: Kysely<DB>, settings: StoreSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  async inventory(auth: AuthContext) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const ctx = await loadContext(trx, auth.orgId, this.#settings);
      const since = new Date(Date.now() - VELOCITY_WINDOW_DAYS * 86_400_000);
      const [counts, categories, sales, slow, expiringLots] = await Promise.all([
        analytics.totals(trx, auth.orgId, ctx),
        analytics.valueByCategory(trx, auth.orgId),
        analytics.unitsSoldSince(trx, auth.orgId, since),
        analytics.slowMovers(trx, auth.orgId, since, ctx.timeZone, LIST_LIMIT),
        analytics.lotsExpiringBy(trx, auth.orgId, addDays(ctx.today, AT_RISK_HORIZON_DAYS)),
      ]);
      const velocity = new Map(sales.map((row) => [row.item_id, Number(row.sold) / VELOCITY_WINDOW_DAYS]));

      const byItem = Map.groupBy(expiringLots, (lot) => lot.item_id);
      const atRiskItems = [...byItem.entries()]
        .map(([itemId, lots]) => {
          const perDay = velocity.get(itemId) ?? 0;
          const projected = unsoldAtExpiry(
            lots.map((lot) => ({
              lotId: lot.id,
              expirationDate: isoDate(lot.expiration_date)!,
              quantity: Number(lot.quantity),
              unitCost: Number(lot.unit_cost ?? 0),
            })),
            perDay,
            ctx.today,
          )
            .filter((lot) => lot.atRiskQuantity > 0)
            .map((lot) => ({ ...lot, daysUntilExpiry: daysBetween(ctx.today, lot.expirationDate) }));
          // A lot past its date sells nothing more (unsoldAtExpiry gives it no demand): all of it
          // is at risk, and it is told apart as expired, from stock that may yet sell.
          const expired = projected.filter((lot) => lot.daysUntilExpiry < 0);
          const sum = (of: typeof projected, value: (lot: (typeof projected)[number]) => number) =>
            of.reduce((total, lot) => total + value(lot), 0);
          return {
            id: itemId,
            name: lots[0]!.description,
            category: lots[0]!.category,
            salesVelocity: round(perDay),
            atRiskQuantity: round(
              sum(projected, (lot) => lot.atRiskQuantity),
              3,
            ),
            atRiskValue: round(sum(projected, (lot) => lot.atRiskQuantity * lot.unitCost)),
            expiredQuantity: round(
              sum(expired, (lot) => lot.quantity),
              3,
            ),
            expiredValue: round(sum(expired, (lot) => lot.quantity * lot.unitCost)),
            earliestExpiry: projected[0]?.expirationDate ?? null,
            lots: projected.map((lot) => ({
              lotId: lot.lotId,
              expirationDate: lot.expirationDate,
              daysUntilExpiry: lot.daysUntilExpiry,
              expired: lot.daysUntilExpiry < 0,
              quantity: lot.quantity,
              atRiskQuantity: lot.atRiskQuantity,
            })),
          };
        })
        .filter((item) => item.atRiskQuantity > 0)
        .sort((a, b) => b.atRiskValue - a.atRiskValue || b.atRiskQuantity - a.atRiskQuantity)
        .slice(0, AT_RISK_LIMIT);

      return {
        totalItems: counts.total_items,
        totalValue: round(categories.reduce((sum, row) => sum + Number(row.value), 0)),
        lowStockItems: counts.low_stock,
        outOfStockItems: counts.out_of_stock,
        expiringItems: counts.expiring,
        expiredItems: counts.expired,
        categoryBreakdown: categories.map((row) => ({
          category: row.category,
          count: row.count,
          value: round(Number(row.value)),
        })),
        topMovingItems: sales.slice(0, LIST_LIMIT).map((row) => ({
          id: row.item_id,
          name: row.description,
          salesVelocity: round(Number(row.sold) / VELOCITY_WINDOW_DAYS),
          unitsSold: Number(row.sold),
        })),
        slowMovingItems: slow.map((row) => ({
          id: row.id,
          name: row.description,
          // Calendar days in the store's zone: a sale yesterday evening is 1 day ago, whatever
          // the hour now. For an item never sold, the days its stock has sat unsold.
          daysSinceLastSale: Math.max(0, daysBetween(isoDate(row.idle_since)!, ctx.today)),
          neverSold: row.last_sale === null,
          lastSaleAt: row.last_sale ? new Date(row.last_sale).toISOString() : null,
          unitsSold: Number(row.units_sold),
          currentStock: Number(row.remaining_stock),
        })),
        atRiskItems,
        velocityWindowDays: VELOCITY_WINDOW_DAYS,
      };
    });
  }
}
