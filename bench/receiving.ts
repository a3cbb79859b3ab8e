/**
 * Receiving: one 50-line receipt against a sent purchase order, timed request by request on the
 * seeded store (100,000 items by default), one at a time so each figure is one receipt's latency:
 * the PO row lock, 50 item locks in id order, 50 trips through the stock-change path (lot, item
 * totals, ledger, history, outbox), the receipt record and the PO's state, in one transaction.
 * The orders are created and sent first (not timed) from items spread over the whole store.
 */

export interface ReceivingReport {
  receipts: number;
  linesPerReceipt: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Ledger rows written by the timed receipts, checked against what was sent. */
  ledgerRowsWritten: number;
}

interface Options {
  url: string;
  auth: Record<string, string>;
  /** Items in the store (for spreading the orders over it). */
  items: number;
  receipts: number;
  lines: number;
  log: (line: string) => void;
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const body = (await response.json()) as { data?: T; error?: unknown };
  if (!response.ok)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body.data as T;
}

const percentile = (sorted: number[], share: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;

export async function runReceivingBench(options: Options): Promise<ReceivingReport> {
  const json = { ...options.auth, 'content-type': 'application/json' };
  const post = <T>(path: string, body: unknown, headers: Record<string, string> = {}) =>
    call<T>(`${options.url}${path}`, {
      method: 'POST',
      headers: { ...json, ...headers },
      body: JSON.stringify(body),
    });

  // Items from pages spread over the store.
  const pool = new Set<string>();
  const pages = Math.max(1, Math.floor(options.items / 100));
  for (let round = 0; pool.size < options.lines * 4 && round < 20; round++) {
    const pick = 1 + Math.floor((round * pages) / 20);
    const list = await call<Array<{ id: string }>>(`${options.url}/v1/inventory?page=${pick}&limit=100`, {
      headers: options.auth,
    });
    for (const item of list) pool.add(item.id);
  }
  const itemIds = [...pool];
  if (itemIds.length < options.lines) throw new Error(`only ${itemIds.length} items to order`);

  const vendor = await post<{ id: string }>('/v1/vendors', { name: `Bench Wholesale ${Date.now()}` });
  const today = new Date().toISOString().slice(0, 10);
  const expiry = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  const orders: Array<{ id: string; lines: Array<{ id: string; quantityUnits: number }> }> = [];
  options.log(
    `receiving: creating and sending ${options.receipts} purchase orders of ${options.lines} lines…`,
  );
  for (let index = 0; index < options.receipts; index++) {
    const chosen = new Set<string>();
    while (chosen.size < options.lines) chosen.add(itemIds[Math.floor(Math.random() * itemIds.length)]!);
    const po = await post<{ id: string }>('/v1/purchase-orders', {
      vendorId: vendor.id,
      expectedDate: today,
      lines: [...chosen].map((itemId) => ({ itemId, quantity: 12, unitCost: 1.1 })),
    });
    orders.push(await post(`/v1/purchase-orders/${po.id}/send`, { skipEmail: true }));
  }

  options.log('receiving: timing the receipts…');
  const timings: number[] = [];
  let ledgerRowsWritten = 0;
  for (const [index, order] of orders.entries()) {
    const started = performance.now();
    const receipt = await post<{ lines: Array<{ movementId: string | null }> }>(
      `/v1/purchase-orders/${order.id}/receipts`,
      {
        lines: order.lines.map((line) => ({
          lineId: line.id,
          quantityReceived: line.quantityUnits,
          lotCode: `BENCH-${index}`,
          expirationDate: expiry,
        })),
        deliveryReference: `DN-${index}`,
      },
      { 'idempotency-key': `bench-receipt-${vendor.id}-${index}` },
    );
    timings.push(performance.now() - started);
    ledgerRowsWritten += receipt.lines.filter((line) => line.movementId !== null).length;
  }
  const sorted = [...timings].sort((a, b) => a - b);
  return {
    receipts: timings.length,
    linesPerReceipt: options.lines,
    p50Ms: Math.round(percentile(sorted, 0.5) * 10) / 10,
    p95Ms: Math.round(percentile(sorted, 0.95) * 10) / 10,
    maxMs: Math.round(sorted.at(-1)! * 10) / 10,
    ledgerRowsWritten,
  };
}
