import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB, PurchaseOrderStatus, RejectionReason } from '../../platform/db/schema.ts';
import { withTenant, withTenantRetry } from '../../platform/db/tenant.ts';
import { paginate } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import type { AuthContext } from '../auth/guard.ts';
import { oncePerKey } from '../../platform/db/idempotency.ts';
import { writeOutboxEvents } from '../../platform/db/outbox.ts';
import {
  applyStockChange,
  daysBetween,
  fromMilli,
  type InventoryContext,
  itemsById,
  loadContext,
  milli,
  todayIn,
} from '../inventory/inventory.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import * as repo from './purchasing.repository.ts';
import type {
  DirectReceiptBody,
  DirectReceiptLineInput,
  PoReceiptBody,
  Receipt,
  ReceiptListQuery,
} from './purchasing.schemas.ts';
import {
  activeVendor,
  type FieldProblem,
  invalidState,
  lockPurchaseOrder,
  poNumber,
} from './purchasing.service.ts';

export interface ReceivingRules {
  /** A lot with less than this share of its item's shelf life left is short-dated. */
  shortDatedShare: number;
  /** Share over a line's ordered units that may be received without allowOverReceipt. */
  overTolerance: number;
}

/** A receipt may be dated this far ahead of the server's clock (clocks of handhelds drift). */
const CLOCK_SKEW_MS = 60_000;

type ReceiptLineInput = Omit<DirectReceiptLineInput, 'itemId'>;

/** One checked receipt line, ready to apply. */
interface PreparedLine {
  index: number;
  itemId: string;
  poLineId: string | null;
  receivedMilli: number;
  rejectedMilli: number;
  rejectionReason: RejectionReason | null;
  lotCode: string | null;
  expirationDate: string | null;
  unitCost: number | null;
  shortDated: boolean;
}

export interface ReceiptAnswer {
  replayed: boolean;
  data: Receipt;
}

