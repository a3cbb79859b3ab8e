import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { insertVendor, type Po, poAction, sentPo } from '../../../test/helpers/purchasing.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';

interface ReceiptLine {
  id: string;
  poLineId: string | null;
  itemId: string;
  quantityReceived: number;
  quantityRejected: number;
  rejectionReason: string | null;
  lotCode: string | null;
  expirationDate: string | null;
  unitCost: number | null;
  shortDated: boolean;
  lotId: string | null;
  movementId: string | null;
}
interface Receipt {
  id: string;
  purchaseOrderId: string | null;
  poNumber: string | null;
  vendorId: string | null;
  supplierName: string | null;
  receivedDate: string;
  lines: ReceiptLine[];
}

describe('receiving', () => {
  let t: TestApp;
  let admin: Session;
  let vendor: { id: string; name: string };
  const today = todayIn('UTC');

  beforeAll(async () => {
    t = await createTestApp({ workerMode: 'api' });
    admin = await registerStore(t.app, 'Dairy Corner');
    vendor = await insertVendor(t.testDatabase.database, admin, { name: 'Valley Dairy' });
  });
  afterAll(() => t.close());

  const db = () => t.testDatabase.database.db;
  const ledgerOf = (itemId: string) =>
    db()
      .selectFrom('stock_movements')
      .select(['id', 'type', 'reason', 'quantity', 'stock_after', 'unit_cost', 'lots'])
      .where('item_id', '=', itemId)
      .orderBy('seq')
      .execute();
  const lotsOf = (itemId: string) =>
    db()
      .selectFrom('inventory_lots')
      .select(['id', 'quantity', 'expiration_date', 'lot_code', 'received_date', 'unit_cost'])
      .where('item_id', '=', itemId)
      .orderBy('id')
      .execute();
  const itemOf = async (id: string) =>
    (await t.app.inject({ method: 'GET', url: `/v1/inventory/${id}`, headers: bearer(admin) })).json<{
      data: { remainingStock: number };
    }>().data;
  const getPo = async (id: string) =>
    (await t.app.inject({ method: 'GET', url: `/v1/purchase-orders/${id}`, headers: bearer(admin) })).json<{
      data: Po;
    }>().data;

  it('takes a partial then a final delivery into stock, with lots, expiry and a rejection', async () => {
    const milk = await createItem(t.app, admin, {
      description: 'Whole milk 1l',
      unitCost: 0.8,
      shelfLifeDays: 10,
    });
    const butter = await createItem(t.app, admin, { description: 'Butter 250g', unitCost: 1.5 });
    const po = await sentPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [
        { itemId: milk.id, quantity: 24, unitCost: 0.75 },
        { itemId: butter.id, quantity: 10, unitCost: 1.4 },
      ],
    });
    const milkLine = po.lines[0]!;

    const first = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [
        {
          lineId: milkLine.id,
          quantityReceived: 12,
          quantityRejected: 2,
          rejectionReason: 'damaged',
          lotCode: 'M-1',
          expirationDate: addDays(today, 8),
        },
        { itemId: butter.id, quantityReceived: 10, lotCode: 'B-1' },
      ],
      deliveryReference: 'DN-1001',
    });
    expect(first.statusCode).toBe(201);
    const receipt = first.json<{ data: Receipt }>().data;
    expect(receipt).toMatchObject({ purchaseOrderId: po.id, poNumber: po.poNumber, vendorId: vendor.id });
    expect(receipt.lines[0]).toMatchObject({
      poLineId: milkLine.id,
      itemId: milk.id,
      quantityReceived: 12,
      quantityRejected: 2,
      rejectionReason: 'damaged',
      lotCode: 'M-1',
      expirationDate: addDays(today, 8),
      unitCost: 0.75,
      shortDated: false,
    });
    expect(receipt.lines[1]).toMatchObject({ itemId: butter.id, quantityReceived: 10, unitCost: 1.4 });

    let order = await getPo(po.id);
    expect(order.status).toBe('partially_received');
    expect(order.firstReceivedAt).not.toBeNull();
    expect(order.receivedAt).toBeNull();
    expect(order.lines[0]).toMatchObject({ receivedUnits: 12, rejectedUnits: 2, outstandingUnits: 12 });
    expect(order.lines[1]).toMatchObject({ receivedUnits: 10, outstandingUnits: 0 });

    // Short-dated: 3 days left of a 10-day shelf life is under half.
    const second = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [{ itemId: milk.id, quantityReceived: 12, lotCode: 'M-2', expirationDate: addDays(today, 3) }],
    });
    expect(second.statusCode).toBe(201);
    expect(second.json<{ data: Receipt }>().data.lines[0]).toMatchObject({ shortDated: true });
    order = await getPo(po.id);
    expect(order.status).toBe('received');
    expect(order.receivedAt).not.toBeNull();
    expect(order.lines[0]).toMatchObject({ receivedUnits: 24, rejectedUnits: 2, outstandingUnits: 0 });

    // The ledger, the lots and the item: as any receipt through adjust-stock.
    const ledger = await ledgerOf(milk.id);
    expect(
      ledger.map((row) => [row.type, row.reason, Number(row.quantity), Number(row.stock_after)]),
    ).toEqual([
      ['receipt', 'received', 12, 12],
      ['receipt', 'received', 12, 24],
    ]);
    const lots = await lotsOf(milk.id);
    expect(
      lots.map((lot) => [lot.lot_code, Number(lot.quantity), lot.expiration_date, Number(lot.unit_cost)]),
    ).toEqual([
      ['M-1', 12, addDays(today, 8), 0.75],
      ['M-2', 12, addDays(today, 3), 0.75],
    ]);
    expect(lots[0]!.received_date).toBe(today);
    expect((await itemOf(milk.id)).remainingStock).toBe(24);
    expect((await itemOf(butter.id)).remainingStock).toBe(10);
    expect(receipt.lines[0]!.movementId).toBe(ledger[0]!.id);
    expect(receipt.lines[0]!.lotId).toBe(lots[0]!.id);

    // Read back by id, by order and in the list.
    const byId = await t.app.inject({
      method: 'GET',
      url: `/v1/receipts/${receipt.id}`,
      headers: bearer(admin),
    });
    expect(byId.json<{ data: Receipt }>().data).toEqual(receipt);
    const forOrder = await t.app.inject({
      method: 'GET',
      url: `/v1/purchase-orders/${po.id}/receipts`,
      headers: bearer(admin),
    });
    expect(forOrder.json().data).toHaveLength(2);
    const listed = await t.app.inject({
      method: 'GET',
      url: `/v1/receipts?purchaseOrderId=${po.id}&dateFrom=${today}&dateTo=${today}`,
      headers: bearer(admin),
    });
    expect(listed.json().meta.pagination.total).toBe(2);

    const events = await db()
      .selectFrom('outbox_events')
      .select(['type', 'payload'])
      .where('org_id', '=', admin.user.organization.id)
      .where('type', 'in', ['receipt:created', 'purchase_order:received', 'inventory:stock_updated'])
      .execute();
    expect(events.filter((event) => event.type === 'receipt:created')).toHaveLength(2);
    expect(
      events.filter((event) => event.type === 'purchase_order:received').map((event) => event.payload.status),
    ).toEqual(['partially_received', 'received']);
    expect(events.filter((event) => event.type === 'inventory:stock_updated').length).toBeGreaterThanOrEqual(
      3,
    );
  });

  it('applies a retried receipt once (same Idempotency-Key) and refuses the key for another body', async () => {
    const cream = await createItem(t.app, admin, { description: 'Cream 200ml', unitCost: 1 });
    const po = await sentPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: cream.id, quantity: 10 }],
    });
    const body = { lines: [{ itemId: cream.id, quantityReceived: 4 }] };
    const key = { 'idempotency-key': `receipt-${po.id}` };
    const first = await poAction(t.app, admin, po.id, 'receipts', body, key);
    const again = await poAction(t.app, admin, po.id, 'receipts', body, key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().data).toEqual(first.json().data);
    expect(await ledgerOf(cream.id)).toHaveLength(1);
    expect((await getPo(po.id)).lines[0]!.receivedUnits).toBe(4);

    const other = await poAction(
      t.app,
      admin,
      po.id,
      'receipts',
      { lines: [{ itemId: cream.id, quantityReceived: 5 }] },
      key,
    );
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await ledgerOf(cream.id)).toHaveLength(1);
  });

  it('refuses an over-receipt beyond the tolerance unless allowed', async () => {
    const yogurt = await createItem(t.app, admin, { description: 'Yogurt 500g', unitCost: 1 });
    const po = await sentPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: yogurt.id, quantity: 10 }],
    });
    // 10% over is within the tolerance.
    const within = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [{ itemId: yogurt.id, quantityReceived: 6 }],
    });
    expect(within.statusCode).toBe(201);
    const over = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [{ itemId: yogurt.id, quantityReceived: 6 }],
    });
    expect(over.statusCode).toBe(409);
    expect(over.json().error).toMatchObject({
      code: 'OVER_RECEIPT',
      details: {
        lines: [
          {
            lineId: po.lines[0]!.id,
            orderedUnits: 10,
            receivedUnits: 6,
            receivingUnits: 6,
            allowedUnits: 11,
          },
        ],
      },
    });
    expect(await ledgerOf(yogurt.id)).toHaveLength(1);
    const allowed = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [{ itemId: yogurt.id, quantityReceived: 6 }],
      allowOverReceipt: true,
    });
    expect(allowed.statusCode).toBe(201);
    const order = await getPo(po.id);
    expect(order.status).toBe('received');
    expect(order.lines[0]).toMatchObject({ receivedUnits: 12, outstandingUnits: 0 });

    const stray = await createItem(t.app, admin, { description: 'Not ordered', unitCost: 1 });
    const other = await sentPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: yogurt.id, quantity: 1 }],
    });
    const notOnOrder = await poAction(t.app, admin, other.id, 'receipts', {
      lines: [{ itemId: stray.id, quantityReceived: 1 }],
      allowOverReceipt: true,
    });
    expect(notOnOrder.statusCode).toBe(422);
    expect(notOnOrder.json().error.details[0].field).toBe('lines[0].itemId');
  });

  it('needs an expiry for an item with a shelf life, not before the receipt day; a refused line writes nothing', async () => {
    const cheese = await createItem(t.app, admin, { description: 'Brie', unitCost: 3, shelfLifeDays: 30 });
    const eggs = await createItem(t.app, admin, { description: 'Eggs x6', unitCost: 2 });
    const po = await sentPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [
        { itemId: eggs.id, quantity: 5 },
        { itemId: cheese.id, quantity: 5 },
      ],
    });
    const receiptsBefore = await db()
      .selectFrom('receipts')
      .select('id')
      .where('purchase_order_id', '=', po.id)
      .execute();
    // The eggs line is fine; the cheese line has no expiry: nothing at all may be written.
    const missing = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [
        { itemId: eggs.id, quantityReceived: 5 },
        { itemId: cheese.id, quantityReceived: 5 },
      ],
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error.details).toEqual([
      { field: 'lines[1].expirationDate', message: expect.stringContaining('shelf life of 30 days') },
    ]);
    const past = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [
        { itemId: eggs.id, quantityReceived: 5 },
        { itemId: cheese.id, quantityReceived: 5, expirationDate: addDays(today, -1) },
      ],
    });
    expect(past.statusCode).toBe(422);
    expect(past.json().error.details[0].field).toBe('lines[1].expirationDate');
    const noReason = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [{ itemId: eggs.id, quantityReceived: 1, quantityRejected: 1 }],
    });
    expect(noReason.statusCode).toBe(422);
    expect(noReason.json().error.details[0].field).toBe('lines[0].rejectionReason');
    const future = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [{ itemId: eggs.id, quantityReceived: 1 }],
      receivedAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(future.statusCode).toBe(422);

    expect(await ledgerOf(eggs.id)).toHaveLength(0);
    expect(await lotsOf(eggs.id)).toHaveLength(0);
    expect((await itemOf(eggs.id)).remainingStock).toBe(0);
    expect(
      await db().selectFrom('receipts').select('id').where('purchase_order_id', '=', po.id).execute(),
    ).toEqual(receiptsBefore);
    const order = await getPo(po.id);
    expect(order.status).toBe('sent');
    expect(order.lines.map((line) => line.receivedUnits)).toEqual([0, 0]);

    // A rejected-only line needs no expiry.
    const rejected = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [{ itemId: cheese.id, quantityReceived: 0, quantityRejected: 5, rejectionReason: 'quality' }],
    });
    expect(rejected.statusCode).toBe(201);
    expect(rejected.json<{ data: Receipt }>().data.lines[0]).toMatchObject({ movementId: null, lotId: null });
    expect((await getPo(po.id)).lines[1]).toMatchObject({ receivedUnits: 0, rejectedUnits: 5 });
  });

  it('records a direct receipt from a market supplier or a vendor, and lists receipts by vendor', async () => {
    const herbs = await createItem(t.app, admin, { description: 'Basil bunch', unitCost: 0.6 });
    const direct = await t.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: bearer(admin),
      payload: {
        supplierName: 'Saturday market',
        lines: [{ itemId: herbs.id, quantityReceived: 8, lotCode: 'MKT' }],
        notes: 'cash',
      },
    });
    expect(direct.statusCode).toBe(201);
    const receipt = direct.json<{ data: Receipt }>().data;
    expect(receipt).toMatchObject({
      purchaseOrderId: null,
      poNumber: null,
      vendorId: null,
      supplierName: 'Saturday market',
    });
    expect(receipt.lines[0]).toMatchObject({ quantityReceived: 8, unitCost: 0.6, poLineId: null });
    expect((await itemOf(herbs.id)).remainingStock).toBe(8);

    const fromVendor = await t.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { ...bearer(admin), 'idempotency-key': `direct-${herbs.id}` },
      payload: { vendorId: vendor.id, lines: [{ itemId: herbs.id, quantityReceived: 2, unitCost: 0.5 }] },
    });
    expect(fromVendor.statusCode).toBe(201);
    const byVendor = await t.app.inject({
      method: 'GET',
      url: `/v1/receipts?vendorId=${vendor.id}`,
      headers: bearer(admin),
    });
    expect(byVendor.json().data.map((row: Receipt) => row.id)).toContain(fromVendor.json().data.id);
    expect(byVendor.json().data.every((row: Receipt) => row.vendorId === vendor.id)).toBe(true);

    const both = await t.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: bearer(admin),
      payload: { vendorId: vendor.id, supplierName: 'x', lines: [{ itemId: herbs.id, quantityReceived: 1 }] },
    });
    expect(both.statusCode).toBe(422);
    expect((await itemOf(herbs.id)).remainingStock).toBe(10);
  });

  it('keeps receipts to their store: 404 for another store’s, 422 for its items', async () => {
    const milk = await createItem(t.app, admin, { description: 'Skimmed milk', unitCost: 0.7 });
    const po = await sentPo(t.app, admin, { vendorId: vendor.id, lines: [{ itemId: milk.id, quantity: 3 }] });
    const ours = (
      await poAction(t.app, admin, po.id, 'receipts', { lines: [{ itemId: milk.id, quantityReceived: 1 }] })
    ).json<{ data: Receipt }>().data;
    const stranger = await registerStore(t.app, 'Elsewhere');
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/receipts/${ours.id}`, headers: bearer(stranger) }))
        .statusCode,
    ).toBe(404);
    const onOurOrder = await poAction(t.app, stranger, po.id, 'receipts', {
      lines: [{ itemId: milk.id, quantityReceived: 1 }],
    });
    expect(onOurOrder.statusCode).toBe(404);
    const ourItem = await t.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: bearer(stranger),
      payload: { lines: [{ itemId: milk.id, quantityReceived: 1 }] },
    });
    expect(ourItem.statusCode).toBe(422);
    expect(ourItem.json().error.details[0].field).toBe('lines[0].itemId');
    const ourVendor = await t.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: bearer(stranger),
      payload: { vendorId: vendor.id, lines: [{ itemId: milk.id, quantityReceived: 1 }] },
    });
    expect(ourVendor.statusCode).toBe(422);
    const theirList = await t.app.inject({ method: 'GET', url: '/v1/receipts', headers: bearer(stranger) });
    expect(theirList.json().data).toEqual([]);
    expect((await itemOf(milk.id)).remainingStock).toBe(1);
  });
});
