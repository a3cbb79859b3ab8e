import { writeOutboxEvents } from '../../platform/db/outbox.ts';
import type { Kysely } from 'kysely';
import type { DB, OrderUnit, PurchaseOrderStatus } from '../../platform/db/schema.ts';
import { withTenant, withTenantRetry } from '../../platform/db/tenant.ts';
import { paginate } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';
import type { AuthContext } from '../auth/guard.ts';
import { addDays, itemsById, milli, fromMilli, todayIn } from '../inventory/inventory.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { expectedDeliveryDate, unitCostFor } from '../vendors/catalogue.ts';
import { renderPurchaseOrderPdf } from './purchasing.pdf.ts';
import { catalogueTermsFor } from '../vendors/vendors.repository.ts';
import * as repo from './purchasing.repository.ts';
import type {
  CreatePurchaseOrderBody,
  PoLineInput,
  PurchaseOrder,
  PurchaseOrderListQuery,
  PurchaseOrderSummary,
  SendBody,
  UpdatePurchaseOrderBody,
} from './purchasing.schemas.ts';

export const poNumber = (number: number) => `PO-${String(number).padStart(6, '0')}`;

const num = (value: string | number | null | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);
const iso = (value: Date | string | null): string | null =>
  value === null ? null : new Date(value).toISOString();

export interface FieldProblem {
  field: string;
  message: string;
}

/** A refused transition: 409 with the order's state, so a client can refresh and decide. */
export function invalidState(
  status: PurchaseOrderStatus,
  action: string,
  extra: Record<string, unknown> = {},
) {
  return new AppError(
    409,
    'INVALID_PO_STATE',
    `A ${status.replace('_', ' ')} purchase order cannot be ${action}`,
    {
      status,
      ...extra,
    },
  );
}

export const unprocessable = (message: string, problems: FieldProblem[]) =>
  errors.unprocessable(message, problems);

/** The vendor an order is placed with: of this store (else 422) and active (else 422). */
export async function activeVendor(trx: Kysely<DB>, orgId: string, vendorId: string, field = 'vendorId') {
  const vendor = await repo.findVendor(trx, orgId, vendorId);
  if (!vendor) throw unprocessable('Unknown vendor', [{ field, message: 'no such vendor in this store' }]);
  if (vendor.status !== 'active') {
    throw unprocessable('The vendor is inactive', [
      { field, message: 'is inactive: reactivate it before ordering from or receiving for it' },
    ]);
  }
  return vendor;
}

function toLine(line: repo.LineRow, closed: boolean) {
  const quantityUnits = Number(line.quantity_units);
  const receivedUnits = Number(line.received_units);
  return {
    id: line.id,
    lineNumber: line.line_number,
    itemId: line.item_id,
    description: line.description,
    vendorSku: line.vendor_sku,
    orderUnit: line.order_unit,
    quantity: Number(line.quantity),
    unitsPerCase: line.units_per_case,
    quantityUnits,
    unitCost: Number(line.unit_cost),
    lineTotal: Number(line.line_total),
    receivedUnits,
    rejectedUnits: Number(line.rejected_units),
    outstandingUnits: closed ? 0 : fromMilli(Math.max(0, milli(quantityUnits) - milli(receivedUnits))),
  };
}

