import {
  type Expression,
  type ExpressionBuilder,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import type { DB, MovementType } from '../../platform/db/schema.ts';
import { enterTenant, type Executor } from '../../platform/db/tenant.ts';
import type { Item, ItemStatus, ListQuery } from './inventory.schemas.ts';

/** Inventory SQL. Runs in tenant transactions; every query also filters by org_id. */

/** Every column but the generated search ones, which are large and never leave the database. */
const ITEM_COLUMNS = [
  'id',
  'org_id',
  'description',
  'category',
  'brand',
  'department',
  'item_sku',
  'item_upc',
  'gtin',
  'pack_size',
  'qty_shipped',
  'remaining_stock',
  'earliest_expiry',
  'sales_weekly',
  'location',
  'aisle',
  'row',
  'bin',
  'unit_cost',
  'vendor_cost',
  'cust_cost_each',
  'unit_retail',
  'advertising_flag',
  'order_type',
  'vendor_id',
  'reorder_point',
  'shelf_life_days',
  'deleted_at',
  'created_at',
  'updated_at',
] as const;

export async function findItem(db: Executor, orgId: string, id: string, lock = false) {
  let query = db
    .selectFrom('inventory_items')
    .select(ITEM_COLUMNS)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null);
  if (lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export type ItemRow = NonNullable<Awaited<ReturnType<typeof findItem>>>;

/**
 * Live items by id with their shelf life, in id order; with `lock`, each row locked FOR UPDATE in
 * that order, so two callers locking overlapping sets queue instead of deadlocking (purchasing's
 * receipts lock all their items before the first stock change).
 */
export async function findItems(db: Executor, orgId: string, ids: readonly string[], lock = false) {
  if (ids.length === 0) return [];
  let query = db
    .selectFrom('inventory_items')
    .select([...ITEM_COLUMNS, 'shelf_life_days'])
    .where('org_id', '=', orgId)
    .where('id', 'in', [...ids])
    .where('deleted_at', 'is', null)
    .orderBy('id');
  if (lock) query = query.forUpdate();
  return query.execute();
}

/**
 * A new item, returned as findItem reads it. Its columns are listed, not `returning *`: statements
 * are prepared (platform/db/database.ts), and a prepared statement whose result columns change
 * under it (a migration adding a column while an older instance still runs) fails with "cached
 * plan must not change result type".
 */
export async function insertItem(
  db: Executor,
  orgId: string,
  columns: Record<string, unknown>,
): Promise<ItemRow> {
  return db
    .insertInto('inventory_items')
    .values({ ...columns, org_id: orgId } as never)
    .returning(ITEM_COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function vendorExists(db: Executor, orgId: string, vendorId: string): Promise<boolean> {
  const row = await db
    .selectFrom('vendors')
    .select('id')
    .where('org_id', '=', orgId)
    .where('id', '=', vendorId)
    .executeTakeFirst();
  return Boolean(row);
}

/** The item's lots with stock in FEFO order: first to expire first, lots without expiry last. */
export async function fefoLots(db: Executor, orgId: string, itemId: string) {
  return db
    .selectFrom('inventory_lots')
    .select(['id', 'item_id', 'lot_code', 'quantity', 'expiration_date', 'received_date', 'unit_cost'])
    .where('org_id', '=', orgId)
    .where('item_id', '=', itemId)
    .where('quantity', '>', '0')
    .orderBy(sql`expiration_date asc nulls last`)
    .orderBy('received_date')
    .orderBy('id')
    .execute();
}

export type LotRow = Awaited<ReturnType<typeof fefoLots>>[number];

export async function findLot(db: Executor, orgId: string, itemId: string, lotId: string) {
  return db
    .selectFrom('inventory_lots')
    .select(['id', 'quantity', 'expiration_date'])
    .where('org_id', '=', orgId)
    .where('item_id', '=', itemId)
    .where('id', '=', lotId)
    .executeTakeFirst();
}

/**
 * A receipt, in one statement: added to the lot with stock it belongs to (same item, received the
 * same day, same expiry, cost and lot code), else a new lot. Receipts of one batch join one lot
 * instead of making a lot per scan, which would also make every read of the item slower as lots
 * pile up. One statement because it runs under the item's row lock: every round trip there is
 * time the next adjustment of the item waits. Callers hold that lock, so two receipts of one item
 * cannot both decide to insert.
 */
export async function receiveIntoBatch(
  db: Executor,
  receipt: {
    orgId: string;
    itemId: string;
    quantity: number;
    receivedDate: string;
    expirationDate: string | null;
    unitCost: number | null;
    lotCode: string | null;
  },
) {
  const { rows } = await sql<{ id: string }>`
    with same_batch as (
      select id from inventory_lots
       where org_id = ${receipt.orgId} and item_id = ${receipt.itemId} and quantity > 0
         and received_date = ${receipt.receivedDate}::date
         and expiration_date is not distinct from ${receipt.expirationDate}::date
         and unit_cost is not distinct from ${receipt.unitCost}::numeric
         and lot_code is not distinct from ${receipt.lotCode}::text
       limit 1
    ), topped_up as (
      update inventory_lots
         set quantity = quantity + ${receipt.quantity}, updated_at = now()
       where id = (select id from same_batch)
      returning id
    ), created as (
      insert into inventory_lots
        (org_id, item_id, quantity, initial_quantity, expiration_date, received_date, unit_cost, lot_code)
      select ${receipt.orgId}::uuid, ${receipt.itemId}::uuid, ${receipt.quantity}::numeric, ${receipt.quantity}::numeric,
             ${receipt.expirationDate}::date, ${receipt.receivedDate}::date, ${receipt.unitCost}::numeric,
             ${receipt.lotCode}::text
       where not exists (select 1 from same_batch)
      returning id
    )
    select id from topped_up union all select id from created`.execute(db);
  return rows[0]!;
}

/** Changes one lot of the item by `delta` (negative takes); undefined when the item has no such lot. */
export async function changeLotQuantity(
  db: Executor,
  orgId: string,
  itemId: string,
  lotId: string,
  delta: number,
) {
  return db
    .updateTable('inventory_lots')
    .set({ quantity: sql`quantity + ${delta}`, updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('item_id', '=', itemId)
    .where('id', '=', lotId)
    .returning('id')
    .executeTakeFirst();
}

export async function setLotExpiry(db: Executor, lotId: string, expirationDate: string) {
  await db
    .updateTable('inventory_lots')
    .set({ expiration_date: expirationDate, updated_at: new Date() })
    .where('id', '=', lotId)
    .execute();
}

/** Re-derives the item's cached stock and earliest expiry from its lots; returns the new values. */
export async function refreshItemTotals(db: Executor, orgId: string, itemId: string) {
  return db
    .updateTable('inventory_items')
    .set({
      // `quantity > 0` adds nothing to the sum but lets both read the partial FEFO index.
      remaining_stock: sql`(select coalesce(sum(quantity), 0) from inventory_lots where item_id = ${itemId} and org_id = ${orgId} and quantity > 0)`,
      earliest_expiry: sql`(select min(expiration_date) from inventory_lots where item_id = ${itemId} and org_id = ${orgId} and quantity > 0)`,
      updated_at: new Date(),
    })
    .where('org_id', '=', orgId)
    .where('id', '=', itemId)
    .returning(['remaining_stock', 'earliest_expiry'])
    .executeTakeFirstOrThrow();
}

export interface MovementRecord {
  orgId: string;
  itemId: string;
  type: MovementType;
  reason: string;
  quantity: number;
  stockBefore: number;
  stockAfter: number;
  lots: Array<{ lotId: string; quantity: number }>;
  unitCost?: number | null | undefined;
  notes?: string | null | undefined;
  userId: string | null;
  occurredAt?: Date;
}

/**
 * One stock change's ledger row, its `remainingStock` history row (linked to the ledger row) and
 * its outbox events, written by one statement of data-modifying CTEs.
 */
export async function recordMovement(
  db: Executor,
  movement: MovementRecord,
  events: Array<{ type: string; payload: Record<string, unknown> }>,
) {
  let query = db
    .with('movement', (qb) =>
      qb
        .insertInto('stock_movements')
        .values({
          org_id: movement.orgId,
          item_id: movement.itemId,
          type: movement.type,
          reason: movement.reason,
          quantity: movement.quantity,
          stock_before: movement.stockBefore,
          stock_after: movement.stockAfter,
          lots: JSON.stringify(movement.lots),
          unit_cost: movement.unitCost ?? null,
          notes: movement.notes ?? null,
          user_id: movement.userId,
          ...(movement.occurredAt ? { occurred_at: movement.occurredAt } : {}),
        })
        .returning(['id', 'occurred_at']),
    )
    .with('history', (qb) =>
      qb
        .insertInto('item_changes')
        .columns([
          'org_id',
          'item_id',
          'field',
          'old_value',
          'new_value',
          'reason',
          'movement_id',
          'changed_by',
        ])
        .expression((eb) =>
          eb
            .selectFrom('movement')
            .select([
              sql`${movement.orgId}::uuid`.as('org_id'),
              sql`${movement.itemId}::uuid`.as('item_id'),
              sql`'remainingStock'::text`.as('field'),
              sql`${JSON.stringify(movement.stockBefore)}::jsonb`.as('old_value'),
              sql`${JSON.stringify(movement.stockAfter)}::jsonb`.as('new_value'),
              sql`${movement.reason}::text`.as('reason'),
              'movement.id',
              sql`${movement.userId}::uuid`.as('changed_by'),
            ]),
        ),
    );
  if (events.length > 0) {
    query = query.with('events', (qb) =>
      qb.insertInto('outbox_events').values(
        events.map((event) => ({
          org_id: movement.orgId,
          type: event.type,
          payload: JSON.stringify(event.payload),
        })),
      ),
    ) as unknown as typeof query;
  }
  return query.selectFrom('movement').select(['id', 'occurred_at']).executeTakeFirstOrThrow();
}

export interface FieldChange {
  field: string;
  oldValue: unknown;
  newValue: unknown;
  reason?: string | null;
  movementId?: string | null;
}

export async function insertChanges(
  db: Executor,
  orgId: string,
  itemId: string,
  userId: string | null,
  changes: FieldChange[],
) {
  if (changes.length === 0) return;
  await db
    .insertInto('item_changes')
    .values(
      changes.map((change) => ({
        org_id: orgId,
        item_id: itemId,
        field: change.field,
        old_value: JSON.stringify(change.oldValue ?? null),
        new_value: JSON.stringify(change.newValue ?? null),
        reason: change.reason ?? null,
        movement_id: change.movementId ?? null,
        changed_by: userId,
      })),
    )
    .execute();
}

export async function history(db: Executor, orgId: string, itemId: string, page: number, limit: number) {
  const base = db
    .selectFrom('item_changes as c')
    .where('c.org_id', '=', orgId)
    .where('c.item_id', '=', itemId);
  const [rows, total] = await Promise.all([
    base
      .leftJoin('users as u', 'u.id', 'c.changed_by')
      .select([
        'c.id',
        'c.field',
        'c.old_value',
        'c.new_value',
        'c.reason',
        'c.changed_by',
        'c.changed_at',
        'u.username',
      ])
      // seq, not the time: it is drawn under the item's row lock, so it is the order the changes
      // applied in (migration 0016).
      .orderBy('c.seq', 'desc')
      .limit(limit)
      .offset((page - 1) * limit)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.count) };
}

export interface StatusContext {
  /** Org default: stock at or below it is low when the item has no reorder point. */
  lowStockThreshold: number;
  /** Lots expiring on or before this date make an item `expiring`. */
  expiringBy: string;
  /** The store's today: a lot whose expiry is before it has expired. */
  today: string;
}

type ItemsEb = ExpressionBuilder<DB, 'inventory_items'>;

/**
 * The status rule as SQL, as tenant_api_items (0017_expired_stock.sql) writes it into each item:
 * out > low > expiring (stock past its date included) > in. The stock part is the trigger-kept
 * `stock_level` (0006_item_stock_level.sql), so each status is a range of an index; only expiry
 * is compared here, because "expiring" moves with the calendar.
 */
function statusCondition(eb: ItemsEb, status: ItemStatus, ctx: StatusContext): Expression<SqlBool> {
  if (status === 'out_of_stock') return eb('stock_level', '=', 0);
  if (status === 'low_stock') return eb('stock_level', '=', 1);
  if (status === 'expiring')
    return eb.and([eb('stock_level', '=', 2), eb('earliest_expiry', '<=', ctx.expiringBy)]);
  return eb.and([
    eb('stock_level', '=', 2),
    eb.or([eb('earliest_expiry', 'is', null), eb('earliest_expiry', '>', ctx.expiringBy)]),
  ]);
}

/** The words of a search as the full-text index splits them: lower-case letters and digits, at most 8. */
export function searchWords(search: string): string[] {
  return search
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 8);
}

/** Search terms as a prefix tsquery ('org milk' → org:* & milk:*), or null when nothing is left. */
export function prefixQuery(search: string): string | null {
  const terms = searchWords(search);
  return terms.length ? terms.map((term) => `${term}:*`).join(' & ') : null;
}

/** A store's search vocabulary (0008_search_words.sql), for spelling correction. */
export async function searchVocabulary(db: Executor, orgId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('inventory_search_words')
    .select('word')
    .where('org_id', '=', orgId)
    .execute();
  return new Set(rows.map((row) => row.word));
}

const SORT_COLUMNS = {
  name: 'description',
  stock: 'remaining_stock',
  expiry: 'earliest_expiry',
  created_at: 'created_at',
} as const;

/**
 * The list query's page of ids and exact total, as one expression each, run by listPage as the
 * owning role. Why as the owner: PostgreSQL will not serve operators it does not mark leakproof
 * (full-text `@@`, `lower()`) from an index under row-level security, so a search
 * or category filter would scan every row. So every condition here filters by org_id itself, and
 * the chosen rows are read back through RLS (tenant_api_items): a mistake here can return
 * too few rows, never another store's.
 */
export async function listSelection(db: Executor, orgId: string, query: ListQuery, ctx: StatusContext) {
  let base = db.selectFrom('inventory_items').where('org_id', '=', orgId).where('deleted_at', 'is', null);
  if (query.category) base = base.where('category_key', '=', sql<string>`lower(${query.category})`);
  if (query.location) base = base.where(sql`lower(location)`, '=', query.location.toLowerCase());
  if (query.vendor) {
    const vendor = query.vendor;
    base = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(vendor)
      ? base.where('vendor_id', '=', vendor)
      : base.where('vendor_id', 'in', (eb) =>
          eb
            .selectFrom('vendors')
            .select('id')
            .where('org_id', '=', orgId)
            .where(sql`lower(name)`, '=', vendor.toLowerCase()),
        );
  }
  if (query.status) {
    const status = query.status;
    base = base.where((eb) => statusCondition(eb, status, ctx));
  }

  const search = query.search?.trim().toLowerCase();
  let rank: ReturnType<typeof sql> | undefined;
  if (search) {
    // Full text with prefixes (org milk → Organic Whole Milk), or an exact code. Its total is
    // counted from the same scan as its page (below). A search that finds nothing is answered
    // with an empty page; the service then corrects its spelling against the store's vocabulary and
    // asks again (spelling.ts).
    const code = query.search!.trim();
    const tsquery = prefixQuery(search);
    // The query is parsed once per execution, in a sub-select, not per row: the statement is
    // prepared, and a generic plan cannot fold to_tsquery('simple', $1) into a constant, so it
    // ran for every matching row, in the filter and twice in the rank (2.3 ms against 1.5 ms).
    const parsed = tsquery === null ? null : sql`(select to_tsquery('simple', ${tsquery}))`;
    base = base.where((eb) =>
      eb.or([
        ...(parsed ? [sql<SqlBool>`search_vector @@ ${parsed}`] : []),
        eb('item_sku', '=', code),
        eb('item_upc', '=', code),
      ]),
    );
    rank = parsed ? sql`ts_rank(search_vector, ${parsed})` : sql`0`;
  }

  const order = query.sortOrder ?? (query.sortBy === 'created_at' ? 'desc' : 'asc');
  const byRelevance = rank !== undefined && query.sortBy === 'created_at' && !query.sortOrder;
  // Plain asc/desc so the sort matches the indexes (a NULLS LAST on a descending sort made
  // PostgreSQL scan and sort all 100k items: 45 ms a page). Items without an expiry sort as
  // expiring last: at the end ascending, first descending.
  // The page is chosen on ids alone (an index-only walk past the skipped rows), then only its
  // rows are read.
  const sortKey = byRelevance ? sql`${rank}` : sql.ref(SORT_COLUMNS[query.sortBy]);
  const direction = byRelevance ? 'desc' : order;
  const offset = (query.page - 1) * query.limit;
  const page = <Q extends SelectQueryBuilder<DB, 'inventory_items', object>>(selection: Q) =>
    selection.orderBy(sortKey, direction).orderBy('id').limit(query.limit).offset(offset);
  if (search) {
    // A search's matches are read once (listPage keeps them as a materialised CTE), then counted
    // and paged: one scan, instead of a count and then the page (2.7 ms against 5.2 ms for 966
    // matches of 100k items), and cheaper than a window count over them (1.31 against 1.44 ms).
    return { search: { matches: base.select(['id', sortKey.as('sort_key')]) }, offset, direction } as const;
  }
  // Any other page: an exact total, never a count over every item of the store. Without filters
  // beyond category it comes from the trigger-kept counters; for in_stock (most items) it is the
  // counters less the other statuses, which are small ranges of the stock-level index.
  const countersOnly = !query.location && !query.vendor;
  const counted = (category: string | undefined) =>
    db
      .selectFrom('inventory_item_counts')
      .select(sql<number>`coalesce(sum(live_count), 0)::int`.as('count'))
      .where('org_id', '=', orgId)
      .$if(Boolean(category), (qb) => qb.where(sql`lower(category)`, '=', sql<string>`lower(${category!})`));
  let total: Expression<unknown>;
  if (countersOnly && !query.status) total = counted(query.category);
  else if (countersOnly && query.status === 'in_stock' && !query.category) {
    // Two counts, not one with OR: each is an index-only range (1.3 ms at 100k items, against
    // 11 ms for the OR's bitmap heap scan).
    const itemsWhere = (condition: (eb: ItemsEb) => Expression<SqlBool>) =>
      db
        .selectFrom('inventory_items')
        .select(sql<number>`count(*)::int`.as('count'))
        .where('org_id', '=', orgId)
        .where('deleted_at', 'is', null)
        .where(condition);
    const outOrLow = itemsWhere((eb) => eb('stock_level', '<', 2));
    const expiring = itemsWhere((eb) => statusCondition(eb, 'expiring', ctx));
    total = sql<number>`(${counted(undefined)}) - (${outOrLow}) - (${expiring})`;
  } else total = base.select(sql<number>`count(*)::int`.as('count'));

  // The same page read from the other end of the same index, for listPage's deep pages: the
  // exact reverse order (NULLs included: `asc` puts them last, `desc` first), skipping what lies
  // after the page, given the total `count` as SQL. An empty page past the end takes no rows.
  const reverse = direction === 'asc' ? 'desc' : 'asc';
  const pageFromEnd = (count: Expression<number>) =>
    base
      .select(['id', sortKey.as('sort_key')])
      .orderBy(sortKey, reverse)
      .orderBy('id', 'desc')
      .limit(sql<number>`greatest(least(${query.limit}::int, ${count} - ${offset}::int), 0)`)
      .offset(sql<number>`greatest(${count} - ${offset}::int - ${query.limit}::int, 0)`);
  return { pageIds: page(base.select('id')), total, offset, direction, pageFromEnd } as const;
}

/**
 * From this offset on, a list page is read from whichever end of the sort is nearer (listPage).
 * An offset page walks every index entry it skips: 1.6 ms for page 1 of 100,000 items, 7.8 ms at
 * the middle, 11.6 ms for the last page (pgbench, one client). Below it the plain statement is
 * used: the two-way one is planned per call like the plain one, but costs more to plan, which
 * only pays once the walk it can save costs more than that.
 */
export const FROM_END_MIN_OFFSET = 10_000;

/**
 * The page's items as one JSON text in the API's shape, built by tenant_api_items
 * (migrations/0010_api_items.sql, 0017_expired_stock.sql) through row-level security with the
 * store's status settings and its today. Cast to text so pg hands the text on unparsed: a list
 * page is sent as PostgreSQL wrote it.
 */
const apiItemsText = (orgId: string, ids: Expression<unknown>, ctx: StatusContext) =>
  sql<string>`tenant_api_items(${orgId}::uuid, ${ids}, ${ctx.lowStockThreshold}::numeric, ${ctx.expiringBy}::date, ${ctx.today}::date)::text`;

/**
 * One list page in one statement: the ids and the total are chosen as the owning role, the items
 * and their lots read back through row-level security as API JSON text.
 * Runs outside a transaction: one statement is one snapshot, so the page and its total agree.
 */
export async function listPage(
  db: Executor,
  orgId: string,
  query: ListQuery,
  ctx: StatusContext,
  fromEndMinOffset = FROM_END_MIN_OFFSET,
): Promise<{ itemsJson: string; total: number }> {
  const selection = await listSelection(db, orgId, query, ctx);
  const { offset, direction } = selection;
  /** The statement: an optional WITH, then the total and the page's items as API JSON text. */
  const run = async (total: Expression<unknown>, ids: Expression<unknown>, cte = sql``) => {
    const row = await sql<{ total: number; items: string }>`
      ${cte} select (${total}) as total, ${apiItemsText(orgId, ids, ctx)} as items`
      .execute(db)
      .then((result) => result.rows[0]!);
    return { itemsJson: row.items, total: Number(row.total) };
  };
  if (selection.search) {
    return run(
      sql`(select count(*) from matches)::int`,
      sql`array(select id from matches order by sort_key ${sql.raw(direction)}, id
                 limit ${query.limit} offset ${offset})`,
      sql`with matches as materialized (${selection.search.matches})`,
    );
  }
  if (offset < fromEndMinOffset) return run(selection.total, sql`array(${selection.pageIds})`);
  // A deep page: past the middle, the rows after it are fewer than the rows before it, so the
  // page is read backwards from the end and put back in order (last page of 100,000 items:
  // 1.5 ms against 11.6 ms). The exact total decides, in the same statement and snapshot; only
  // the branch taken runs.
  const count = sql<number>`(select n from total)`;
  return run(
    count,
    sql`case when ${offset}::int * 2 > ${count}
          then array(select id from (${selection.pageFromEnd(count)}) as page
                      order by sort_key ${sql.raw(direction)}, id)
          else array(${selection.pageIds}) end`,
    sql`with total as materialized (select (${selection.total}) as n)`,
  );
}

/**
 * Live items with their lots, by id, in the order given, in the API's shape (deleted ones and
 * other stores' are left out), read through RLS as the tenant.
 */
export async function apiItems(
  db: Executor,
  orgId: string,
  ids: string[],
  ctx: StatusContext,
): Promise<Item[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<{ items: string }>`
    select ${apiItemsText(orgId, sql`${ids}::uuid[]`, ctx)} as items`.execute(db);
  return JSON.parse(rows[0]!.items) as Item[];
}

/** An item's id and the keys an import matches it by. */
type ItemKeys = { id: string; item_sku: string | null; item_upc: string | null; gtin: string | null };

/**
 * Live items with any of these SKUs, GTINs or UPCs (bulk import's match step), each key list
 * joined from an unnested array so that every key is one probe of its index. The `is not null`
 * is what lets the partial unique indexes (… where item_sku is not null) serve a join: PostgreSQL
 * proves an index predicate from filters, not from join conditions. Without it, and with
 * statistics that predate the rows an import is adding, each batch hashed the whole store's
 * items: 15 ms a batch at 60k items, 2.6 s of a 100k-row import.
 */
export async function liveItemsByKeys(
  db: Executor,
  orgId: string,
  keys: { skus: string[]; gtins: string[]; upcs: string[] },
) {
  const probes = (
    [
      ['item_sku', keys.skus],
      ['gtin', keys.gtins],
      ['item_upc', keys.upcs],
    ] as const
  )
    .filter(([, values]) => values.length > 0)
    .map(
      ([column, values]) => sql<ItemKeys>`
        select i.id, i.item_sku, i.item_upc, i.gtin
          from unnest(${values}::text[]) as k (value)
          join inventory_items i on i.org_id = ${orgId} and i.${sql.ref(column)} = k.value
           and i.${sql.ref(column)} is not null and i.deleted_at is null`,
    );
  if (probes.length === 0) return [];
  const { rows } = await sql<ItemKeys>`
    ${sql.join(probes, sql` union `)}`.execute(db);
  return rows;
}

/** Tables that bulk import writes many rows of at once. */
/** The tables bulk writers fill: imports and the demo seed (whose purchasing history is loaded this way too). */
export type BulkTable =
  | 'inventory_items'
  | 'inventory_lots'
  | 'stock_movements'
  | 'item_changes'
  | 'vendor_products'
  | 'purchase_orders'
  | 'purchase_order_lines'
  | 'receipts'
  | 'receipt_lines'
  | 'purchase_order_counters';

/** One table's share of a bulk insert: the columns written, and the rows as one JSON array text. */
export interface RowSet {
  table: BulkTable;
  columns: readonly string[];
  rowsJson: string;
}

/** An inventory lot's columns as insertRowSets writes them (bulk import, the demo seed). */
export const LOT_COLUMNS = [
  'id',
  'org_id',
  'item_id',
  'quantity',
  'initial_quantity',
  'expiration_date',
  'received_date',
  'unit_cost',
  'lot_code',
] as const;

/**
 * New rows of several tables in ONE statement, one data-modifying WITH per table, so that a bulk
 * import's batch is a single round trip: the database works through the whole batch without
 * waiting on Node between tables, and Node meanwhile reads the next batch (import.service.ts).
 * Foreign keys between the sets (a lot's item, say) hold: they are checked when the statement
 * ends, with every set's rows in.
 *
 * Each set's rows travel as one JSON parameter that json_populate_recordset reads against the
 * table's own row type, so the statement's text does not depend on how many rows there are. A
 * multi-row VALUES list (12,500 parameters for 500 items) was built by Kysely and serialised by
 * pg parameter by parameter, and parsed and planned by PostgreSQL for every batch: this way a
 * 100,000-row import spent 2.9 s of Node CPU against 4.3 s, and took 22.2 s against 23.7 s
 * (alternating runs). Every listed column is written: a row that leaves one out (or gives null)
 * writes NULL, not the column's default, so list only columns every row gives or that may be NULL.
 */
export async function insertRowSets(db: Executor, sets: readonly RowSet[]): Promise<void> {
  // An empty set ('[]') stays in the statement and inserts nothing, so the text is the same for
  // every batch and is prepared once.
  const inserts = sets.map(({ table, columns, rowsJson }) => {
    const list = sql.join(columns.map((column) => sql.ref(column)));
    return sql`insert into ${sql.table(table)} (${list})
      select ${list} from json_populate_recordset(null::${sql.table(table)}, ${rowsJson}::json)`;
  });
  const last = inserts.pop();
  if (!last) return;
  const writes = inserts.map((insert, index) => sql`${sql.id(`rows_${index}`)} as (${insert})`);
  await sql`${writes.length ? sql`with ${sql.join(writes)} ` : sql``}${last}`.execute(db);
}

/**
 * ANALYZE inventory_items from inside a tenant transaction: it steps out of the app role (ANALYZE
 * needs the owner), analyzes, and enters the tenant again. ANALYZE samples the rows this
 * transaction has inserted as live.
 */
export async function analyzeItemsMidTransaction(trx: Transaction<DB>, orgId: string) {
  await sql`select set_config('role', 'none', true)`.execute(trx);
  await sql`analyze inventory_items`.execute(trx);
  await enterTenant(trx, orgId);
}

export async function softDelete(db: Executor, orgId: string, id: string) {
  return db
    .updateTable('inventory_items')
    .set({ deleted_at: new Date(), updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
}

export type ItemWithShelfLife = Awaited<ReturnType<typeof findItems>>[number];

/** How many live items have stock expiring on or before `by` (the expiry check's report). */
export async function countExpiring(db: Executor, orgId: string, by: string): Promise<number> {
  const row = await db
    .selectFrom('inventory_items')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('org_id', '=', orgId)
    .where('deleted_at', 'is', null)
    .where('remaining_stock', '>', 0 as never)
    .where('earliest_expiry', '<=', by as never)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
