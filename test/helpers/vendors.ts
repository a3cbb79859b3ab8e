import { type Kysely, sql } from 'kysely';
import type { DB, OrderUnit, PurchaseOrderStatus } from '../../src/platform/db/schema.ts';

/**
 * Purchase orders and receipts written straight into their tables (as migration 0021 defines
 * them), as the owner, for tests of figures that vendors compute from purchasing history: the
 * API dates an order the day it is sent and a receipt when it is booked, so history spread over
 * past weeks (lead times, last-order sorting) is written here. Flows through the API are tested
 * in purchasing/ and vendors/performance.test.ts.
 */

export interface OrderLine {
  itemId: string;
  quantity: number;
  orderUnit?: OrderUnit;
  unitsPerCase?: number;
  unitCost?: number;
}

export async function insertPurchaseOrder(
  db: Kysely<DB>,
  orgId: string,
  vendorId: string,
  order: { orderDate: string; status: PurchaseOrderStatus; lines?: OrderLine[] },
) {
  const { number } = await db
    .selectFrom('purchase_orders')
    .select(sql<number>`coalesce(max(number), 0) + 1`.as('number'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow();
  const { id } = await db
    .insertInto('purchase_orders')
    .values({
      org_id: orgId,
      vendor_id: vendorId,
      number,
      status: order.status,
      order_date: order.orderDate,
      expected_date: order.orderDate,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const lineIds = new Map<string, string>();
  for (const [index, line] of (order.lines ?? []).entries()) {
    const inserted = await db
      .insertInto('purchase_order_lines')
      .values({
        org_id: orgId,
        purchase_order_id: id,
        line_number: index + 1,
        item_id: line.itemId,
        description: 'Test line',
        order_unit: line.orderUnit ?? 'unit',
        quantity: line.quantity,
        units_per_case: line.unitsPerCase ?? 1,
        unit_cost: line.unitCost ?? 1,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    lineIds.set(line.itemId, inserted.id);
  }
  return { id, lineIds };
}

/** A receipt against an order; each line's units went in with the ledger row `movementId`. */
export async function insertReceipt(
  db: Kysely<DB>,
  orgId: string,
  receipt: {
    purchaseOrderId: string;
    vendorId: string;
    receivedDate: string;
    lines: Array<{
      itemId: string;
      purchaseOrderLineId?: string;
      quantityReceived: number;
      movementId: string;
    }>;
  },
) {
  const { id } = await db
    .insertInto('receipts')
    .values({
      org_id: orgId,
      purchase_order_id: receipt.purchaseOrderId,
      vendor_id: receipt.vendorId,
      received_at: `${receipt.receivedDate}T12:00:00Z`,
      received_date: receipt.receivedDate,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const line of receipt.lines) {
    await db
      .insertInto('receipt_lines')
      .values({
        org_id: orgId,
        receipt_id: id,
        purchase_order_line_id: line.purchaseOrderLineId ?? null,
        item_id: line.itemId,
        quantity_received: line.quantityReceived,
        movement_id: line.movementId,
      })
      .execute();
  }
  return id;
}
