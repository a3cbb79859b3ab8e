import { timeOrderedId } from '../../platform/ids.ts';
import type { Executor } from '../../platform/db/tenant.ts';
import { type BulkTable, insertRowSets } from '../inventory/inventory.repository.ts';
import { addDays } from '../inventory/inventory.service.ts';
import type { DemoItem } from './demo.data.ts';

/**
 * The demo store's purchasing history: a catalogue line for every item at its vendor, and the
 * purchase orders and receipts behind every receipt already in its ledger. Each ledger receipt
 * (item, day, quantity, lot, movement) is one receipt line; the receipts of one vendor on one day
 * are one purchase order and one receipt. So performance, catalogue figures and (later) the
 * three-way match have six months of history that agrees with the stock, row for row.
 *
 * The history is varied the way deliveries are (seeded, so the same every time): lead times per
 * vendor, some deliveries a day late, some lines with units refused at the door (those orders
 * were closed short), most orders acknowledged by the vendor some hours after sending.
 */

/** Per vendor: lead time in days, units per case for its goods, the share of late deliveries. */
const VENDOR_TERMS: Record<string, { leadTimeDays: number; unitsPerCase: number; lateShare: number }> = {
  produce: { leadTimeDays: 1, unitsPerCase: 1, lateShare: 0.04 },
  dairy: { leadTimeDays: 1, unitsPerCase: 12, lateShare: 0.03 },
  meat: { leadTimeDays: 2, unitsPerCase: 1, lateShare: 0.08 },
  bakery: { leadTimeDays: 1, unitsPerCase: 6, lateShare: 0.02 },
  pantry: { leadTimeDays: 3, unitsPerCase: 12, lateShare: 0.12 },
  frozen: { leadTimeDays: 2, unitsPerCase: 12, lateShare: 0.06 },
  organic: { leadTimeDays: 2, unitsPerCase: 6, lateShare: 0.15 },
};

/** A receipt the demo ledger holds, with what a receipt line needs to point at it. */
export interface DemoLedgerReceipt {
  itemId: string;
  item: DemoItem;
  day: string;
  quantity: number;
  movementId: string;
  lotId: string;
  lotCode: string;
  expirationDate: string;
}

const money = (value: number) => Math.round(value * 100) / 100;
const at = (day: string, hour: number) => `${day}T${String(hour).padStart(2, '0')}:00:00.000Z`;

export function demoPurchasing(input: {
  orgId: string;
  managerId: string;
  currency: string;
  today: string;
  vendorIds: Map<string, string>;
  items: Array<{ id: string; item: DemoItem }>;
  receipts: DemoLedgerReceipt[];
  random: () => number;
}) {
  const { orgId, random } = input;
  const catalogue = input.items.map(({ id, item }) => {
    const terms = VENDOR_TERMS[item.vendorKey]!;
    return {
      id: timeOrderedId(),
      org_id: orgId,
      vendor_id: input.vendorIds.get(item.vendorKey)!,
      item_id: id,
      vendor_sku: `${item.vendorKey.slice(0, 3).toUpperCase()}-${item.itemSku}`,
      vendor_description: item.description.toUpperCase(),
      units_per_case: terms.unitsPerCase,
      minimum_order_quantity: 0,
      minimum_order_unit: 'unit',
      unit_cost: item.unitCost,
      // Above what the store's restocking orders reach, so the history's costs stay the ledger's.
      price_breaks: [{ minQuantity: Math.max(48, item.parLevel * 4), unitCost: money(item.unitCost * 0.93) }],
      lead_time_days: terms.leadTimeDays,
      delivery_days: [],
      preferred: true,
      created_at: at(input.today, 0),
      updated_at: at(input.today, 0),
    };
  });

  // One order per vendor and delivery day, in the order they were placed.
  const byOrder = new Map<string, DemoLedgerReceipt[]>();
  for (const receipt of input.receipts) {
    const key = `${receipt.day}|${receipt.item.vendorKey}`;
    const list = byOrder.get(key) ?? [];
    list.push(receipt);
    byOrder.set(key, list);
  }
  const orders: unknown[] = [];
  const orderLines: unknown[] = [];
  const receiptRows: unknown[] = [];
  const receiptLines: unknown[] = [];
  let number = 0;
  for (const key of [...byOrder.keys()].sort()) {
    const [day, vendorKey] = key.split('|') as [string, string];
    const lines = byOrder.get(key)!;
    const terms = VENDOR_TERMS[vendorKey]!;
    const orderDate = addDays(day, -terms.leadTimeDays);
    const late = random() < terms.lateShare;
    const acknowledged = random() < 0.85;
    const sentAt = at(orderDate, 14);
    const orderId = timeOrderedId();
    const receiptId = timeOrderedId();
    let subtotal = 0;
    let short = false;
    lines.forEach((receipt, index) => {
      // Now and then some units are refused at the door (damaged in transit, poor quality).
      const rejected = random() < 0.01 ? Math.max(1, Math.round(receipt.quantity * 0.1)) : 0;
      if (rejected > 0) short = true;
      const ordered = receipt.quantity + rejected;
      subtotal += money(ordered * receipt.item.unitCost);
      const lineId = timeOrderedId();
      orderLines.push({
        id: lineId,
        org_id: orgId,
        purchase_order_id: orderId,
        line_number: index + 1,
        item_id: receipt.itemId,
        vendor_sku: `${vendorKey.slice(0, 3).toUpperCase()}-${receipt.item.itemSku}`,
        description: receipt.item.description,
        order_unit: 'unit',
        quantity: ordered,
        units_per_case: terms.unitsPerCase,
        unit_cost: receipt.item.unitCost,
        received_units: receipt.quantity,
        rejected_units: rejected,
      });
      receiptLines.push({
        id: timeOrderedId(),
        org_id: orgId,
        receipt_id: receiptId,
        purchase_order_line_id: lineId,
        item_id: receipt.itemId,
        quantity_received: receipt.quantity,
        quantity_rejected: rejected,
        rejection_reason: rejected > 0 ? (random() < 0.6 ? 'damaged' : 'quality') : null,
        lot_code: receipt.lotCode,
        expiration_date: receipt.expirationDate,
        unit_cost: receipt.item.unitCost,
        short_dated: false,
        lot_id: receipt.lotId,
        movement_id: receipt.movementId,
      });
    });
    number += 1;
    orders.push({
      id: orderId,
      org_id: orgId,
      vendor_id: input.vendorIds.get(vendorKey)!,
      number,
      status: 'received',
      order_date: orderDate,
      // A late delivery arrived a day after the day the vendor had promised.
      expected_date: late ? addDays(day, -1) : day,
      notes: null,
      short_closed_at: short ? at(day, 9) : null,
      close_reason: short ? 'Refused units were not redelivered' : null,
      currency: input.currency,
      subtotal: money(subtotal),
      created_by: input.managerId,
      sent_at: sentAt,
      acknowledged_at: acknowledged ? at(orderDate, 15 + Math.floor(random() * 8)) : null,
      first_received_at: at(day, 7),
      received_at: at(day, 7),
      created_at: at(orderDate, 13),
      updated_at: at(day, 7),
    });
    receiptRows.push({
      id: receiptId,
      org_id: orgId,
      purchase_order_id: orderId,
      vendor_id: input.vendorIds.get(vendorKey)!,
      received_at: at(day, 7),
      received_date: day,
      received_by: input.managerId,
      delivery_reference: `DN-${day.replaceAll('-', '')}-${vendorKey.slice(0, 3).toUpperCase()}`,
      created_at: at(day, 7),
    });
  }
  return { catalogue, orders, orderLines, receiptRows, receiptLines, lastNumber: number };
}

