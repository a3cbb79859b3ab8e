import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/** SQL of the invoices module (migrations/0030_invoices.sql). */

export type InvoiceRow = Selectable<DB['invoices']>;
export type InvoiceLineRow = Selectable<DB['invoice_lines']>;
export type NewInvoice = Insertable<DB['invoices']>;
export type NewInvoiceLine = Insertable<DB['invoice_lines']>;

/** Every column of `invoices`, listed (a prepared `select *` breaks when a migration adds one). */
const INVOICE_COLUMNS = [
  'id',
  'org_id',
  'file_id',
  'file_sha256',
  'source_index',
  'vendor_id',
  'status',
  'payment_status',
  'failure_code',
  'failure_message',
  'invoice_number',
  'invoice_date',
  'due_date',
  'currency',
  'subtotal',
  'tax',
  'total',
  'vendor_name',
  'vendor_tax_id',
  'format',
  'extraction',
  'corrections',
  'conflicts',
  'credit_amount',
  'paid_date',
  'payment_method',
  'payment_notes',
  'uploaded_by',
  'approved_by',
  'approved_at',
  'processed_at',
  'created_at',
  'updated_at',
] as const satisfies ReadonlyArray<keyof DB['invoices']>;

const LINE_COLUMNS = [
  'l.id',
  'l.org_id',
  'l.invoice_id',
  'l.line_number',
  'l.description',
  'l.quantity',
  'l.unit',
  'l.unit_cost',
  'l.line_total',
  'l.gtin',
  'l.vendor_sku',
  'l.tax_rate',
  'l.item_id',
  'l.match_method',
  'l.match_score',
  'l.suggestions',
  'l.ignored',
  'l.po_line_id',
  'l.ordered_quantity',
  'l.received_quantity',
  'l.po_unit_cost',
  'l.expiration_date',
  'l.lot_code',
  'l.movement_id',
] as const;

const ADJUSTMENT_COLUMNS = [
  'id',
  'org_id',
  'invoice_id',
  'item_id',
  'expected_quantity',
  'actual_quantity',
  'reason',
  'unit_cost',
  'credit_amount',
  'movement_id',
  'created_by',
  'created_at',
] as const satisfies ReadonlyArray<keyof DB['invoice_adjustments']>;

export async function insertInvoice(db: Executor, values: NewInvoice): Promise<InvoiceRow> {
  return db.insertInto('invoices').values(values).returning(INVOICE_COLUMNS).executeTakeFirstOrThrow();
}