export class ReceivingService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;
  readonly #rules: ReceivingRules;

  constructor(db: Kysely<DB>, settings: StoreSettings, rules: ReceivingRules) {
    this.#db = db;
    this.#settings = settings;
    this.#rules = rules;
  }

  /**
   * Runs a receipt once per Idempotency-Key, as inventory's adjust-stock does: the key is claimed
   * in the receipt's transaction and its answer stored before commit; a retry with the same body
   * replays the answer, one with another body is refused.
   */
  async #idempotent(
    auth: AuthContext,
    key: string | undefined,
    request: unknown,
    work: (trx: Transaction<DB>) => Promise<Receipt>,
  ): Promise<ReceiptAnswer> {
    const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    return withTenantRetry(this.#db, auth.orgId, (trx) =>
      oncePerKey(trx, { orgId: auth.orgId, userId: auth.userId, key, requestHash, statusCode: 201 }, () =>
        work(trx),
      ),
    );
  }

  /** What arrived against a purchase order: stock in through the ledger, the order's lines and state updated. */
  async receiveForOrder(
    auth: AuthContext,
    purchaseOrderId: string,
    body: PoReceiptBody,
    key?: string,
  ): Promise<ReceiptAnswer> {
    return this.#idempotent(auth, key, { receipt: 'purchase-order', purchaseOrderId, body }, async (trx) => {
      const order = await lockPurchaseOrder(trx, auth.orgId, purchaseOrderId);
      if (order.status !== 'sent' && order.status !== 'partially_received') {
        throw invalidState(order.status, 'received against: only a sent or partially received order can');
      }
      const ctx = await loadContext(trx, auth.orgId, this.#settings);
      const { receivedAt, day } = receiptMoment(body.receivedAt, ctx);
      const orderLines = await repo.linesOf(trx, auth.orgId, purchaseOrderId);
      const byId = new Map(orderLines.map((line) => [line.id, line]));
      const byItem = new Map(orderLines.map((line) => [line.item_id, line]));

      const problems: FieldProblem[] = [];
      const resolved = body.lines.map((input, index) => {
        if ((input.lineId === undefined) === (input.itemId === undefined)) {
          problems.push({ field: `lines[${index}].lineId`, message: 'send either lineId or itemId' });
          return undefined;
        }
        const line = input.lineId !== undefined ? byId.get(input.lineId) : byItem.get(input.itemId!);
        if (!line) {
          problems.push(
            input.lineId !== undefined
              ? { field: `lines[${index}].lineId`, message: 'is not a line of this purchase order' }
              : {
                  field: `lines[${index}].itemId`,
                  message: 'is not on this purchase order: record it as a direct receipt (POST /v1/receipts)',
                },
          );
          return undefined;
        }
        return line;
      });
      if (problems.length > 0)
        throw errors.unprocessable('Some lines are not on this purchase order', problems);
      const lines = resolved as repo.LineRow[];

      const items = await itemsById(
        trx,
        auth.orgId,
        lines.map((line) => line.item_id),
        { lock: true },
      );
      const deleted = lines.flatMap((line, index) =>
        items.has(line.item_id)
          ? []
          : [{ field: `lines[${index}].itemId`, message: 'the item has been deleted since it was ordered' }],
      );
      if (deleted.length > 0) throw errors.unprocessable('Some items no longer exist', deleted);
      const prepared = this.#prepare(
        body.lines.map((input, index) => ({
          input,
          itemId: lines[index]!.item_id,
          poLineId: lines[index]!.id,
          defaultCost: Number(lines[index]!.unit_cost),
        })),
        items,
        day,
      );

      // Over-receipt: what each order line would have received in all, against its tolerance.
      const incoming = new Map<string, number>();
      for (const line of prepared)
        incoming.set(line.poLineId!, (incoming.get(line.poLineId!) ?? 0) + line.receivedMilli);
      const over = [...incoming].flatMap(([lineId, receiving]) => {
        const line = byId.get(lineId)!;
        const ordered = milli(line.quantity_units);
        const already = milli(line.received_units);
        const allowed = Math.round(ordered * (1 + this.#rules.overTolerance));
        return already + receiving > allowed
          ? [
              {
                lineId,
                lineNumber: line.line_number,
                itemId: line.item_id,
                orderedUnits: fromMilli(ordered),
                receivedUnits: fromMilli(already),
                receivingUnits: fromMilli(receiving),
                allowedUnits: fromMilli(allowed),
              },
            ]
          : [];
      });
      if (over.length > 0 && !body.allowOverReceipt) {
        throw new AppError(
          409,
          'OVER_RECEIPT',
          `More than ordered (plus ${Math.round(this.#rules.overTolerance * 100)}%) would be received: check the delivery, or send allowOverReceipt: true`,
          { lines: over },
        );
      }

      const receipt = await repo.insertReceipt(trx, {
        orgId: auth.orgId,
        purchaseOrderId,
        vendorId: order.vendor_id,
        supplierName: null,
        receivedAt,
        receivedDate: day,
        receivedBy: auth.userId,
        notes: body.notes ?? null,
        deliveryReference: body.deliveryReference ?? null,
      });
      await this.#apply(
        trx,
        auth,
        receipt.id,
        prepared,
        items,
        ctx,
        day,
        `${poNumber(order.number)} received`,
      );
      for (const line of prepared) {
        await repo.addReceivedUnits(
          trx,
          auth.orgId,
          line.poLineId!,
          fromMilli(line.receivedMilli),
          fromMilli(line.rejectedMilli),
        );
      }

      // The order's state from its lines as they now stand.
      const after = await repo.linesOf(trx, auth.orgId, purchaseOrderId);
      const complete = after.every((line) => milli(line.received_units) >= milli(line.quantity_units));
      const anyReceived = after.some((line) => milli(line.received_units) > 0);
      const status: PurchaseOrderStatus = complete
        ? 'received'
        : anyReceived
          ? 'partially_received'
          : order.status;
      await repo.updatePurchaseOrder(trx, auth.orgId, purchaseOrderId, {
        status,
        ...(order.first_received_at === null ? { first_received_at: receivedAt } : {}),
        ...(complete ? { received_at: receivedAt } : {}),
      });
      const events: Array<{ type: string; payload: Record<string, unknown> }> = [
        {
          type: 'receipt:created',
          payload: {
            receiptId: receipt.id,
            purchaseOrderId,
            vendorId: order.vendor_id,
            lines: prepared.length,
          },
        },
      ];
      if (status !== order.status) {
        events.push({
          type: 'purchase_order:received',
          payload: { purchaseOrderId, number: order.number, vendorId: order.vendor_id, status },
        });
      }
      await writeOutboxEvents(trx, auth.orgId, events);
      return this.#load(trx, auth.orgId, receipt.id);
    });
  }

  /** A receipt without a purchase order (bought at the market), from a vendor or a named supplier. */
  async receiveDirect(auth: AuthContext, body: DirectReceiptBody, key?: string): Promise<ReceiptAnswer> {
    return this.#idempotent(auth, key, { receipt: 'direct', body }, async (trx) => {
      if (body.vendorId !== undefined && body.supplierName !== undefined) {
        throw errors.unprocessable('Name the vendor or the supplier, not both', [
          { field: 'supplierName', message: 'must not be sent with vendorId' },
        ]);
      }
      if (body.vendorId !== undefined) await activeVendor(trx, auth.orgId, body.vendorId);
      const ctx = await loadContext(trx, auth.orgId, this.#settings);
      const { receivedAt, day } = receiptMoment(body.receivedAt, ctx);
      const items = await itemsById(
        trx,
        auth.orgId,
        body.lines.map((line) => line.itemId),
        { lock: true },
      );
      const missing = body.lines.flatMap((line, index) =>
        items.has(line.itemId)
          ? []
          : [{ field: `lines[${index}].itemId`, message: 'no such item in this store' }],
      );
      if (missing.length > 0) throw errors.unprocessable('Some items do not exist', missing);
      const prepared = this.#prepare(
        body.lines.map((input) => {
          const cost = items.get(input.itemId)!.unit_cost;
          return {
            input,
            itemId: input.itemId,
            poLineId: null,
            defaultCost: cost === null ? null : Number(cost),
          };
        }),
        items,
        day,
      );
      const receipt = await repo.insertReceipt(trx, {
        orgId: auth.orgId,
        purchaseOrderId: null,
        vendorId: body.vendorId ?? null,
        supplierName: body.supplierName ?? null,
        receivedAt,
        receivedDate: day,
        receivedBy: auth.userId,
        notes: body.notes ?? null,
        deliveryReference: body.deliveryReference ?? null,
      });
      const source = body.supplierName ? ` from ${body.supplierName}` : '';
      await this.#apply(trx, auth, receipt.id, prepared, items, ctx, day, `Direct receipt${source}`);
      await writeOutboxEvents(trx, auth.orgId, [
        {
          type: 'receipt:created',
          payload: {
            receiptId: receipt.id,
            purchaseOrderId: null,
            vendorId: body.vendorId ?? null,
            lines: prepared.length,
          },
        },
      ]);
      return this.#load(trx, auth.orgId, receipt.id);
    });
  }

  /**
   * Checks every line before anything is written (quantities, rejection reasons, expiry against
   * the item's shelf life) and reports all problems at once.
   */
  #prepare(
    lines: Array<{
      input: ReceiptLineInput;
      itemId: string;
      poLineId: string | null;
      defaultCost: number | null;
    }>,
    items: Map<string, { shelf_life_days: number | null }>,
    day: string,
  ): PreparedLine[] {
    const problems: FieldProblem[] = [];
    const prepared = lines.map(({ input, itemId, poLineId, defaultCost }, index): PreparedLine => {
      const at = (field: string, message: string) =>
        problems.push({ field: `lines[${index}].${field}`, message });
      const receivedMilli = milli(input.quantityReceived);
      const rejectedMilli = milli(input.quantityRejected ?? 0);
      if (receivedMilli === 0 && rejectedMilli === 0) {
        at('quantityReceived', 'receive or reject something: both quantities are 0');
      }
      if (rejectedMilli > 0 && input.rejectionReason === undefined) {
        at('rejectionReason', 'is required when quantityRejected is more than 0');
      }
      if (rejectedMilli === 0 && input.rejectionReason !== undefined) {
        at('rejectionReason', 'is only for rejected units: quantityRejected is 0');
      }
      const shelfLife = items.get(itemId)?.shelf_life_days ?? null;
      const expiry = input.expirationDate ?? null;
      if (receivedMilli > 0 && shelfLife !== null && expiry === null) {
        at('expirationDate', `is required: the item has a shelf life of ${shelfLife} days`);
      }
      if (receivedMilli > 0 && expiry !== null && expiry < day) {
        at('expirationDate', `is before the receipt’s day (${day}): reject expired stock instead`);
      }
      const shortDated =
        shelfLife !== null &&
        expiry !== null &&
        daysBetween(day, expiry) < shelfLife * this.#rules.shortDatedShare;
      return {
        index,
        itemId,
        poLineId,
        receivedMilli,
        rejectedMilli,
        rejectionReason: input.rejectionReason ?? null,
        lotCode: input.lotCode ?? null,
        expirationDate: expiry,
        unitCost: input.unitCost ?? defaultCost,
        shortDated,
      };
    });
    if (problems.length > 0) throw errors.unprocessable('Some lines cannot be received', problems);
    return prepared;
  }

  /**
   * Stock in, line by line, through inventory's one stock-change path (lots, ledger, item totals,
   * history, events), on items the caller has locked in id order; then the receipt's lines.
   */
  async #apply(
    trx: Transaction<DB>,
    auth: AuthContext,
    receiptId: string,
    prepared: PreparedLine[],
    items: Awaited<ReturnType<typeof itemsById>>,
    ctx: InventoryContext,
    day: string,
    notes: string,
  ) {
    const rows: repo.NewReceiptLine[] = [];
    const changed = new Set<string>();
    for (const line of prepared) {
      let lotId: string | null = null;
      let movementId: string | null = null;
      if (line.receivedMilli > 0) {
        // The item as it stands now: an earlier line of this receipt may have changed it.
        const item = changed.has(line.itemId)
          ? (await itemsById(trx, auth.orgId, [line.itemId])).get(line.itemId)!
          : items.get(line.itemId)!;
        changed.add(line.itemId);
        const { movement } = await applyStockChange(
          trx,
          auth.orgId,
          item,
          {
            delta: fromMilli(line.receivedMilli),
            reason: 'received',
            notes,
            lotCode: line.lotCode ?? undefined,
            expirationDate: line.expirationDate ?? undefined,
            unitCost: line.unitCost ?? undefined,
            userId: auth.userId,
            receivedDate: day,
          },
          ctx,
        );
        movementId = movement.id;
        lotId = movement.lots[0]?.lotId ?? null;
      }
      rows.push({
        poLineId: line.poLineId,
        itemId: line.itemId,
        quantityReceived: fromMilli(line.receivedMilli),
        quantityRejected: fromMilli(line.rejectedMilli),
        rejectionReason: line.rejectionReason,
        lotCode: line.lotCode,
        expirationDate: line.expirationDate,
        unitCost: line.unitCost,
        shortDated: line.shortDated,
        lotId,
        movementId,
      });
    }
    await repo.insertReceiptLines(trx, auth.orgId, receiptId, rows);
  }

  async #load(trx: Kysely<DB>, orgId: string, id: string): Promise<Receipt> {
    const { rows } = await repo.listReceipts(trx, orgId, { id }, 1, 1);
    if (!rows[0]) throw errors.notFound('Receipt');
    return (await toReceipts(trx, orgId, rows))[0]!;
  }

  async get(auth: AuthContext, id: string): Promise<Receipt> {
    return withTenant(this.#db, auth.orgId, (trx) => this.#load(trx, auth.orgId, id));
  }

  async list(auth: AuthContext, query: ReceiptListQuery) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { rows, total } = await repo.listReceipts(trx, auth.orgId, query, query.page, query.limit);
      return {
        receipts: await toReceipts(trx, auth.orgId, rows),
        pagination: paginate(query.page, query.limit, total),
      };
    });
  }

  /** The receipts of one order (404 for an order that is not the store's). */
  async listForOrder(auth: AuthContext, purchaseOrderId: string, page: number, limit: number) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const order = await repo.findPurchaseOrder(trx, auth.orgId, purchaseOrderId);
      if (!order) throw errors.notFound('Purchase order');
      const { rows, total } = await repo.listReceipts(trx, auth.orgId, { purchaseOrderId }, page, limit);
      return { receipts: await toReceipts(trx, auth.orgId, rows), pagination: paginate(page, limit, total) };
    });
  }
}