const CATALOGUE_COLUMNS = [
  'id',
  'org_id',
  'vendor_id',
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
  'preferred',
  'created_at',
  'updated_at',
] as const;
const ORDER_COLUMNS = [
  'id',
  'org_id',
  'vendor_id',
  'number',
  'status',
  'order_date',
  'expected_date',
  'notes',
  'currency',
  'subtotal',
  'created_by',
  'sent_at',
  'acknowledged_at',
  'first_received_at',
  'received_at',
  'short_closed_at',
  'close_reason',
  'created_at',
  'updated_at',
] as const;
const ORDER_LINE_COLUMNS = [
  'id',
  'org_id',
  'purchase_order_id',
  'line_number',
  'item_id',
  'vendor_sku',
  'description',
  'order_unit',
  'quantity',
  'units_per_case',
  'unit_cost',
  'received_units',
  'rejected_units',
] as const;
const RECEIPT_COLUMNS = [
  'id',
  'org_id',
  'purchase_order_id',
  'vendor_id',
  'received_at',
  'received_date',
  'received_by',
  'delivery_reference',
  'created_at',
] as const;
const RECEIPT_LINE_COLUMNS = [
  'id',
  'org_id',
  'receipt_id',
  'purchase_order_line_id',
  'item_id',
  'quantity_received',
  'quantity_rejected',
  'rejection_reason',
  'lot_code',
  'expiration_date',
  'unit_cost',
  'short_dated',
  'lot_id',
  'movement_id',
] as const;

/** The tables demoPurchasing's rows go into, in the order they are written. */
export const PURCHASING_TABLES = [
  'vendor_products',
  'purchase_orders',
  'purchase_order_lines',
  'receipts',
  'receipt_lines',
] as const;

/**
 * Writes the purchasing history, 5,000 rows a statement (see ROWS_PER_STATEMENT in demo.seed.ts),
 * after the ledger and lots it points at.
 */
export async function insertPurchasing(
  db: Executor,
  orgId: string,
  rows: ReturnType<typeof demoPurchasing>,
  rowsPerStatement: number,
) {
  const sets: Array<[BulkTable, readonly string[], unknown[]]> = [
    ['vendor_products', CATALOGUE_COLUMNS, rows.catalogue],
    ['purchase_orders', ORDER_COLUMNS, rows.orders],
    ['purchase_order_lines', ORDER_LINE_COLUMNS, rows.orderLines],
    ['receipts', RECEIPT_COLUMNS, rows.receiptRows],
    ['receipt_lines', RECEIPT_LINE_COLUMNS, rows.receiptLines],
  ];
  for (const [table, columns, list] of sets) {
    for (let start = 0; start < list.length; start += rowsPerStatement) {
      const rowsJson = JSON.stringify(list.slice(start, start + rowsPerStatement));
      await insertRowSets(db, [{ table, columns, rowsJson }]);
    }
  }
  await insertRowSets(db, [
    {
      table: 'purchase_order_counters',
      columns: ['org_id', 'last_number'],
      rowsJson: JSON.stringify([{ org_id: orgId, last_number: rows.lastNumber }]),
    },
  ]);
}
