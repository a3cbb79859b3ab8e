import type { Database } from '../../src/platform/db/database.ts';

export interface HistoryDay {
  /** Store-local (UTC in tests) day, YYYY-MM-DD. */
  day: string;
  sold: number;
  /** The day's sale empties the shelf (stock-out: demand was at least what sold). */
  soldOut?: boolean;
}

/**
 * Writes an item's past ledger directly (the API stamps movements with the current time): per
 * day a delivery at 07:00 when needed and one sale at 12:00, with running stock. Deliveries keep
 * the sale from emptying the shelf, except on `soldOut` days, where exactly the shortfall comes
 * in and the sale leaves none. The closing stock is written to the item so reads agree.
 */
export async function insertSalesHistory(
  database: Database,
  orgId: string,
  itemId: string,
  days: readonly HistoryDay[],
  openingStock = 0,
): Promise<number> {
  let stock = openingStock;
  const rows: Array<Record<string, unknown>> = [];
  for (const { day, sold, soldOut } of days) {
    const incoming = soldOut ? Math.max(0, sold - stock) : Math.max(0, 2 * sold + 1 - stock);
    if (incoming > 0) {
      rows.push({
        org_id: orgId,
        item_id: itemId,
        type: 'receipt',
        reason: 'delivery',
        quantity: incoming,
        stock_before: stock,
        stock_after: stock + incoming,
        occurred_at: `${day}T07:00:00Z`,
      });
      stock += incoming;
    }
    const sale = soldOut ? stock : sold;
    if (sale > 0) {
      rows.push({
        org_id: orgId,
        item_id: itemId,
        type: 'sale',
        reason: 'sale',
        quantity: -sale,
        stock_before: stock,
        stock_after: stock - sale,
        occurred_at: `${day}T12:00:00Z`,
      });
      stock -= sale;
    }
  }
  for (let start = 0; start < rows.length; start += 1000) {
    await database.db
      .insertInto('stock_movements')
      .values(rows.slice(start, start + 1000) as never)
      .execute();
  }
  await database.db
    .updateTable('inventory_items')
    .set({ remaining_stock: String(stock) })
    .where('id', '=', itemId)
    .execute();
  return stock;
}