function orderFields(row: repo.PurchaseOrderRow, vendorName: string) {
  return {
    id: row.id,
    number: row.number,
    poNumber: poNumber(row.number),
    vendorId: row.vendor_id,
    vendorName,
    status: row.status,
    orderDate: row.order_date,
    expectedDate: row.expected_date,
    notes: row.notes,
    currency: row.currency,
    subtotal: Number(row.subtotal),
    createdBy: row.created_by,
    sentAt: iso(row.sent_at),
    acknowledgedAt: iso(row.acknowledged_at),
    firstReceivedAt: iso(row.first_received_at),
    receivedAt: iso(row.received_at),
    cancelledAt: iso(row.cancelled_at),
    cancelReason: row.cancel_reason,
    shortClosedAt: iso(row.short_closed_at),
    closeReason: row.close_reason,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

const eventOf = (type: string, po: { id: string; number: number; vendorId: string; status: string }) => ({
  type,
  payload: { purchaseOrderId: po.id, number: po.number, vendorId: po.vendorId, status: po.status },
});

/** The order with its lines as the API shows it. */
export async function loadPurchaseOrder(trx: Kysely<DB>, orgId: string, id: string): Promise<PurchaseOrder> {
  const row = await repo.findPurchaseOrder(trx, orgId, id);
  if (!row) throw errors.notFound('Purchase order');
  const [lines, vendor] = [
    await repo.linesOf(trx, orgId, id),
    await repo.findVendor(trx, orgId, row.vendor_id),
  ];
  const closed = row.status === 'cancelled' || row.short_closed_at !== null;
  return { ...orderFields(row, vendor?.name ?? ''), lines: lines.map((line) => toLine(line, closed)) };
}

export async function lockPurchaseOrder(trx: Kysely<DB>, orgId: string, id: string) {
  const row = await repo.findPurchaseOrder(trx, orgId, id, true);
  if (!row) throw errors.notFound('Purchase order');
  return row;
}

interface PricedLines {
  lines: repo.NewLine[];
  /** The latest first delivery day over the lines' catalogue terms; null without any. */
  latestDelivery: string | null;
}

/**
 * Prices and describes the lines against the vendor's catalogue and the items: unit cost from the
 * catalogue's price breaks for the line's units, else the item's vendor cost, else its unit cost.
 * Every problem is collected, so a client fixes them in one go.
 */
async function priceLines(
  trx: Kysely<DB>,
  orgId: string,
  vendorId: string,
  inputs: PoLineInput[],
  today: string,
): Promise<PricedLines> {
  const problems: FieldProblem[] = [];
  const firstIndex = new Map<string, number>();
  inputs.forEach((line, index) => {
    const seen = firstIndex.get(line.itemId);
    if (seen === undefined) firstIndex.set(line.itemId, index);
    else problems.push({ field: `lines[${index}].itemId`, message: `is already on lines[${seen}]` });
  });
  const itemIds = [...firstIndex.keys()];
  const [items, terms] = await Promise.all([
    itemsById(trx, orgId, itemIds),
    catalogueTermsFor(trx, orgId, vendorId, itemIds),
  ]);
  const lines: repo.NewLine[] = [];
  let latestDelivery: string | null = null;
  inputs.forEach((input, index) => {
    const item = items.get(input.itemId);
    if (!item) {
      problems.push({ field: `lines[${index}].itemId`, message: 'no such item in this store' });
      return;
    }
    const catalogueLine = terms.get(input.itemId);
    const orderUnit: OrderUnit = input.orderUnit ?? 'unit';
    if (orderUnit === 'case' && !catalogueLine) {
      problems.push({
        field: `lines[${index}].orderUnit`,
        message: 'case needs the item in the vendor’s catalogue (its units per case)',
      });
      return;
    }
    const unitsPerCase = catalogueLine?.unitsPerCase ?? 1;
    const quantityMilli = milli(input.quantity);
    if (quantityMilli <= 0) {
      problems.push({ field: `lines[${index}].quantity`, message: 'must be at least 0.001' });
      return;
    }
    const units = fromMilli(orderUnit === 'case' ? quantityMilli * unitsPerCase : quantityMilli);
    const unitCost =
      input.unitCost ??
      (catalogueLine ? unitCostFor(catalogueLine, units) : (num(item.vendor_cost) ?? num(item.unit_cost)));
    if (unitCost === null) {
      problems.push({
        field: `lines[${index}].unitCost`,
        message:
          'is required: the item has no catalogue price with this vendor, no vendor cost and no unit cost',
      });
      return;
    }
    if (catalogueLine) {
      const arrives = expectedDeliveryDate(today, catalogueLine);
      if (latestDelivery === null || arrives > latestDelivery) latestDelivery = arrives;
    }
    lines.push({
      lineNumber: index + 1,
      itemId: input.itemId,
      vendorSku: catalogueLine?.vendorSku ?? null,
      description: catalogueLine?.vendorDescription ?? item.description,
      orderUnit,
      quantity: fromMilli(quantityMilli),
      unitsPerCase,
      unitCost,
    });
  });
  if (problems.length > 0) throw unprocessable('Some lines cannot be ordered', problems);
  return { lines, latestDelivery };
}

export interface PurchasingServiceDeps {
  db: Kysely<DB>;
  settings: StoreSettings;
  mailer: Mailer;
}

export class PurchasingService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;
  readonly #mailer: Mailer;

  constructor(deps: PurchasingServiceDeps) {
    this.#db = deps.db;
    this.#settings = deps.settings;
    this.#mailer = deps.mailer;
  }

  async create(auth: AuthContext, body: CreatePurchaseOrderBody): Promise<PurchaseOrder> {
    return withTenantRetry(this.#db, auth.orgId, async (trx) => {
      const settings = await this.#settings.read(trx, auth.orgId);
      const today = todayIn(settings.timeZone);
      const vendor = await activeVendor(trx, auth.orgId, body.vendorId);
      const priced = await priceLines(trx, auth.orgId, vendor.id, body.lines, today);
      if (body.expectedDate !== undefined && body.expectedDate < today) {
        throw unprocessable('The expected date is in the past', [
          { field: 'expectedDate', message: `must be on or after the store’s today (${today})` },
        ]);
      }
      // The number last, right before the insert: the counter row stays locked until commit.
      const number = await repo.nextNumber(trx, auth.orgId);
      const { id } = await repo.insertPurchaseOrder(trx, {
        orgId: auth.orgId,
        vendorId: vendor.id,
        number,
        orderDate: today,
        expectedDate: body.expectedDate ?? priced.latestDelivery ?? addDays(today, 1),
        notes: body.notes ?? null,
        currency: settings.currency,
        createdBy: auth.userId,
      });
      await repo.insertLines(trx, auth.orgId, id, priced.lines);
      await repo.refreshSubtotal(trx, auth.orgId, id);
      const order = await loadPurchaseOrder(trx, auth.orgId, id);
      await writeOutboxEvents(trx, auth.orgId, [eventOf('purchase_order:created', order)]);
      return order;
    });
  }

  async get(auth: AuthContext, id: string): Promise<PurchaseOrder> {
    return withTenant(this.#db, auth.orgId, (trx) => loadPurchaseOrder(trx, auth.orgId, id));
  }

  async list(auth: AuthContext, query: PurchaseOrderListQuery) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { rows, total } = await repo.listPurchaseOrders(trx, auth.orgId, query, query.page, query.limit);
      const names = await repo.vendorNames(trx, auth.orgId, [...new Set(rows.map((row) => row.vendor_id))]);
      const orders: PurchaseOrderSummary[] = rows.map((row) => ({
        ...orderFields(row, names.get(row.vendor_id) ?? ''),
        lineCount: Number(row.line_count ?? 0),
      }));
      return { orders, pagination: paginate(query.page, query.limit, total) };
    });
  }

  /** Changes a draft: its lines (replaced as a whole), expected date, notes. */
  async update(auth: AuthContext, id: string, body: UpdatePurchaseOrderBody): Promise<PurchaseOrder> {
    return withTenantRetry(this.#db, auth.orgId, async (trx) => {
      const order = await lockPurchaseOrder(trx, auth.orgId, id);
      if (order.status !== 'draft') throw invalidState(order.status, 'changed: only a draft can');
      const settings = await this.#settings.read(trx, auth.orgId);
      const today = todayIn(settings.timeZone);
      if (body.expectedDate !== undefined && body.expectedDate < today) {
        throw unprocessable('The expected date is in the past', [
          { field: 'expectedDate', message: `must be on or after the store’s today (${today})` },
        ]);
      }
      if (body.lines) {
        const vendor = await activeVendor(trx, auth.orgId, order.vendor_id);
        const priced = await priceLines(trx, auth.orgId, vendor.id, body.lines, today);
        await repo.deleteLines(trx, auth.orgId, id);
        await repo.insertLines(trx, auth.orgId, id, priced.lines);
      }
      await repo.updatePurchaseOrder(trx, auth.orgId, id, {
        ...(body.expectedDate !== undefined ? { expected_date: body.expectedDate } : {}),
        ...(body.notes !== undefined ? { notes: body.notes } : {}),
      });
      await repo.refreshSubtotal(trx, auth.orgId, id);
      const updated = await loadPurchaseOrder(trx, auth.orgId, id);
      await writeOutboxEvents(trx, auth.orgId, [eventOf('purchase_order:updated', updated)]);
      return updated;
    });
  }

  /**
   * draft → sent: the order is placed today (the store's day) and, unless skipEmail, its PDF is
   * e-mailed to the vendor by a job queued in this transaction (sent once it commits).
   */
  async send(auth: AuthContext, id: string, body: SendBody): Promise<PurchaseOrder> {
    return withTenantRetry(this.#db, auth.orgId, async (trx) => {
      const order = await lockPurchaseOrder(trx, auth.orgId, id);
      if (order.status !== 'draft') throw invalidState(order.status, 'sent: only a draft can');
      const vendor = await activeVendor(trx, auth.orgId, order.vendor_id);
      const to = body.to ?? vendor.email ?? undefined;
      if (!to && !body.skipEmail) {
        throw unprocessable('No address to send the order to', [
          {
            field: 'to',
            message: 'is required: the vendor has no e-mail (or send skipEmail: true to mark it sent)',
          },
        ]);
      }
      const lines = await repo.linesOf(trx, auth.orgId, id);
      if (lines.length === 0) {
        throw unprocessable('The order has no lines', [{ field: 'lines', message: 'add lines first' }]);
      }
      if (!body.allowBelowMinimum) {
        const shortfalls = await belowMinimum(trx, auth.orgId, vendor, order, lines);
        if (shortfalls.length > 0) {
          throw new AppError(
            422,
            'BELOW_MINIMUM',
            'The order is below the vendor’s minimum: change it, or send allowBelowMinimum: true',
            { shortfalls },
          );
        }
      }
      const settings = await this.#settings.read(trx, auth.orgId);
      await repo.updatePurchaseOrder(trx, auth.orgId, id, {
        status: 'sent',
        order_date: todayIn(settings.timeZone),
        sent_at: new Date(),
      });
      const sent = await loadPurchaseOrder(trx, auth.orgId, id);
      await writeOutboxEvents(trx, auth.orgId, [eventOf('purchase_order:sent', sent)]);
      if (to && !body.skipEmail) {
        const storeName = await repo.organizationName(trx, auth.orgId);
        const pdf = await renderPurchaseOrderPdf(documentOf(sent, storeName, vendor));
        await this.#mailer.send(
          {
            orgId: auth.orgId,
            to,
            subject: `Purchase order ${sent.poNumber} from ${storeName}`,
            text: [
              `Hello ${vendor.contact_person ?? vendor.name},`,
              '',
              `Please find attached purchase order ${sent.poNumber} from ${storeName}, for delivery on ${sent.expectedDate}.`,
              `${sent.lines.length} line${sent.lines.length === 1 ? '' : 's'}, subtotal ${sent.currency} ${sent.subtotal.toFixed(2)}.`,
              '',
              'Please confirm the order.',
            ].join('\n'),
            attachments: [
              {
                filename: `${sent.poNumber}.pdf`,
                contentType: 'application/pdf',
                content: pdf.toString('base64'),
              },
            ],
          },
          trx,
        );
      }
      return sent;
    });
  }

  async cancel(auth: AuthContext, id: string, reason: string): Promise<PurchaseOrder> {
    return this.#transition(auth, id, async (trx, order) => {
      if (order.status !== 'draft' && order.status !== 'sent') {
        throw invalidState(order.status, 'cancelled: only a draft or a sent order can');
      }
      await repo.updatePurchaseOrder(trx, auth.orgId, id, {
        status: 'cancelled',
        cancelled_at: new Date(),
        cancel_reason: reason,
      });
      return 'purchase_order:cancelled';
    });
  }

  /** The vendor confirmed the order: recorded once, while it is sent or partially received. */
  async acknowledge(auth: AuthContext, id: string): Promise<PurchaseOrder> {
    return this.#transition(auth, id, async (trx, order) => {
      if (order.status !== 'sent' && order.status !== 'partially_received') {
        throw invalidState(order.status, 'acknowledged: only a sent or partially received order can');
      }
      if (order.acknowledged_at !== null) {
        throw invalidState(order.status, 'acknowledged twice', {
          acknowledgedAt: iso(order.acknowledged_at),
        });
      }
      await repo.updatePurchaseOrder(trx, auth.orgId, id, { acknowledged_at: new Date() });
      return 'purchase_order:acknowledged';
    });
  }

  /**
   * Short close: a partially received order becomes received, the rest is not coming. Its
   * received_at is the last delivery's, so on-time figures are not skewed by the day it was closed.
   */
  async close(auth: AuthContext, id: string, reason: string | undefined): Promise<PurchaseOrder> {
    return this.#transition(auth, id, async (trx, order) => {
      if (order.status !== 'partially_received') {
        throw invalidState(order.status, 'closed: only a partially received order can');
      }
      await repo.updatePurchaseOrder(trx, auth.orgId, id, {
        status: 'received',
        short_closed_at: new Date(),
        close_reason: reason ?? null,
        received_at: (await repo.lastReceiptAt(trx, auth.orgId, id)) ?? new Date(),
      });
      return 'purchase_order:received';
    });
  }

  async #transition(
    auth: AuthContext,
    id: string,
    apply: (trx: Kysely<DB>, order: repo.PurchaseOrderRow) => Promise<string>,
  ): Promise<PurchaseOrder> {
    return withTenantRetry(this.#db, auth.orgId, async (trx) => {
      const order = await lockPurchaseOrder(trx, auth.orgId, id);
      const event = await apply(trx, order);
      const changed = await loadPurchaseOrder(trx, auth.orgId, id);
      await writeOutboxEvents(trx, auth.orgId, [eventOf(event, changed)]);
      return changed;
    });
  }

  async pdf(auth: AuthContext, id: string): Promise<{ filename: string; bytes: Buffer }> {
    const { order, storeName, vendor } = await withTenant(this.#db, auth.orgId, async (trx) => {
      const loaded = await loadPurchaseOrder(trx, auth.orgId, id);
      return {
        order: loaded,
        storeName: await repo.organizationName(trx, auth.orgId),
        vendor: (await repo.findVendor(trx, auth.orgId, loaded.vendorId))!,
      };
    });
    return {
      filename: `${order.poNumber}.pdf`,
      bytes: await renderPurchaseOrderPdf(documentOf(order, storeName, vendor)),
    };
  }
}

