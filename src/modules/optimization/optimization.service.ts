import type { Kysely } from 'kysely';
import type { DB, StoredForecastPoint } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { AppError } from '../../platform/http/errors.ts';
import type { AuthContext } from '../auth/guard.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import * as repo from './optimization.repository.ts';
import type { OptimizeBody, OptimizeResponse } from './optimization.schemas.ts';
import { InfeasibleRequest, type OptimizerItem, optimizeInventory } from './optimizer.ts';

const day = (value: string | Date) => (typeof value === 'string' ? value : value.toISOString().slice(0, 10));
const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/**
 * The forecast from `today` on: the stored points start the day after `history_through`; days
 * already past are dropped (a forecast the nightly job has not refreshed still answers, its last
 * week repeating past its end, as demandOver does).
 */
export function pointsFrom(points: StoredForecastPoint[], historyThrough: string, today: string) {
  const past = Math.max(0, daysBetween(addDays(historyThrough, 1), today));
  if (past === 0) return points;
  if (past < points.length) return points.slice(past);
  return points.slice(-Math.min(7, points.length));
}

export function toOptimizerItem(
  row: repo.OptimizationRow,
  today: string,
  settings: { reviewPeriodDays: number; defaultLeadTimeDays: number },
): OptimizerItem {
  const unitCost = Number(row.catalogue_cost ?? row.item_cost ?? 0);
  const retail = row.unit_retail === null ? null : Number(row.unit_retail);
  return {
    itemId: row.item_id,
    itemName: row.description,
    points: pointsFrom(row.points, day(row.history_through), today),
    onHand: Math.max(0, Number(row.remaining_stock)),
    onOrder: Number(row.on_order),
    leadTimeDays: row.lead_time_days ?? settings.defaultLeadTimeDays,
    reviewPeriodDays: settings.reviewPeriodDays,
    shelfLifeDays: row.shelf_life_days,
    unitCost,
    priceBreaks: row.price_breaks ?? [],
    unitRetail: retail !== null && retail > 0 ? retail : unitCost,
    unitsPerCase: row.units_per_case ?? 1,
    minimumOrderUnits: Number(row.minimum_order_units ?? 0),
    vendorId: row.vendor_id,
  };
}

export class OptimizationService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;

  constructor(db: Kysely<DB>, settings: StoreSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  async optimizeInventory(auth: AuthContext, body: OptimizeBody): Promise<OptimizeResponse> {
    // Read in one tenant transaction, solve outside it: the solve holds no connection.
    const { items, excluded } = await withTenant(this.#db, auth.orgId, async (trx) => {
      const settings = await this.#settings.read(trx, auth.orgId);
      const today = todayIn(settings.timeZone);
      const rows = await repo.optimizationInputs(trx, auth.orgId);
      const missing = await repo.itemsWithoutForecast(trx, auth.orgId);
      return { items: rows.map((row) => toOptimizerItem(row, today, settings)), excluded: missing };
    });
    try {
      const result = await optimizeInventory(items, {
        ...body.constraints,
        ...body.objectives,
      });
      const leadTimes = new Map(items.map((item) => [item.itemId, item.leadTimeDays]));
      return {
        items: result.items.map((plan) => ({ ...plan, leadTimeDays: leadTimes.get(plan.itemId)! })),
        totals: result.totals,
        constraints: result.constraints,
        solver: { name: 'highs', ...result.solver },
        excludedItems: excluded.map((item) => ({
          itemId: item.id,
          itemName: item.description,
          reason: 'no_forecast' as const,
        })),
      };
    } catch (error) {
      if (error instanceof InfeasibleRequest)
        throw new AppError(422, 'CONSTRAINT_INFEASIBLE', error.message, {
          constraint: error.constraint,
          limit: error.limit,
          required: error.required,
        });
      throw error;
    }
  }
}