export async function findInvoice(
  db: Executor,
  orgId: string,
  id: string,
  lock = false,
): Promise<InvoiceRow | undefined> {
  let query = db
    .selectFrom('invoices')
    .select(INVOICE_COLUMNS)
    .where('org_id', '=', orgId)
    .where('id', '=', id);
  if (lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** An invoice read from these bytes before (the first one, for a spreadsheet of several). */
export async function findBySha256(db: Executor, orgId: string, sha256: string) {
  return db
    .selectFrom('invoices')
    .select(['id', 'status'])
    .where('org_id', '=', orgId)
    .where('file_sha256', '=', sha256)
    .orderBy('source_index')
    .limit(1)
    .executeTakeFirst();
}

/** A live (not failed) invoice of this vendor with this number, other than `exceptId`. */
export async function findByVendorNumber(
  db: Executor,
  orgId: string,
  vendorId: string,
  invoiceNumber: string,
  exceptId?: string,
) {
  let query = db
    .selectFrom('invoices')
    .select(['id', 'status'])
    .where('org_id', '=', orgId)
    .where('vendor_id', '=', vendorId)
    .where(sql<string>`lower(invoice_number)`, '=', invoiceNumber.toLowerCase())
    .where('status', '<>', 'failed');
  if (exceptId) query = query.where('id', '<>', exceptId);
  return query.limit(1).executeTakeFirst();
}

export async function updateInvoice(
  db: Executor,
  orgId: string,
  id: string,
  values: Updateable<DB['invoices']>,
): Promise<InvoiceRow> {
  return db
    .updateTable('invoices')
    .set({ ...values, updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning(INVOICE_COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function insertLines(db: Executor, lines: NewInvoiceLine[]): Promise<void> {
  if (lines.length === 0) return;
  await db.insertInto('invoice_lines').values(lines).execute();
}

export async function linesOf(db: Executor, orgId: string, invoiceIds: readonly string[]) {
  if (invoiceIds.length === 0) return [];
  return db
    .selectFrom('invoice_lines as l')
    .leftJoin('inventory_items as i', (join) =>
      join.onRef('i.id', '=', 'l.item_id').onRef('i.org_id', '=', 'l.org_id'),
    )
    .select(LINE_COLUMNS)
    .select(['i.description as item_description', 'i.unit_cost as item_unit_cost'])
    .where('l.org_id', '=', orgId)
    .where('l.invoice_id', 'in', invoiceIds)
    .orderBy('l.invoice_id')
    .orderBy('l.line_number')
    .execute();
}
export type LineWithItem = Awaited<ReturnType<typeof linesOf>>[number];

export async function updateLine(
  db: Executor,
  orgId: string,
  lineId: string,
  values: Updateable<DB['invoice_lines']>,
): Promise<void> {
  await db
    .updateTable('invoice_lines')
    .set(values)
    .where('org_id', '=', orgId)
    .where('id', '=', lineId)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Vendors and their learned hints

export async function findVendor(db: Executor, orgId: string, id: string) {
  return db
    .selectFrom('vendors')
    .select(['id', 'name', 'tax_id', 'payment_terms'])
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * The store's vendor whose tax id is `taxId` once separators, spaces and case are set aside
 * ("DE 123 456 789" = "de123456789").
 */
export async function findVendorByTaxId(db: Executor, orgId: string, taxId: string) {
  const key = taxId.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
  if (key === '') return undefined;
  return db
    .selectFrom('vendors')
    .select(['id', 'name', 'tax_id', 'payment_terms'])
    .where('org_id', '=', orgId)
    .where(sql<string>`upper(regexp_replace(coalesce(tax_id, ''), '[^A-Za-z0-9]', '', 'g'))`, '=', key)
    .orderBy('status')
    .limit(1)
    .executeTakeFirst();
}

/** The store's vendor whose name is most like `name` (trigram similarity at least `threshold`). */
export async function findVendorByName(db: Executor, orgId: string, name: string, threshold: number) {
  return db
    .selectFrom('vendors')
    .select([
      'id',
      'name',
      'tax_id',
      'payment_terms',
      sql<number>`similarity(lower(name), lower(${name}))`.as('score'),
    ])
    .where('org_id', '=', orgId)
    .where(sql<number>`similarity(lower(name), lower(${name}))`, '>=', threshold)
    .orderBy('score', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function vendorHints(db: Executor, orgId: string, vendorId: string) {
  const row = await db
    .selectFrom('vendor_invoice_hints')
    .select('hints')
    .where('org_id', '=', orgId)
    .where('vendor_id', '=', vendorId)
    .executeTakeFirst();
  return row?.hints;
}

export async function saveVendorHints(db: Executor, orgId: string, vendorId: string, hints: object) {
  const json = JSON.stringify(hints);
  await db
    .insertInto('vendor_invoice_hints')
    .values({ org_id: orgId, vendor_id: vendorId, hints: json })
    .onConflict((conflict) =>
      conflict.columns(['org_id', 'vendor_id']).doUpdateSet({ hints: json, updated_at: sql`now()` }),
    )
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Matching

export async function itemsByGtin(db: Executor, orgId: string, gtins: readonly string[]) {
  if (gtins.length === 0) return [];
  return db
    .selectFrom('inventory_items')
    .select(['id', 'description', 'gtin'])
    .where('org_id', '=', orgId)
    .where('deleted_at', 'is', null)
    .where('gtin', 'in', gtins)
    .execute();
}

export async function liveItems(db: Executor, orgId: string, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('inventory_items')
    .select(['id', 'description'])
    .where('org_id', '=', orgId)
    .where('deleted_at', 'is', null)
    .where('id', 'in', ids)
    .execute();
}

/** The vendor's catalogue lines for these SKUs (any case). */
export async function catalogueBySku(db: Executor, orgId: string, vendorId: string, skus: readonly string[]) {
  if (skus.length === 0) return [];
  return db
    .selectFrom('vendor_products as p')
    .innerJoin('inventory_items as i', 'i.id', 'p.item_id')
    .select(['p.vendor_sku', 'p.item_id', 'i.description'])
    .where('p.org_id', '=', orgId)
    .where('p.vendor_id', '=', vendorId)
    .where('i.deleted_at', 'is', null)
    .where(
      sql<string>`lower(p.vendor_sku)`,
      'in',
      skus.map((sku) => sku.toLowerCase()),
    )
    .execute();
}

/** Live items ranked by trigram similarity of their name to `description`, best first. */
export async function similarItems(db: Executor, orgId: string, description: string, limit: number) {
  const score = sql<number>`similarity(description, ${description})`;
  return db
    .selectFrom('inventory_items')
    .select(['id', 'description', score.as('score')])
    .where('org_id', '=', orgId)
    .where('deleted_at', 'is', null)
    .where(score, '>', 0.2)
    .orderBy('score', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * The vendor's live purchase-order lines (sent, partly or fully received) for these items, newest
 * order first: the three-way match compares an invoice line with the newest order of its item.
 */
export async function openOrderLines(
  db: Executor,
  orgId: string,
  vendorId: string,
  itemIds: readonly string[],
) {
  if (itemIds.length === 0) return [];
  return db
    .selectFrom('purchase_order_lines as l')
    .innerJoin('purchase_orders as o', 'o.id', 'l.purchase_order_id')
    .select([
      'l.id',
      'l.item_id',
      'l.quantity_units',
      'l.received_units',
      'l.unit_cost',
      'o.number as po_number',
      'o.order_date',
    ])
    .where('l.org_id', '=', orgId)
    .where('o.vendor_id', '=', vendorId)
    .where('o.status', 'in', ['sent', 'partially_received', 'received'])
    .where('l.item_id', 'in', itemIds)
    .orderBy('o.order_date', 'desc')
    .orderBy('o.number', 'desc')
    .execute();
}

/** Lines of other approved invoices that already claimed these PO lines' received units. */
export async function invoicedAgainst(
  db: Executor,
  orgId: string,
  poLineIds: readonly string[],
  exceptInvoice: string,
) {
  if (poLineIds.length === 0) return new Map<string, number>();
  const rows = await db
    .selectFrom('invoice_lines as l')
    .innerJoin('invoices as i', 'i.id', 'l.invoice_id')
    .select(['l.po_line_id', sql<string>`sum(l.quantity)`.as('quantity')])
    .where('l.org_id', '=', orgId)
    .where('l.po_line_id', 'in', poLineIds)
    .where('i.status', '=', 'approved')
    .where('i.id', '<>', exceptInvoice)
    .groupBy('l.po_line_id')
    .execute();
  return new Map(rows.map((row) => [row.po_line_id!, Number(row.quantity)]));
}

export async function setItemCosts(db: Executor, orgId: string, itemId: string, unitCost: number) {
  await db
    .updateTable('inventory_items')
    .set({ unit_cost: unitCost, vendor_cost: unitCost, updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', itemId)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Reconciliation, list, overdue

export async function insertAdjustment(db: Executor, values: Insertable<DB['invoice_adjustments']>) {
  return db
    .insertInto('invoice_adjustments')
    .values(values)
    .returning(ADJUSTMENT_COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function adjustmentsOf(db: Executor, orgId: string, invoiceId: string) {
  return db
    .selectFrom('invoice_adjustments')
    .select(ADJUSTMENT_COLUMNS)
    .where('org_id', '=', orgId)
    .where('invoice_id', '=', invoiceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export interface ListFilters {
  page: number;
  limit: number;
  vendorId?: string | undefined;
  status?: 'paid' | 'pending' | 'overdue' | undefined;
  processingStatus?: 'processing' | 'review' | 'approved' | 'failed' | undefined;
  dateFrom?: string | undefined;
  dateTo?: string | undefined;
  amountMin?: number | undefined;
  amountMax?: number | undefined;
}

export async function listInvoices(db: Executor, orgId: string, filters: ListFilters) {
  let query = db.selectFrom('invoices').where('org_id', '=', orgId);
  if (filters.vendorId) query = query.where('vendor_id', '=', filters.vendorId);
  if (filters.status) query = query.where('payment_status', '=', filters.status);
  if (filters.processingStatus) query = query.where('status', '=', filters.processingStatus);
  if (filters.dateFrom) query = query.where('invoice_date', '>=', filters.dateFrom);
  if (filters.dateTo) query = query.where('invoice_date', '<=', filters.dateTo);
  if (filters.amountMin !== undefined) query = query.where('total', '>=', String(filters.amountMin));
  if (filters.amountMax !== undefined) query = query.where('total', '<=', String(filters.amountMax));
  // One after the other: both run on the request's one transaction.
  const rows = await query
    .select(INVOICE_COLUMNS)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filters.limit)
    .offset((filters.page - 1) * filters.limit)
    .execute();
  const count = await query.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow();
  return { rows, total: Number(count.total) };
}

/** Unpaid invoices whose due date is before `today`: now overdue. Returns them. */
export async function markOverdue(db: Executor, orgId: string, today: string) {
  return db
    .updateTable('invoices')
    .set({ payment_status: 'overdue', updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('payment_status', '=', 'pending')
    .where('status', 'in', ['review', 'approved'])
    .where('due_date', '<', today)
    .returning(['id', 'invoice_number', 'due_date', 'total', 'vendor_id'])
    .execute();
}