/** When the delivery arrived (not in the future) and that moment's day in the store's zone. */
function receiptMoment(receivedAt: string | undefined, ctx: InventoryContext) {
  const now = Date.now();
  const at = receivedAt === undefined ? new Date(now) : new Date(receivedAt);
  if (Number.isNaN(at.getTime()) || at.getTime() > now + CLOCK_SKEW_MS) {
    throw errors.unprocessable('The receipt is dated in the future', [
      { field: 'receivedAt', message: 'must not be in the future' },
    ]);
  }
  const day = todayIn(ctx.timeZone, at);
  return { receivedAt: at, day };
}

async function toReceipts(trx: Kysely<DB>, orgId: string, rows: repo.ReceiptRow[]): Promise<Receipt[]> {
  const lines = await repo.receiptLinesOf(
    trx,
    orgId,
    rows.map((row) => row.id),
  );
  const byReceipt = new Map<string, repo.ReceiptLineRow[]>();
  for (const line of lines) {
    const list = byReceipt.get(line.receipt_id) ?? [];
    list.push(line);
    byReceipt.set(line.receipt_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    purchaseOrderId: row.purchase_order_id,
    poNumber: row.number === null ? null : poNumber(row.number),
    vendorId: row.vendor_id,
    supplierName: row.supplier_name,
    receivedAt: new Date(row.received_at).toISOString(),
    receivedDate: row.received_date,
    receivedBy: row.received_by,
    deliveryReference: row.delivery_reference,
    notes: row.notes,
    lines: (byReceipt.get(row.id) ?? []).map((line) => ({
      id: line.id,
      poLineId: line.purchase_order_line_id,
      itemId: line.item_id,
      description: line.description,
      quantityReceived: Number(line.quantity_received),
      quantityRejected: Number(line.quantity_rejected),
      rejectionReason: line.rejection_reason,
      lotCode: line.lot_code,
      expirationDate: line.expiration_date,
      unitCost: line.unit_cost === null ? null : Number(line.unit_cost),
      shortDated: line.short_dated,
      lotId: line.lot_id,
      movementId: line.movement_id,
    })),
  }));
}
