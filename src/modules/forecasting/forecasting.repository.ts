import { sql } from 'kysely';
import type { StoredForecastPoint } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';
import type { LedgerDay } from './history.ts';
import type { ReorderPolicy } from './policy.ts';

/** What the forecast of an item needs to know about it. */
export interface ForecastItem {
  id: string;
  name: string;
  category: string;
  shelfLifeDays: number | null;
  /** The preferred vendor's lead time, else the item's vendor's shortest, else null. */
  leadTimeDays: number | null;
}

/** Items by id or category (not deleted), in name order; at most `limit`. */
export async function forecastItems(
  db: Executor,
  orgId: string,
  filter: { itemIds?: readonly string[]; categories?: readonly string[]; afterId?: string },
  limit: number,
): Promise<ForecastItem[]> {
  let query = db
    .selectFrom('inventory_items as i')
    .select([
      'i.id',
      'i.description as name',
      'i.category',
      'i.shelf_life_days',
      (eb) =>
        eb
          .selectFrom('vendor_products as vp')
          .select('vp.lead_time_days')
          .whereRef('vp.item_id', '=', 'i.id')
          .where('vp.org_id', '=', orgId)
          .orderBy('vp.preferred', 'desc')
          .orderBy('vp.lead_time_days')
          .limit(1)
          .as('lead_time_days'),
    ])
    .where('i.org_id', '=', orgId)
    .where('i.deleted_at', 'is', null);
  if (filter.itemIds) query = query.where('i.id', 'in', filter.itemIds.length ? filter.itemIds : ['']);
  if (filter.categories) {
    const lowered = filter.categories.map((category) => category.trim().toLowerCase());
    query = query.where(sql<boolean>`lower(btrim(i.category)) = any(${lowered}::text[])`);
  }
  // The nightly job walks all items in id order, a page at a time.
  if (filter.afterId !== undefined) query = query.where('i.id', '>', filter.afterId).orderBy('i.id');
  else query = query.orderBy('i.description').orderBy('i.id');
  const rows = await query.limit(limit).execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    category: row.category,
    shelfLifeDays: row.shelf_life_days,
    leadTimeDays: row.lead_time_days ?? null,
  }));
}

/**
 * The items' ledger summed per store-local day from `from` to `through`: units sold, whether a
 * sale emptied the shelf, and the stock after the day's last movement (history.ts turns days the
 * item was out of stock into censored days). One range scan of each item's ledger index.
 */
export async function ledgerDays(
  db: Executor,
  orgId: string,
  itemIds: readonly string[],
  from: string,
  through: string,
  timeZone: string,
): Promise<Map<string, LedgerDay[]>> {
  const byItem = new Map<string, LedgerDay[]>();
  if (itemIds.length === 0) return byItem;
  const { rows } = await sql<{
    item_id: string;
    day: string;
    sold: string;
    sold_out: boolean;
    closing: string;
  }>`
    select m.item_id,
           to_char((m.occurred_at at time zone ${timeZone})::date, 'YYYY-MM-DD') as day,
           coalesce(sum(-m.quantity) filter (where m.type = 'sale'), 0) as sold,
           coalesce(bool_or(m.stock_after <= 0) filter (where m.type = 'sale' and m.quantity < 0), false) as sold_out,
           (array_agg(m.stock_after order by m.occurred_at desc, m.seq desc))[1] as closing
      from stock_movements m
     where m.org_id = ${orgId}
       and m.item_id = any(${itemIds}::uuid[])
       and m.occurred_at >= (${from}::date::timestamp at time zone ${timeZone})
       and m.occurred_at < ((${through}::date + 1)::timestamp at time zone ${timeZone})
     group by m.item_id, 2
     order by m.item_id, 2`.execute(db);
  for (const row of rows) {
    let days = byItem.get(row.item_id);
    if (!days) byItem.set(row.item_id, (days = []));
    days.push({
      day: row.day,
      sold: Number(row.sold),
      soldOut: row.sold_out,
      closingStock: Number(row.closing),
    });
  }
  return byItem;
}

/**
 * A cheap summary of what a forecast depends on in the ledger: the count and the latest of the
 * items' movements up to `through`. Unchanged summary, same day → the stored forecast stands.
 */
export async function ledgerSummaries(
  db: Executor,
  orgId: string,
  itemIds: readonly string[],
  through: string,
  timeZone: string,
): Promise<Map<string, string>> {
  if (itemIds.length === 0) return new Map();
  const { rows } = await sql<{ item_id: string; movements: string; latest: string | null }>`
    select m.item_id, count(*) as movements, max(m.seq)::text as latest
      from stock_movements m
     where m.org_id = ${orgId}
       and m.item_id = any(${itemIds}::uuid[])
       and m.occurred_at < ((${through}::date + 1)::timestamp at time zone ${timeZone})
     group by m.item_id`.execute(db);
  return new Map(rows.map((row) => [row.item_id, `${row.movements}:${row.latest ?? ''}`]));
}

export interface PromotionRow {
  itemId: string | null;
  category: string | null;
  startsOn: string;
  endsOn: string;
  discountPercent: number;
  updatedAt: Date;
}

