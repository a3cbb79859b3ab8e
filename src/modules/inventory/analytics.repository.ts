import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tenant.ts';
import type { StatusContext } from './inventory.repository.ts';

/** Read-only aggregates over items, lots and the ledger for GET /v1/inventory/analytics. */

export async function totals(db: Executor, orgId: string, ctx: StatusContext) {
  // Out and low are the item's trigger-kept stock_level (0006_item_stock_level.sql), the one
  // place the low-stock line (reorder point, else the store threshold) is applied in SQL.
  const { rows } = await sql<{
    total_items: number;
    low_stock: number;
    out_of_stock: number;
    expiring: number;
  }>`
    select count(*)::int as total_items,
           count(*) filter (where i.stock_level = 1)::int as low_stock,
           count(*) filter (where i.stock_level = 0)::int as out_of_stock,
           count(*) filter (where i.remaining_stock > 0 and i.earliest_expiry <= ${ctx.expiringBy})::int as expiring
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

/** Items with stock, longest without a sale first (never sold counts from when the item was added). */
export async function slowMovers(db: Executor, orgId: string, limit: number) {
  const { rows } = await sql<{
    id: string;
    description: string;
    remaining_stock: string;
    last_sale: Date | null;
    created_at: Date;
  }>`
    select i.id, i.description, i.remaining_stock, s.last_sale, i.created_at
      from inventory_items i
      left join lateral (
        select max(m.occurred_at) as last_sale
          from stock_movements m
         where m.item_id = i.id and m.org_id = ${orgId} and m.type = 'sale'
      ) s on true
     where i.org_id = ${orgId} and i.deleted_at is null and i.remaining_stock > 0
     order by coalesce(s.last_sale, i.created_at) asc, i.id
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
