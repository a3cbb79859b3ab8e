import { sql, type SqlBool } from 'kysely';
import type { OrderUnit, PriceBreak, VendorStatus } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';
import type { VendorSort } from './vendors.schemas.ts';

/**
 * Vendor and catalogue SQL. Runs in tenant transactions (app role, store set), and every query
 * also filters by org_id: the filter states intent, row-level security guarantees it.
 *
 * Figures drawn from purchasing (a vendor's last order date; a catalogue line's last order date,
 * units ordered and lead time) are computed here from purchase_orders, purchase_order_lines,
 * receipts and receipt_lines on every read, never stored. Orders that count are the ones placed:
 * neither draft nor cancelled.
 */

/** Statuses of a purchase order that was placed with the vendor (not a draft, not cancelled). */
export const PLACED = ['sent', 'partially_received', 'received'] as const;

const VENDOR_COLUMNS = [
  'v.id',
  'v.name',
  'v.contact_info',
  'v.address',
  'v.city',
  'v.state',
  'v.zip',
  'v.country',
  'v.phone',
  'v.email',
  'v.website',
  'v.contact_person',
  'v.payment_terms',
  'v.tax_id',
  'v.notes',
  'v.minimum_order_value',
  'v.status',
  'v.deactivated_at',
  'v.created_at',
  'v.updated_at',
] as const;

/** The vendor columns the service writes (snake_case, as stored). */
export interface VendorValues {
  name?: string;
  contact_info?: string | null;
  address?: string | null;
  city?: string | null;
  state?: string | null;
  zip?: string | null;
  country?: string | null;
  phone?: string | null;
  email?: string | null;
  website?: string | null;
  contact_person?: string | null;
  payment_terms?: string | null;
  tax_id?: string | null;
  notes?: string | null;
  minimum_order_value?: string | number | null;
  status?: VendorStatus;
  deactivated_at?: Date | null;
}

/** The store's vendors, each with its last order: the latest order date among its placed orders. */
function vendorsWithLastOrder(db: Executor, orgId: string) {
  return db
    .selectFrom('vendors as v')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('purchase_orders as po')
          .select(sql<string | null>`max(po.order_date)`.as('d'))
          .whereRef('po.org_id', '=', 'v.org_id')
          .whereRef('po.vendor_id', '=', 'v.id')
          .where('po.status', 'in', PLACED)
          .as('lo'),
      (join) => join.onTrue(),
    )
    .where('v.org_id', '=', orgId);
}

export async function findVendor(db: Executor, orgId: string, id: string) {
  return vendorsWithLastOrder(db, orgId)
    .select([...VENDOR_COLUMNS, 'lo.d as last_order_date'])
    .where('v.id', '=', id)
    .executeTakeFirst();
}

export type VendorRow = NonNullable<Awaited<ReturnType<typeof findVendor>>>;

/**
 * The vendor's own row: `update` locks it for a change of the vendor, `share` for a change of its
 * catalogue (the vendor cannot be deactivated meanwhile), `none` only reads it.
 */
export async function vendorRow(db: Executor, orgId: string, id: string, lock: 'update' | 'share' | 'none') {
  const query = db
    .selectFrom('vendors')
    .select(['id', 'name', 'country', 'status', 'deactivated_at'])
    .where('org_id', '=', orgId)
    .where('id', '=', id);
  const locked = lock === 'update' ? query.forUpdate() : lock === 'share' ? query.forShare() : query;
  return locked.executeTakeFirst();
}

/** Another vendor of the store with this name, whatever the case and the spaces around it. */
export async function vendorNamed(db: Executor, orgId: string, name: string, exceptId?: string) {
  let query = db
    .selectFrom('vendors')
    .select(['id', 'name'])
    .where('org_id', '=', orgId)
    .where(sql`lower(btrim(name))`, '=', sql`lower(btrim(${name}))`);
  if (exceptId) query = query.where('id', '<>', exceptId);
  return query.executeTakeFirst();
}

