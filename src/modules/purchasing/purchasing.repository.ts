import { sql } from 'kysely';
import type { OrderUnit, PurchaseOrderStatus, RejectionReason } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/** Purchasing SQL. Runs in tenant transactions; every query also filters by org_id. */

export async function findVendor(db: Executor, orgId: string, vendorId: string) {
  return db
    .selectFrom('vendors')
    .select([
      'id',
      'name',
      'email',
      'status',
      'minimum_order_value',
      'address',
      'city',
      'state',
      'zip',
      'country',
      'phone',
      'contact_person',
    ])
    .where('org_id', '=', orgId)
    .where('id', '=', vendorId)
    .executeTakeFirst();
}
export type VendorRow = NonNullable<Awaited<ReturnType<typeof findVendor>>>;

export async function organizationName(db: Executor, orgId: string): Promise<string> {
  const row = await db
    .selectFrom('organizations')
    .select('name')
    .where('id', '=', orgId)
    .executeTakeFirstOrThrow();
  return row.name;
}

/**
 * The store's next order number, drawn in the caller's transaction: the counter row is locked
 * until it ends, so concurrent orders queue on it, and a rolled-back order gives its number back.
 */
export async function nextNumber(db: Executor, orgId: string): Promise<number> {
  const row = await db
    .insertInto('purchase_order_counters')
    .values({ org_id: orgId, last_number: 1 })
    .onConflict((conflict) =>
      conflict.column('org_id').doUpdateSet({ last_number: sql`purchase_order_counters.last_number + 1` }),
    )
    .returning('last_number')
    .executeTakeFirstOrThrow();
  return row.last_number;
}

const PO_COLUMNS = [
  'po.id',
  'po.number',
  'po.vendor_id',
  'po.status',
  'po.order_date',
  'po.expected_date',
  'po.notes',
  'po.currency',
  'po.subtotal',
  'po.created_by',
  'po.sent_at',
  'po.acknowledged_at',
  'po.first_received_at',
  'po.received_at',
  'po.cancelled_at',
  'po.cancel_reason',
  'po.short_closed_at',
  'po.close_reason',
  'po.created_at',
  'po.updated_at',
] as const;