function documentOf(order: PurchaseOrder, storeName: string, vendor: repo.VendorRow) {
  return {
    storeName,
    poNumber: order.poNumber,
    status: order.status,
    orderDate: order.orderDate,
    expectedDate: order.expectedDate,
    currency: order.currency,
    subtotal: order.subtotal,
    notes: order.notes,
    vendor,
    lines: order.lines,
  };
}

/**
 * Where the order is below the vendor's minimum order value or a catalogue line's minimum
 * quantity (in its minimum_order_unit: units, or cases of the catalogue's size).
 */
async function belowMinimum(
  trx: Kysely<DB>,
  orgId: string,
  vendor: repo.VendorRow,
  order: repo.PurchaseOrderRow,
  lines: repo.LineRow[],
) {
  const shortfalls: Array<Record<string, unknown>> = [];
  const minimumValue = num(vendor.minimum_order_value);
  const subtotal = Number(order.subtotal);
  if (minimumValue !== null && Math.round(subtotal * 100) < Math.round(minimumValue * 100)) {
    shortfalls.push({ field: 'subtotal', minimum: minimumValue, ordered: subtotal, unit: order.currency });
  }
  const terms = await catalogueTermsFor(
    trx,
    orgId,
    vendor.id,
    lines.map((line) => line.item_id),
  );
  for (const line of lines) {
    const catalogueLine = terms.get(line.item_id);
    if (!catalogueLine || catalogueLine.minimumOrderQuantity <= 0) continue;
    const perUnit = catalogueLine.minimumOrderUnit === 'case' ? catalogueLine.unitsPerCase : 1;
    const minimumUnitsMilli = milli(catalogueLine.minimumOrderQuantity) * perUnit;
    const orderedMilli = milli(line.quantity_units);
    if (orderedMilli < minimumUnitsMilli) {
      shortfalls.push({
        field: `lines[${line.line_number - 1}].quantity`,
        lineNumber: line.line_number,
        itemId: line.item_id,
        minimum: catalogueLine.minimumOrderQuantity,
        ordered: fromMilli(Math.round(orderedMilli / perUnit)),
        unit: catalogueLine.minimumOrderUnit,
      });
    }
  }
  return shortfalls;
}