/** Promotions overlapping [from, to] on these items or on their categories. */
export async function promotionsOverlapping(
  db: Executor,
  orgId: string,
  items: ReadonlyArray<{ id: string; category: string }>,
  from: string,
  to: string,
): Promise<PromotionRow[]> {
  if (items.length === 0) return [];
  const categories = [...new Set(items.map((item) => item.category.trim().toLowerCase()))];
  const rows = await db
    .selectFrom('promotions')
    .select(['item_id', 'category', 'starts_on', 'ends_on', 'discount_percent', 'updated_at'])
    .where('org_id', '=', orgId)
    .where('starts_on', '<=', to)
    .where('ends_on', '>=', from)
    .where((eb) =>
      eb.or([
        eb(
          'item_id',
          'in',
          items.map((item) => item.id),
        ),
        eb(sql<string>`lower(btrim(category))`, 'in', categories),
      ]),
    )
    .execute();
  return rows.map((row) => ({
    itemId: row.item_id,
    category: row.category,
    startsOn: row.starts_on,
    endsOn: row.ends_on,
    discountPercent: Number(row.discount_percent),
    updatedAt: row.updated_at,
  }));
}

export interface StoredForecast {
  itemId: string;
  computedAt: Date;
  historyThrough: string;
  historyDays: number;
  historyFingerprint: string;
  method: string;
  methodReason: string;
  insufficientHistory: boolean;
  horizon: number;
  points: StoredForecastPoint[];
  accuracy: Record<string, number | null> | null;
  candidates: Array<Record<string, unknown>>;
  reorderPolicy: Record<string, unknown> | null;
}

export async function storedForecasts(
  db: Executor,
  orgId: string,
  itemIds: readonly string[],
): Promise<Map<string, StoredForecast>> {
  if (itemIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('item_forecasts')
    .select([
      'item_id',
      'computed_at',
      'history_through',
      'history_days',
      'history_fingerprint',
      'method',
      'method_reason',
      'insufficient_history',
      'horizon',
      'points',
      'accuracy',
      'candidates',
      'reorder_policy',
    ])
    .where('org_id', '=', orgId)
    .where('item_id', 'in', itemIds)
    .execute();
  return new Map(
    rows.map((row) => [
      row.item_id,
      {
        itemId: row.item_id,
        computedAt: row.computed_at,
        historyThrough: String(row.history_through).slice(0, 10),
        historyDays: row.history_days,
        historyFingerprint: row.history_fingerprint,
        method: row.method,
        methodReason: row.method_reason,
        insufficientHistory: row.insufficient_history,
        horizon: row.horizon,
        points: row.points,
        accuracy: row.accuracy,
        candidates: row.candidates,
        reorderPolicy: row.reorder_policy,
      },
    ]),
  );
}

export async function saveForecasts(
  db: Executor,
  orgId: string,
  forecasts: readonly StoredForecast[],
): Promise<void> {
  if (forecasts.length === 0) return;
  await db
    .insertInto('item_forecasts')
    .values(
      forecasts.map((forecast) => ({
        org_id: orgId,
        item_id: forecast.itemId,
        computed_at: forecast.computedAt,
        history_through: forecast.historyThrough,
        history_days: forecast.historyDays,
        history_fingerprint: forecast.historyFingerprint,
        method: forecast.method,
        method_reason: forecast.methodReason,
        insufficient_history: forecast.insufficientHistory,
        horizon: forecast.horizon,
        points: JSON.stringify(forecast.points),
        accuracy: forecast.accuracy === null ? null : JSON.stringify(forecast.accuracy),
        candidates: JSON.stringify(forecast.candidates),
        reorder_policy: forecast.reorderPolicy === null ? null : JSON.stringify(forecast.reorderPolicy),
      })),
    )
    .onConflict((conflict) =>
      conflict.columns(['org_id', 'item_id']).doUpdateSet((eb) => ({
        computed_at: eb.ref('excluded.computed_at'),
        history_through: eb.ref('excluded.history_through'),
        history_days: eb.ref('excluded.history_days'),
        history_fingerprint: eb.ref('excluded.history_fingerprint'),
        method: eb.ref('excluded.method'),
        method_reason: eb.ref('excluded.method_reason'),
        insufficient_history: eb.ref('excluded.insufficient_history'),
        horizon: eb.ref('excluded.horizon'),
        points: eb.ref('excluded.points'),
        accuracy: eb.ref('excluded.accuracy'),
        candidates: eb.ref('excluded.candidates'),
        reorder_policy: eb.ref('excluded.reorder_policy'),
      })),
    )
    .execute();
}

/** The reorder policy of an item's stored forecast, null before its first forecast. */
export async function storedReorderPolicy(db: Executor, orgId: string, itemId: string) {
  const row = await db
    .selectFrom('item_forecasts')
    .select('reorder_policy')
    .where('org_id', '=', orgId)
    .where('item_id', '=', itemId)
    .executeTakeFirst();
  return (row?.reorder_policy ?? null) as (ReorderPolicy & { leadTimeFrom: string }) | null;
}