export async function insertPurchaseOrder(
  db: Executor,
  values: {
    orgId: string;
    vendorId: string;
    number: number;
    orderDate: string;
    expectedDate: string;
    notes: string | null;
    currency: string;
    createdBy: string;
  },
) {
  return db
    .insertInto('purchase_orders')
    .values({
      org_id: values.orgId,
      vendor_id: values.vendorId,
      number: values.number,
      order_date: values.orderDate,
      expected_date: values.expectedDate,
      notes: values.notes,
      currency: values.currency,
      created_by: values.createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export interface NewLine {
  lineNumber: number;
  itemId: string;
  vendorSku: string | null;
  description: string;
  orderUnit: OrderUnit;
  quantity: number;
  unitsPerCase: number;
  unitCost: number;
}

export async function insertLines(db: Executor, orgId: string, poId: string, lines: NewLine[]) {
  if (lines.length === 0) return;
  await db
    .insertInto('purchase_order_lines')
    .values(
      lines.map((line) => ({
        org_id: orgId,
        purchase_order_id: poId,
        line_number: line.lineNumber,
        item_id: line.itemId,
        vendor_sku: line.vendorSku,
        description: line.description,
        order_unit: line.orderUnit,
        quantity: line.quantity,
        units_per_case: line.unitsPerCase,
        unit_cost: line.unitCost,
      })),
    )
    .execute();
}

export async function deleteLines(db: Executor, orgId: string, poId: string) {
  await db
    .deleteFrom('purchase_order_lines')
    .where('org_id', '=', orgId)
    .where('purchase_order_id', '=', poId)
    .execute();
}

/** The order's subtotal, re-derived from its lines' generated totals. */
export async function refreshSubtotal(db: Executor, orgId: string, poId: string) {
  await db
    .updateTable('purchase_orders')
    .set({
      subtotal: sql`(select coalesce(sum(line_total), 0) from purchase_order_lines
                      where org_id = ${orgId} and purchase_order_id = ${poId})`,
      updated_at: new Date(),
    })
    .where('org_id', '=', orgId)
    .where('id', '=', poId)
    .execute();
}

export async function findPurchaseOrder(db: Executor, orgId: string, id: string, lock = false) {
  let query = db
    .selectFrom('purchase_orders as po')
    .select(PO_COLUMNS)
    .where('po.org_id', '=', orgId)
    .where('po.id', '=', id);
  if (lock) query = query.forUpdate();
  return query.executeTakeFirst();
}
export type PurchaseOrderRow = NonNullable<Awaited<ReturnType<typeof findPurchaseOrder>>>;

export async function linesOf(db: Executor, orgId: string, poId: string) {
  return db
    .selectFrom('purchase_order_lines')
    .select([
      'id',
      'line_number',
      'item_id',
      'description',
      'vendor_sku',
      'order_unit',
      'quantity',
      'units_per_case',
      'quantity_units',
      'unit_cost',
      'line_total',
      'received_units',
      'rejected_units',
    ])
    .where('org_id', '=', orgId)
    .where('purchase_order_id', '=', poId)
    .orderBy('line_number')
    .execute();
}
export type LineRow = Awaited<ReturnType<typeof linesOf>>[number];

export async function updatePurchaseOrder(
  db: Executor,
  orgId: string,
  id: string,
  values: {
    status?: PurchaseOrderStatus;
    order_date?: string;
    expected_date?: string;
    notes?: string | null;
    sent_at?: Date;
    acknowledged_at?: Date;
    first_received_at?: Date;
    received_at?: Date | null;
    cancelled_at?: Date;
    cancel_reason?: string;
    short_closed_at?: Date;
    close_reason?: string | null;
  },
) {
  await db
    .updateTable('purchase_orders')
    .set({ ...values, updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
}

export async function vendorNames(db: Executor, orgId: string, ids: string[]) {
  if (ids.length === 0) return new Map<string, string>();
  const rows = await db
    .selectFrom('vendors')
    .select(['id', 'name'])
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((row) => [row.id, row.name]));
}

export async function listPurchaseOrders(
  db: Executor,
  orgId: string,
  filters: {
    vendorId?: string | undefined;
    status?: PurchaseOrderStatus | undefined;
    dateFrom?: string | undefined;
    dateTo?: string | undefined;
  },
  page: number,
  limit: number,
) {
  let base = db.selectFrom('purchase_orders as po').where('po.org_id', '=', orgId);
  if (filters.vendorId) base = base.where('po.vendor_id', '=', filters.vendorId);
  if (filters.status) base = base.where('po.status', '=', filters.status);
  if (filters.dateFrom) base = base.where('po.order_date', '>=', filters.dateFrom);
  if (filters.dateTo) base = base.where('po.order_date', '<=', filters.dateTo);
  const [rows, total] = await Promise.all([
    base
      .select(PO_COLUMNS)
      .select((eb) =>
        eb
          .selectFrom('purchase_order_lines as l')
          .select(sql<number>`count(*)::int`.as('n'))
          .whereRef('l.purchase_order_id', '=', 'po.id')
          .where('l.org_id', '=', orgId)
          .as('line_count'),
      )
      .orderBy('po.created_at', 'desc')
      .orderBy('po.id', 'desc')
      .limit(limit)
      .offset((page - 1) * limit)
      .execute(),
    base.select(sql<number>`count(*)::int`.as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.count) };
}

/** Adds a receipt line's units to its purchase-order line. */
export async function addReceivedUnits(
  db: Executor,
  orgId: string,
  lineId: string,
  received: number,
  rejected: number,
) {
  await db
    .updateTable('purchase_order_lines')
    .set({
      received_units: sql`received_units + ${received}`,
      rejected_units: sql`rejected_units + ${rejected}`,
    })
    .where('org_id', '=', orgId)
    .where('id', '=', lineId)
    .execute();
}

/** When the order's last delivery arrived (a short close completes it as of then). */
export async function lastReceiptAt(db: Executor, orgId: string, poId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('receipts')
    .select((eb) => eb.fn.max('received_at').as('last'))
    .where('org_id', '=', orgId)
    .where('purchase_order_id', '=', poId)
    .executeTakeFirst();
  return (row?.last as Date | null | undefined) ?? null;
}

export async function insertReceipt(
  db: Executor,
  values: {
    orgId: string;
    purchaseOrderId: string | null;
    vendorId: string | null;
    supplierName: string | null;
    receivedAt: Date;
    receivedDate: string;
    receivedBy: string;
    notes: string | null;
    deliveryReference: string | null;
  },
) {
  return db
    .insertInto('receipts')
    .values({
      org_id: values.orgId,
      purchase_order_id: values.purchaseOrderId,
      vendor_id: values.vendorId,
      supplier_name: values.supplierName,
      received_at: values.receivedAt,
      received_date: values.receivedDate,
      received_by: values.receivedBy,
      notes: values.notes,
      delivery_reference: values.deliveryReference,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export interface NewReceiptLine {
  poLineId: string | null;
  itemId: string;
  quantityReceived: number;
  quantityRejected: number;
  rejectionReason: RejectionReason | null;
  lotCode: string | null;
  expirationDate: string | null;
  unitCost: number | null;
  shortDated: boolean;
  lotId: string | null;
  movementId: string | null;
}

export async function insertReceiptLines(
  db: Executor,
  orgId: string,
  receiptId: string,
  lines: NewReceiptLine[],
) {
  await db
    .insertInto('receipt_lines')
    .values(
      lines.map((line) => ({
        org_id: orgId,
        receipt_id: receiptId,
        purchase_order_line_id: line.poLineId,
        item_id: line.itemId,
        quantity_received: line.quantityReceived,
        quantity_rejected: line.quantityRejected,
        rejection_reason: line.rejectionReason,
        lot_code: line.lotCode,
        expiration_date: line.expirationDate,
        unit_cost: line.unitCost,
        short_dated: line.shortDated,
        lot_id: line.lotId,
        movement_id: line.movementId,
      })),
    )
    .execute();
}

const RECEIPT_COLUMNS = [
  'r.id',
  'r.purchase_order_id',
  'po.number',
  'r.vendor_id',
  'r.supplier_name',
  'r.received_at',
  'r.received_date',
  'r.received_by',
  'r.delivery_reference',
  'r.notes',
] as const;

export async function listReceipts(
  db: Executor,
  orgId: string,
  filters: {
    purchaseOrderId?: string | undefined;
    vendorId?: string | undefined;
    dateFrom?: string | undefined;
    dateTo?: string | undefined;
    id?: string | undefined;
  },
  page: number,
  limit: number,
) {
  let base = db
    .selectFrom('receipts as r')
    .leftJoin('purchase_orders as po', (join) =>
      join.onRef('po.id', '=', 'r.purchase_order_id').on('po.org_id', '=', orgId),
    )
    .where('r.org_id', '=', orgId);
  if (filters.id) base = base.where('r.id', '=', filters.id);
  if (filters.purchaseOrderId) base = base.where('r.purchase_order_id', '=', filters.purchaseOrderId);
  if (filters.vendorId) base = base.where('r.vendor_id', '=', filters.vendorId);
  if (filters.dateFrom) base = base.where('r.received_date', '>=', filters.dateFrom);
  if (filters.dateTo) base = base.where('r.received_date', '<=', filters.dateTo);
  const [rows, total] = await Promise.all([
    base
      .select(RECEIPT_COLUMNS)
      .orderBy('r.received_at', 'desc')
      .orderBy('r.id', 'desc')
      .limit(limit)
      .offset((page - 1) * limit)
      .execute(),
    base.select(sql<number>`count(*)::int`.as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.count) };
}
export type ReceiptRow = Awaited<ReturnType<typeof listReceipts>>['rows'][number];

export async function receiptLinesOf(db: Executor, orgId: string, receiptIds: string[]) {
  if (receiptIds.length === 0) return [];
  return db
    .selectFrom('receipt_lines as l')
    .innerJoin('inventory_items as i', 'i.id', 'l.item_id')
    .select([
      'l.id',
      'l.receipt_id',
      'l.purchase_order_line_id',
      'l.item_id',
      'i.description',
      'l.quantity_received',
      'l.quantity_rejected',
      'l.rejection_reason',
      'l.lot_code',
      'l.expiration_date',
      'l.unit_cost',
      'l.short_dated',
      'l.lot_id',
      'l.movement_id',
    ])
    .where('l.org_id', '=', orgId)
    .where('l.receipt_id', 'in', receiptIds)
    .orderBy('l.receipt_id')
    .orderBy('l.id')
    .execute();
}
export type ReceiptLineRow = Awaited<ReturnType<typeof receiptLinesOf>>[number];
