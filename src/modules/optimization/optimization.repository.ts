import { sql } from 'kysely';
import type { PriceBreak, StoredForecastPoint } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/**
 * What the optimiser needs per item, in one statement: the stored forecast (item_forecasts), stock
 * on hand, units on order (placed orders not yet received in full: sent or partly received,
 * ordered − received units per line), the catalogue line it would be ordered on (the preferred
 * line of an active vendor, else the cheapest active one) and its costs.
 */
export interface OptimizationRow {
  item_id: string;
  description: string;
  remaining_stock: string;
  shelf_life_days: number | null;
  item_cost: string | null;
  unit_retail: string | null;
  history_through: string | Date;
  points: StoredForecastPoint[];
  on_order: string;
  vendor_id: string | null;
  catalogue_cost: string | null;
  price_breaks: PriceBreak[] | null;
  units_per_case: number | null;
  minimum_order_units: string | null;
  lead_time_days: number | null;
}

export async function optimizationInputs(db: Executor, orgId: string): Promise<OptimizationRow[]> {
  const { rows } = await sql<OptimizationRow>`
    select i.id as item_id, i.description, i.remaining_stock, i.shelf_life_days,
           coalesce(i.vendor_cost, i.unit_cost) as item_cost, i.unit_retail,
           f.history_through, f.points,
           coalesce(o.units, 0) as on_order,
           c.vendor_id, c.unit_cost as catalogue_cost, c.price_breaks, c.units_per_case,
           c.minimum_order_units, c.lead_time_days
      from item_forecasts f
      join inventory_items i on i.id = f.item_id and i.org_id = ${orgId} and i.deleted_at is null
      left join lateral (
        select sum(greatest(l.quantity_units - l.received_units, 0)) as units
          from purchase_order_lines l
          join purchase_orders po on po.id = l.purchase_order_id
         where l.org_id = ${orgId} and l.item_id = i.id
           and po.status in ('sent', 'partially_received')
      ) o on true
      left join lateral (
        select vp.vendor_id, vp.unit_cost, vp.price_breaks, vp.units_per_case, vp.lead_time_days,
               vp.minimum_order_quantity * case vp.minimum_order_unit when 'case' then vp.units_per_case else 1 end
                 as minimum_order_units
          from vendor_products vp
          join vendors v on v.id = vp.vendor_id and v.status = 'active'
         where vp.org_id = ${orgId} and vp.item_id = i.id
         order by vp.preferred desc, vp.unit_cost, vp.id
         limit 1
      ) c on true
     where f.org_id = ${orgId}
     order by i.id`.execute(db);
  return rows;
}

/** The store's items that have no stored forecast yet: left out of the plan, and named. */
export async function itemsWithoutForecast(db: Executor, orgId: string) {
  return db
    .selectFrom('inventory_items as i')
    .select(['i.id', 'i.description'])
    .where('i.org_id', '=', orgId)
    .where('i.deleted_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('item_forecasts as f')
            .select('f.item_id')
            .whereRef('f.item_id', '=', 'i.id')
            .where('f.org_id', '=', orgId),
        ),
      ),
    )
    .orderBy('i.id')
    .execute();
}
