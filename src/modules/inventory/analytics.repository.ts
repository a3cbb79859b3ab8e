import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tenant.ts';
import type { StatusContext } from './inventory.repository.ts';

/** Read-only aggregates over items, lots and the ledger for GET /v1/inventory/analytics. */

export async function totals(db: Executor, orgId: string, ctx: StatusContext) {
  // Out and low are the item's trigger-kept stock_level (0006_item_stock_level.sql), the one
  // place the low-stock line (reorder point, else the store threshold) is applied in SQL.
  // Expired is the part of expiring already past its date: earliest_expiry is the first expiry
  // among lots with stock, so it is before today exactly when some stock has expired.
  const { rows } = await sql<{
    total_items: number;
    low_stock: number;
    out_of_stock: number;
    expiring: number;
    expired: number;
  }>`
    select count(*)::int as total_items,
           count(*) filter (where i.stock_level = 1)::int as low_stock,
           count(*) filter (where i.stock_level = 0)::int as out_of_stock,
           count(*) filter (where i.remaining_stock > 0 and i.earliest_expiry <= ${ctx.expiringBy})::int as expiring,
           count(*) filter (where i.remaining_stock > 0 and i.earliest_expiry < ${ctx.today})::int as expired
      from inventory_items i
     where i.org_id = ${orgId} and i.deleted_at is null`.execute(db);
  return rows[0]!;
}

/** Stock value at each lot's own cost (the item's cost when the lot has none), by category. */
export async function valueByCategory(db: Executor, orgId: string) {
  const { rows } = await sql<{ category: string; count: number; value: string }>`
    select i.category,
           count(*)::int as count,
           coalesce(sum(v.value), 0) as value
      from inventory_items i
      left join lateral (
        select sum(l.quantity * coalesce(l.unit_cost, i.unit_cost, 0)) as value
          from inventory_lots l
         where l.item_id = i.id and l.org_id = ${orgId} and l.quantity > 0
      ) v on true
     where i.org_id = ${orgId} and i.deleted_at is null
     group by i.category
     order by value desc, i.category`.execute(db);
  return rows;
}

/** Units sold per item since `since` (sales are negative movements of type 'sale'). */
export async function unitsSoldSince(db: Executor, orgId: string, since: Date, itemIds?: string[]) {
  let query = db
    .selectFrom('stock_movements as m')
    .innerJoin('inventory_items as i', 'i.id', 'm.item_id')
    .select(['m.item_id', 'i.description', sql<string>`-sum(m.quantity)`.as('sold')])
    .where('m.org_id', '=', orgId)
    .where('m.type', '=', 'sale')
    .where('m.occurred_at', '>=', since)
    .where('i.deleted_at', 'is', null)
    .groupBy(['m.item_id', 'i.description']);
  if (itemIds) {
    if (itemIds.length === 0) return [];
    query = query.where('m.item_id', 'in', itemIds);
  }
  return query.orderBy(sql`-sum(m.quantity)`, 'desc').execute();
}

/**
 * Slow movers: items with stock, fewest units sold since `since` first (a sale is a ledger row of
 * type 'sale', its quantity negative). Ties, never-sold items among them, go longest idle first:
 * idle since the store-local date of the last sale ever, or for an item never sold, since the
 * oldest lot it still has stock in was received (how long that stock has sat there).
 *
 * The sales of the window are one range of stock_movements_type_idx. The last sale before the
 * window and the oldest lot are looked up only for items the window saw no sale of (coalesce
 * stops at its first non-null argument), each one probe of the item's own index.
 */
export async function slowMovers(db: Executor, orgId: string, since: Date, timeZone: string, limit: number) {
  const { rows } = await sql<{
    id: string;
    description: string;
    remaining_stock: string;
    units_sold: string;
    last_sale: Date | null;
    idle_since: string | Date;
  }>`
    with sold as (
      select m.item_id, -sum(m.quantity) as units, max(m.occurred_at) as last_sale
        from stock_movements m
       where m.org_id = ${orgId} and m.type = 'sale' and m.occurred_at >= ${since}
       group by m.item_id
    ), candidates as (
      select i.id, i.description, i.remaining_stock, coalesce(s.units, 0) as units_sold,
             coalesce(s.last_sale, (
               select max(m.occurred_at) from stock_movements m
                where m.item_id = i.id and m.org_id = ${orgId} and m.type = 'sale'
             )) as last_sale
        from inventory_items i
        left join sold s on s.item_id = i.id
       where i.org_id = ${orgId} and i.deleted_at is null and i.remaining_stock > 0
    )
    select c.id, c.description, c.remaining_stock, c.units_sold, c.last_sale, s.idle_since
      from candidates c
     cross join lateral (
       select coalesce((c.last_sale at time zone ${timeZone})::date, (
                select min(l.received_date) from inventory_lots l
                 where l.item_id = c.id and l.org_id = ${orgId} and l.quantity > 0
              )) as idle_since
     ) s
     order by c.units_sold asc, s.idle_since asc, c.id
     limit ${limit}`.execute(db);
  return rows;
}

/** Lots with stock that expire on or before `by`, with what is needed to value them. */
export async function lotsExpiringBy(db: Executor, orgId: string, by: string) {
  return db
    .selectFrom('inventory_lots as l')
    .innerJoin('inventory_items as i', 'i.id', 'l.item_id')
    .select([
      'l.id',
      'l.item_id',
      'l.quantity',
      'l.expiration_date',
      sql<string | null>`coalesce(l.unit_cost, i.unit_cost)`.as('unit_cost'),
      'i.description',
      'i.category',
    ])
    .where('l.org_id', '=', orgId)
    .where('i.deleted_at', 'is', null)
    .where('l.quantity', '>', '0')
    .where('l.expiration_date', 'is not', null)
    .where('l.expiration_date', '<=', by)
    .orderBy('l.item_id')
    .orderBy('l.expiration_date')
    .orderBy('l.id')
    .execute();
}