export async function insertVendor(db: Executor, orgId: string, values: VendorValues & { name: string }) {
  return db
    .insertInto('vendors')
    .values({ ...values, org_id: orgId })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export async function updateVendor(db: Executor, orgId: string, id: string, values: VendorValues) {
  await db
    .updateTable('vendors')
    .set({ ...values, updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
}

export interface VendorFilters {
  page: number;
  limit: number;
  search?: string | undefined;
  status?: VendorStatus | undefined;
  sortBy?: VendorSort | undefined;
  sortOrder?: 'asc' | 'desc' | undefined;
}

/** `%`, `_` and `\` are LIKE's own characters: searched for as themselves. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** How alike a search and a vendor's words must be to match (pg_trgm word similarity). */
const SIMILARITY_THRESHOLD = 0.3;

/**
 * One page of the store's vendors and their total. A search matches part of the vendor's
 * `search_text` (name, contact person, e-mail, city; lower case) or words like it (trigrams:
 * "frsh farm" finds Fresh Farms), best match first unless a sort is asked for. Vendors never
 * ordered from sort after the others in both directions of `last_order`.
 */
export async function listVendors(db: Executor, orgId: string, filters: VendorFilters) {
  let query = vendorsWithLastOrder(db, orgId);
  if (filters.status) query = query.where('v.status', '=', filters.status);
  const search = filters.search?.trim().toLowerCase();
  if (search) {
    query = query.where(
      sql<SqlBool>`(v.search_text like ${likePattern(search)} or word_similarity(${search}, v.search_text) > ${SIMILARITY_THRESHOLD})`,
    );
  }
  let page = query.select([...VENDOR_COLUMNS, 'lo.d as last_order_date']);
  const sortBy = filters.sortBy ?? (search && !filters.sortOrder ? undefined : 'name');
  if (sortBy === undefined) {
    page = page
      .orderBy(sql`word_similarity(${search}, v.search_text)`, 'desc')
      .orderBy(sql`lower(v.name)`)
      .orderBy('v.id');
  } else {
    const direction = filters.sortOrder ?? (sortBy === 'name' ? 'asc' : 'desc');
    if (sortBy === 'name') page = page.orderBy(sql`lower(v.name)`, direction);
    else if (sortBy === 'created_at') page = page.orderBy('v.created_at', direction);
    else page = page.orderBy(sql`lo.d ${sql.raw(direction)} nulls last`);
    // Ties (vendors never ordered from, above all) by name, whatever the direction.
    page = page.orderBy(sql`lower(v.name)`).orderBy('v.id');
  }
  const [rows, count] = await Promise.all([
    page
      .limit(filters.limit)
      .offset((filters.page - 1) * filters.limit)
      .execute(),
    query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.count) };
}

// --- The catalogue ------------------------------------------------------------------------------

/**
 * A live (not deleted) item of the store. `lockForPreferred` takes its row lock (FOR NO KEY
 * UPDATE) before the item's preferred vendor changes, so two such changes queue and the second
 * sees, and un-marks, the line the first marked.
 */
export async function liveItem(db: Executor, orgId: string, itemId: string, lockForPreferred = false) {
  const query = db
    .selectFrom('inventory_items')
    .select(['id', 'description'])
    .where('org_id', '=', orgId)
    .where('id', '=', itemId)
    .where('deleted_at', 'is', null);
  return (lockForPreferred ? query.forNoKeyUpdate() : query).executeTakeFirst();
}

/** Locks an item's row (deleted or not) for a change of its preferred vendor; see liveItem. */
export async function lockItemRow(db: Executor, orgId: string, itemId: string) {
  await db
    .selectFrom('inventory_items')
    .select('id')
    .where('org_id', '=', orgId)
    .where('id', '=', itemId)
    .forNoKeyUpdate()
    .execute();
}

/** The catalogue columns the service writes. */
export interface ProductValues {
  vendor_sku?: string | null;
  vendor_description?: string | null;
  units_per_case?: number;
  minimum_order_quantity?: number;
  minimum_order_unit?: OrderUnit;
  unit_cost?: number;
  price_breaks?: PriceBreak[];
  lead_time_days?: number;
  delivery_days?: number[];
  preferred?: boolean;
}

const jsonb = (value: unknown) => sql<never>`${JSON.stringify(value)}::jsonb`;
const smallints = (days: number[]) => sql<never>`${days}::smallint[]`;

function productColumns(values: ProductValues) {
  const { price_breaks, delivery_days, ...plain } = values;
  return {
    ...plain,
    ...(price_breaks === undefined ? {} : { price_breaks: jsonb(price_breaks) }),
    ...(delivery_days === undefined ? {} : { delivery_days: smallints(delivery_days) }),
  };
}

export async function insertProduct(
  db: Executor,
  orgId: string,
  vendorId: string,
  itemId: string,
  values: ProductValues & { unit_cost: number },
) {
  return db
    .insertInto('vendor_products')
    .values({
      ...productColumns(values),
      unit_cost: values.unit_cost,
      org_id: orgId,
      vendor_id: vendorId,
      item_id: itemId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/** A catalogue line of the vendor; `lock`: locked until the transaction ends. */
export async function productRow(db: Executor, orgId: string, vendorId: string, id: string, lock: boolean) {
  const query = db
    .selectFrom('vendor_products')
    .select(['id', 'item_id', 'vendor_sku', 'preferred'])
    .where('org_id', '=', orgId)
    .where('vendor_id', '=', vendorId)
    .where('id', '=', id);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
}

export async function updateProduct(db: Executor, orgId: string, id: string, values: ProductValues) {
  await db
    .updateTable('vendor_products')
    .set({ ...productColumns(values), updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
}

export async function deleteProduct(db: Executor, orgId: string, vendorId: string, id: string) {
  const deleted = await db
    .deleteFrom('vendor_products')
    .where('org_id', '=', orgId)
    .where('vendor_id', '=', vendorId)
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
  return deleted !== undefined;
}

/**
 * Un-marks the item's preferred line at any other vendor (at most one is marked: the partial
 * unique index vendor_products_preferred_key), so `keepId` can be marked in the same transaction.
 */
export async function clearPreferred(db: Executor, orgId: string, itemId: string, keepId?: string) {
  let query = db
    .updateTable('vendor_products')
    .set({ preferred: false, updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('item_id', '=', itemId)
    .where('preferred', '=', true);
  if (keepId) query = query.where('id', '<>', keepId);
  await query.execute();
}

/** The vendor's line for this item, or with this SKU (any case), other than `exceptId`. */
export async function conflictingProduct(
  db: Executor,
  orgId: string,
  vendorId: string,
  { itemId, sku, exceptId }: { itemId?: string; sku?: string | null; exceptId?: string },
) {
  if (itemId === undefined && (sku === undefined || sku === null)) return undefined;
  let query = db
    .selectFrom('vendor_products')
    .select(['id', 'item_id', 'vendor_sku'])
    .where('org_id', '=', orgId)
    .where('vendor_id', '=', vendorId)
    .where((eb) =>
      eb.or([
        ...(itemId === undefined ? [] : [eb('item_id', '=', itemId)]),
        ...(sku === undefined || sku === null
          ? []
          : [eb(sql`lower(vendor_sku)`, '=', sql`lower(${sku}::text)`)]),
      ]),
    );
  if (exceptId) query = query.where('id', '<>', exceptId);
  return query.executeTakeFirst();
}

export interface ProductFilters {
  page: number;
  limit: number;
  search?: string | undefined;
  productId?: string;
}

/**
 * The vendor's catalogue lines with their item and their figures from purchasing, by item name.
 * Per line, the orders that count are this vendor's placed orders with a line for the item:
 * the latest order date among them, the units their lines ordered, and the average days from
 * an order's date to the first receipt against it holding the item (orders that received
 * nothing of it do not count), one decimal.
 */
export async function listProducts(db: Executor, orgId: string, vendorId: string, filters: ProductFilters) {
  let query = db
    .selectFrom('vendor_products as vp')
    .innerJoin('inventory_items as i', (join) =>
      join.onRef('i.id', '=', 'vp.item_id').onRef('i.org_id', '=', 'vp.org_id'),
    )
    .where('vp.org_id', '=', orgId)
    .where('vp.vendor_id', '=', vendorId);
  if (filters.productId) query = query.where('vp.id', '=', filters.productId);
  const search = filters.search?.trim();
  if (search) query = query.where('i.description', 'ilike', likePattern(search));

  const page = query
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('purchase_orders as po')
          .innerJoin('purchase_order_lines as pol', (join) =>
            join.onRef('pol.purchase_order_id', '=', 'po.id').onRef('pol.org_id', '=', 'po.org_id'),
          )
          .select([
            sql<string | null>`max(po.order_date)`.as('last_order_date'),
            sql<string>`coalesce(sum(pol.quantity_units), 0)`.as('total_ordered'),
            sql<string | null>`round(avg((
              select min(r.received_date)
                from receipts r
                join receipt_lines rl on rl.receipt_id = r.id and rl.org_id = r.org_id
               where r.org_id = po.org_id and r.purchase_order_id = po.id and rl.item_id = pol.item_id
            ) - po.order_date), 1)`.as('average_lead_time'),
          ])
          .whereRef('po.org_id', '=', 'vp.org_id')
          .whereRef('po.vendor_id', '=', 'vp.vendor_id')
          .whereRef('pol.item_id', '=', 'vp.item_id')
          .where('po.status', 'in', PLACED)
          .as('stats'),
      (join) => join.onTrue(),
    )
    .select([
      'vp.id',
      'vp.vendor_id',
      'vp.item_id',
      'i.description as name',
      'i.category',
      'vp.vendor_sku',
      'vp.vendor_description',
      'vp.units_per_case',
      'vp.minimum_order_quantity',
      'vp.minimum_order_unit',
      'vp.unit_cost',
      'vp.price_breaks',
      'vp.lead_time_days',
      'vp.delivery_days',
      'vp.preferred',
      'vp.created_at',
      'vp.updated_at',
      'stats.last_order_date',
      'stats.total_ordered',
      'stats.average_lead_time',
    ])
    .orderBy(sql`lower(i.description)`)
    .orderBy('vp.id')
    .limit(filters.limit)
    .offset((filters.page - 1) * filters.limit);
  const [rows, count] = await Promise.all([
    page.execute(),
    query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.count) };
}

export type ProductRow = Awaited<ReturnType<typeof listProducts>>['rows'][number];

/** What purchasing prices and dates an order line by: a vendor's catalogue terms for an item. */
export interface CatalogueLineTerms {
  vendorProductId: string;
  vendorSku: string | null;
  vendorDescription: string | null;
  unitsPerCase: number;
  minimumOrderQuantity: number;
  minimumOrderUnit: OrderUnit;
  /** Per unit, below the first price break. */
  unitCost: number;
  /** Ascending by minQuantity (units). */
  priceBreaks: PriceBreak[];
  leadTimeDays: number;
  /** ISO weekdays; empty: any day. */
  deliveryDays: number[];
}

/**
 * The vendor's catalogue terms for these items, by item id (items it does not list are absent),
 * numbers as numbers. For purchasing, in the caller's tenant transaction; an inactive vendor's
 * terms are returned too (whether it may be ordered from is the caller's rule).
 */
export async function catalogueTermsFor(
  trx: Executor,
  orgId: string,
  vendorId: string,
  itemIds: readonly string[],
): Promise<Map<string, CatalogueLineTerms>> {
  const terms = new Map<string, CatalogueLineTerms>();
  if (itemIds.length === 0) return terms;
  const rows = await trx
    .selectFrom('vendor_products')
    .select([
      'id',
      'item_id',
      'vendor_sku',
      'vendor_description',
      'units_per_case',
      'minimum_order_quantity',
      'minimum_order_unit',
      'unit_cost',
      'price_breaks',
      'lead_time_days',
      'delivery_days',
    ])
    .where('org_id', '=', orgId)
    .where('vendor_id', '=', vendorId)
    .where('item_id', '=', sql<string>`any(${[...new Set(itemIds)]}::uuid[])`)
    .execute();
  for (const row of rows) {
    terms.set(row.item_id, {
      vendorProductId: row.id,
      vendorSku: row.vendor_sku,
      vendorDescription: row.vendor_description,
      unitsPerCase: row.units_per_case,
      minimumOrderQuantity: Number(row.minimum_order_quantity),
      minimumOrderUnit: row.minimum_order_unit,
      unitCost: Number(row.unit_cost),
      priceBreaks: priceBreaksOf(row.price_breaks),
      leadTimeDays: row.lead_time_days,
      deliveryDays: row.delivery_days.map(Number),
    });
  }
  return terms;
}

/** Price breaks as stored (jsonb), with numbers as numbers. */
export function priceBreaksOf(stored: unknown): PriceBreak[] {
  const list = typeof stored === 'string' ? (JSON.parse(stored) as unknown) : stored;
  if (!Array.isArray(list)) return [];
  return list.map((entry: { minQuantity: unknown; unitCost: unknown }) => ({
    minQuantity: Number(entry.minQuantity),
    unitCost: Number(entry.unitCost),
  }));
}
