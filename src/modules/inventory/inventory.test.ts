import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { Value } from 'typebox/value';
import { apiItems } from './inventory.repository.ts';
import { Item } from './inventory.schemas.ts';
import { addDays, todayIn } from './inventory.service.ts';

let t: TestApp;
let admin: Session;
const today = todayIn('UTC');
const inDays = (days: number) => addDays(today, days);

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'Inventory Store');
});
afterAll(() => t.close());

const get = (url: string, session = admin) => t.app.inject({ method: 'GET', url, headers: bearer(session) });
const ledger = (itemId: string) =>
  t.testDatabase.database.db
    .selectFrom('stock_movements')
    .selectAll()
    .where('item_id', '=', itemId)
    .orderBy('occurred_at')
    .execute();
const events = (itemId: string) =>
  t.testDatabase.database.db
    .selectFrom('outbox_events')
    .select(['type', 'payload'])
    .where(sql<boolean>`payload->>'itemId' = ${itemId}`)
    .orderBy('id')
    .execute();

describe('items', () => {
  it('creates an item whose opening stock and expiry become its first lot', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/inventory',
      headers: bearer(admin),
      payload: {
        description: 'Organic Whole Milk 1L',
        category: 'Dairy',
        brand: 'Alpine Farms',
        itemSku: 'MILK-ORG-1L',
        itemUpc: '036000291452',
        qtyShipped: 24,
        remainingStock: 24,
        expirationDate: inDays(10),
        unitCost: 0.89,
        unitRetail: 1.49,
        reorderPoint: 6,
        location: 'Cooler 2',
      },
    });
    expect(response.statusCode).toBe(201);
    const item = response.json().data;
    expect(item).toMatchObject({
      description: 'Organic Whole Milk 1L',
      remainingStock: 24,
      expirationDate: inDays(10),
      unitCost: 0.89,
      unitRetail: 1.49,
      reorderPoint: 6,
      status: 'in_stock',
      advertisingFlag: false,
    });
    expect(item.lots).toEqual([
      expect.objectContaining({
        quantity: 24,
        expirationDate: inDays(10),
        receivedDate: today,
        unitCost: 0.89,
      }),
    ]);
    const movements = await ledger(item.id);
    expect(movements).toHaveLength(1);
    expect(movements[0]).toMatchObject({ type: 'receipt', reason: 'received', user_id: admin.user.id });
    expect(Number(movements[0]!.stock_after)).toBe(24);
  });

  it('stores money and quantities as exact decimals, not floats', async () => {
    const { rows } = await sql<{ column_name: string; data_type: string }>`
      select column_name, data_type from information_schema.columns
       where table_name in ('inventory_items', 'inventory_lots')
         and column_name in ('unit_cost', 'vendor_cost', 'cust_cost_each', 'unit_retail', 'remaining_stock', 'quantity')
    `.execute(t.testDatabase.database.db);
    expect(rows.length).toBeGreaterThanOrEqual(7);
    for (const row of rows) expect(row.data_type, row.column_name).toBe('numeric');
    const item = await createItem(t.app, admin, {
      description: 'Cents test',
      unitCost: 0.1,
      vendorCost: 2.675,
    });
    const stored = await t.testDatabase.database.db
      .selectFrom('inventory_items')
      .select(['unit_cost', 'vendor_cost'])
      .where('id', '=', item.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ unit_cost: '0.1000', vendor_cost: '2.6750' });
  });

  it('writes every field in the API shape, the same in a list page, a read and a lookup', async () => {
    const vendor = await t.testDatabase.database.db
      .insertInto('vendors')
      .values({ org_id: admin.user.organization.id, name: 'Wire Format Foods' })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Every field that comes back as it was sent; stock and expiry follow the lots (below).
    const sent = {
      description: 'Wire format yoghurt 500g',
      category: 'WireFormat',
      brand: 'Dale',
      department: 'Chilled',
      itemSku: 'WIRE-001',
      itemUpc: '012345678905',
      packSize: '6 x 500g',
      qtyShipped: 24,
      salesWeekly: 3.25,
      location: 'Cooler 3',
      aisle: '7',
      row: 'B',
      bin: '12',
      unitCost: 0.1,
      vendorCost: 2.675,
      custCostEach: 1.0005,
      unitRetail: 3,
      advertisingFlag: true,
      orderType: 'weekly',
      vendorId: vendor.id,
      reorderPoint: 2.5,
      shelfLifeDays: 21,
    };
    const created = await createItem(t.app, admin, {
      ...sent,
      remainingStock: 12.5,
      expirationDate: inDays(20),
    });
    const received = await adjust(t.app, admin, created.id, {
      adjustment: 4,
      reason: 'received',
      lotCode: 'L-77',
      expirationDate: inDays(5),
      unitCost: 0.125,
    });
    expect(received.statusCode, received.body).toBe(200);
    // The single read adds the item's reorder policy (null: no forecast yet); the rest is the item.
    const { reorderPolicy, ...read } = (await get(`/v1/inventory/${created.id}`)).json().data;
    expect(reorderPolicy).toBeNull();
    const stored = await t.testDatabase.database.db
      .selectFrom('inventory_items')
      .select(['created_at', 'updated_at'])
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(read).toEqual({
      id: created.id,
      ...sent,
      remainingStock: 16.5,
      expiredStock: 0,
      expirationDate: inDays(5),
      status: 'in_stock',
      // FEFO: the lot received second expires first.
      lots: [
        {
          id: expect.any(String),
          lotCode: 'L-77',
          quantity: 4,
          expirationDate: inDays(5),
          receivedDate: today,
          unitCost: 0.125,
          expired: false,
        },
        {
          id: created.lots[0]!.id,
          lotCode: null,
          quantity: 12.5,
          expirationDate: inDays(20),
          receivedDate: today,
          unitCost: 0.1,
          expired: false,
        },
      ],
      createdAt: stored.created_at.toISOString(),
      updatedAt: stored.updated_at.toISOString(),
    });
    expect([...Value.Errors(Item, read)]).toEqual([]);
    // The list sends PostgreSQL's text as is: it must be the same item, byte for byte in meaning.
    const listed = await get('/v1/inventory?category=WireFormat');
    expect(listed.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(listed.json()).toMatchObject({ success: true, meta: { pagination: { total: 1, page: 1 } } });
    expect(listed.json().data).toEqual([read]);
    // Compact, as JavaScript writes JSON: no " : " or ", " between keys and values.
    expect(listed.body).not.toMatch(/" : |, "/);
    const lookup = await t.app.inject({
      method: 'POST',
      url: '/v1/inventory/barcode-lookup',
      headers: bearer(admin),
      payload: { barcode: '012345678905', type: 'upc' },
    });
    expect(lookup.json().data.item).toEqual(read);
    // A null in every nullable field, and a status from the store threshold.
    const bare = await createItem(t.app, admin, { description: 'Wire format bare', category: 'WireFormat' });
    const bareRead = (await get(`/v1/inventory/${bare.id}`)).json().data;
    expect(bareRead).toMatchObject({
      brand: null,
      itemSku: null,
      salesWeekly: null,
      expirationDate: null,
      unitCost: null,
      vendorId: null,
      reorderPoint: null,
      remainingStock: 0,
      expiredStock: 0,
      status: 'out_of_stock',
      lots: [],
    });
    expect([...Value.Errors(Item, bareRead)]).toEqual([]);
  });

  it.each([
    ['no description', { category: 'Dairy' }, 400],
    ['a negative price', { description: 'x', category: 'Dairy', unitCost: -1 }, 400],
    [
      'a bad date',
      { description: 'x', category: 'Dairy', remainingStock: 1, expirationDate: '31/12/2026' },
      400,
    ],
    [
      'an unknown vendor',
      { description: 'x', category: 'Dairy', vendorId: '7b4f0a52-1c5e-4c8e-9d0b-2f6a3e1d9c11' },
      422,
    ],
  ])('refuses an item with %s', async (_case, payload, status) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/inventory',
      headers: bearer(admin),
      payload,
    });
    expect(response.statusCode).toBe(status);
    expect(response.json().success).toBe(false);
  });

  it('refuses a second live item with the same SKU or barcode (409), but frees them on delete', async () => {
    const first = await createItem(t.app, admin, {
      description: 'Bread',
      itemSku: 'BREAD-1',
      itemUpc: '96385074',
    });
    const sameSku = await t.app.inject({
      method: 'POST',
      url: '/v1/inventory',
      headers: bearer(admin),
      payload: { description: 'Bread again', category: 'Bakery', itemSku: 'BREAD-1' },
    });
    expect(sameSku.statusCode).toBe(409);
    expect(sameSku.json().error.code).toBe('DUPLICATE_ITEM');
    const sameCode = await t.app.inject({
      method: 'POST',
      url: '/v1/inventory',
      headers: bearer(admin),
      payload: { description: 'Bread EAN-13 form', category: 'Bakery', itemUpc: '0000096385074' },
    });
    expect(sameCode.statusCode).toBe(409);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/inventory/${first.id}`, headers: bearer(admin) }))
        .statusCode,
    ).toBe(204);
    await createItem(t.app, admin, { description: 'Bread relaunched', itemSku: 'BREAD-1' });
  });

  it('updates only the fields sent, records each change, and keeps the ledger for stock', async () => {
    const item = await createItem(t.app, admin, { description: 'Apples', remainingStock: 10, unitRetail: 2 });
    const response = await t.app.inject({
      method: 'PUT',
      url: `/v1/inventory/${item.id}`,
      headers: bearer(admin),
      payload: { description: 'Gala Apples', unitRetail: 2.49, remainingStock: 7, id: item.id },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toMatchObject({
      description: 'Gala Apples',
      unitRetail: 2.49,
      remainingStock: 7,
      category: 'Produce',
    });
    const movements = await ledger(item.id);
    expect(movements.at(-1)).toMatchObject({ type: 'count', reason: 'count_correction' });
    expect(Number(movements.at(-1)!.quantity)).toBe(-3);

    const history = (await get(`/v1/inventory/${item.id}/history`)).json();
    const fields = history.data.changes.map((change: { field: string }) => change.field);
    expect(fields).toEqual(
      expect.arrayContaining(['description', 'unitRetail', 'remainingStock', 'created']),
    );
    expect(
      history.data.changes.find((change: { field: string }) => change.field === 'description'),
    ).toMatchObject({
      oldValue: 'Apples',
      newValue: 'Gala Apples',
      changedBy: admin.user.id,
    });
    const mismatch = await t.app.inject({
      method: 'PUT',
      url: `/v1/inventory/${item.id}`,
      headers: bearer(admin),
      payload: { id: '7b4f0a52-1c5e-4c8e-9d0b-2f6a3e1d9c11', description: 'x' },
    });
    expect(mismatch.statusCode).toBe(400);
  });

  it('soft-deletes: 204, then 404 and gone from lists, while ledger and history stay', async () => {
    const item = await createItem(t.app, admin, { description: 'Discontinued Yogurt', remainingStock: 3 });
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/v1/inventory/${item.id}`,
      headers: bearer(admin),
    });
    expect(removed.statusCode).toBe(204);
    expect((await get(`/v1/inventory/${item.id}`)).statusCode).toBe(404);
    const list = (await get('/v1/inventory?search=Discontinued')).json();
    expect(list.data.map((row: { id: string }) => row.id)).not.toContain(item.id);
    expect(await ledger(item.id)).toHaveLength(1);
    const history = await get(`/v1/inventory/${item.id}/history`);
    expect(history.statusCode).toBe(200);
    expect(history.json().data.changes[0].field).toBe('deleted');
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/inventory/${item.id}`, headers: bearer(admin) }))
        .statusCode,
    ).toBe(404);
  });
});

describe('status', () => {
  it('is derived from stock, reorder point or the store threshold, and lot expiry', async () => {
    const out = await createItem(t.app, admin, { description: 'Status out', category: 'StatusTest' });
    const lowByPoint = await createItem(t.app, admin, {
      description: 'Status low point',
      category: 'StatusTest',
      remainingStock: 5,
      reorderPoint: 5,
    });
    const lowByDefault = await createItem(t.app, admin, {
      description: 'Status low default',
      category: 'StatusTest',
      remainingStock: 10,
    });
    const expiring = await createItem(t.app, admin, {
      description: 'Status expiring',
      category: 'StatusTest',
      remainingStock: 50,
      expirationDate: inDays(2),
    });
    const fine = await createItem(t.app, admin, {
      description: 'Status fine',
      category: 'StatusTest',
      remainingStock: 50,
      expirationDate: inDays(30),
    });
    // Stock past its date: still `expiring` (the spec's status values are kept), told apart by
    // expiredStock and each lot's expired flag. An expiry of today has not expired yet.
    const expired = await createItem(t.app, admin, {
      description: 'Status expired',
      category: 'StatusTest',
      remainingStock: 40,
      expirationDate: inDays(-2),
    });
    const partlyExpired = await createItem(t.app, admin, {
      description: 'Status partly expired',
      category: 'StatusTest',
      remainingStock: 30.5,
      expirationDate: inDays(20),
    });
    await adjust(t.app, admin, partlyExpired.id, {
      adjustment: 20.25,
      reason: 'received',
      expirationDate: inDays(-1),
    });
    const expiresToday = await createItem(t.app, admin, {
      description: 'Status expires today',
      category: 'StatusTest',
      remainingStock: 40,
      expirationDate: today,
    });
    const lowAndExpired = await createItem(t.app, admin, {
      description: 'Status low and expired',
      category: 'StatusTest',
      remainingStock: 3,
      expirationDate: inDays(-5),
    });
    const expected: Record<string, string> = {
      [out.id]: 'out_of_stock',
      [lowByPoint.id]: 'low_stock',
      [lowByDefault.id]: 'low_stock',
      [expiring.id]: 'expiring',
      [fine.id]: 'in_stock',
      [expired.id]: 'expiring',
      [partlyExpired.id]: 'expiring',
      [expiresToday.id]: 'expiring',
      [lowAndExpired.id]: 'low_stock',
    };
    const expiredStock: Record<string, { stock: number; lots: boolean[] }> = {
      [expired.id]: { stock: 40, lots: [true] },
      [partlyExpired.id]: { stock: 20.25, lots: [true, false] },
      [expiresToday.id]: { stock: 0, lots: [false] },
      [lowAndExpired.id]: { stock: 3, lots: [true] },
      [fine.id]: { stock: 0, lots: [false] },
      [out.id]: { stock: 0, lots: [] },
    };
    const reads = new Map<string, Record<string, unknown>>();
    for (const [id, status] of Object.entries(expected)) {
      const { reorderPolicy: _policy, ...read } = (await get(`/v1/inventory/${id}`)).json().data;
      reads.set(id, read);
      expect(read.status, id).toBe(status);
      expect([...Value.Errors(Item, read)]).toEqual([]);
      if (expiredStock[id]) {
        expect(read.expiredStock, read.description).toBe(expiredStock[id].stock);
        expect(
          read.lots.map((lot: { expired: boolean }) => lot.expired),
          read.description,
        ).toEqual(expiredStock[id].lots);
      }
    }
    // The list filter (SQL) and each item's status (tenant_api_items) agree, and a listed item
    // is the item as a single read gives it, expired stock included.
    const expectListed = async (statuses: Record<string, string>) => {
      for (const status of ['out_of_stock', 'low_stock', 'expiring', 'in_stock']) {
        const listed = (await get(`/v1/inventory?category=StatusTest&status=${status}&limit=200`)).json()
          .data;
        expect(listed.map((item: { id: string }) => item.id).sort(), status).toEqual(
          Object.entries(statuses)
            .filter(([, value]) => value === status)
            .map(([id]) => id)
            .sort(),
        );
        for (const item of listed) expect(item.status, item.description).toBe(status);
      }
    };
    const all = (await get('/v1/inventory?category=StatusTest&limit=200')).json().data;
    expect(all).toHaveLength(reads.size);
    for (const item of all) expect(item).toEqual(reads.get(item.id));
    await expectListed(expected);
    // The store's own settings move the thresholds.
    await t.app.inject({
      method: 'PUT',
      url: '/v1/settings',
      headers: bearer(admin),
      payload: { lowStockThreshold: 4, expiryWarningDays: 1 },
    });
    expect((await get(`/v1/inventory/${lowByDefault.id}`)).json().data.status).toBe('in_stock');
    expect((await get(`/v1/inventory/${expiring.id}`)).json().data.status).toBe('in_stock');
    expect((await get(`/v1/inventory/${expired.id}`)).json().data.status).toBe('expiring');
    // The list filters follow too: the store's threshold restates the stock level of items
    // without their own reorder point. Expired stock stays expiring whatever the warning days.
    await expectListed({ ...expected, [lowByDefault.id]: 'in_stock', [expiring.id]: 'in_stock' });
    await t.app.inject({
      method: 'PUT',
      url: '/v1/settings',
      headers: bearer(admin),
      payload: { lowStockThreshold: 10, expiryWarningDays: 3 },
    });
  });
});

describe('list and search', () => {
  let store: Session;
  beforeAll(async () => {
    store = await registerStore(t.app, 'Search Store');
    const vendor = await t.testDatabase.database.db
      .insertInto('vendors')
      .values({ org_id: store.user.organization.id, name: 'Valley Dairy Co-op' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const items = [
      {
        description: 'Banana',
        category: 'Produce',
        brand: 'Chiquita',
        remainingStock: 40,
        location: 'Front',
      },
      {
        description: 'Organic Whole Milk',
        category: 'Dairy',
        brand: 'Valley',
        remainingStock: 12,
        vendorId: vendor.id,
        location: 'Cooler',
      },
      { description: 'Whole Wheat Bread', category: 'Bakery', itemSku: 'BAKE-0042', remainingStock: 8 },
      { description: 'Orange Juice', category: 'Beverages', itemUpc: '8076809570787', remainingStock: 20 },
      { description: 'Milk Chocolate Bar', category: 'Snacks', remainingStock: 30 },
    ];
    for (const item of items) await createItem(t.app, store, item);
  });

  const names = async (query: string) => {
    const response = await get(`/v1/inventory?${query}`, store);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().data.map((item: { description: string }) => item.description);
  };

  it('paginates with meta.pagination', async () => {
    const response = await get('/v1/inventory?page=2&limit=2&sortBy=name', store);
    expect(response.json().meta.pagination).toEqual({ page: 2, limit: 2, total: 5, totalPages: 3 });
    expect(response.json().data.map((item: { description: string }) => item.description)).toEqual([
      'Orange Juice',
      'Organic Whole Milk',
    ]);
  });

  it('sends a list page compressed when asked, the same page as plain', async () => {
    const plain = await get('/v1/inventory?limit=5&sortBy=name', store);
    const zipped = await t.app.inject({
      method: 'GET',
      url: '/v1/inventory?limit=5&sortBy=name',
      headers: { ...bearer(store), 'accept-encoding': 'gzip' },
    });
    expect(zipped.statusCode).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const unzipped = JSON.parse(gunzipSync(zipped.rawPayload).toString('utf8')) as { data: unknown[] };
    expect(unzipped.data).toHaveLength(5);
    expect(unzipped.data).toEqual(plain.json().data);
  });

  it('sorts by name, stock and creation, either way', async () => {
    expect(await names('sortBy=name&sortOrder=asc')).toEqual([
      'Banana',
      'Milk Chocolate Bar',
      'Orange Juice',
      'Organic Whole Milk',
      'Whole Wheat Bread',
    ]);
    expect((await names('sortBy=stock&sortOrder=desc'))[0]).toBe('Banana');
    expect((await names('sortBy=created_at&sortOrder=asc'))[0]).toBe('Banana');
    expect((await names('sortBy=created_at&sortOrder=desc'))[0]).toBe('Milk Chocolate Bar');
  });

  it('filters by category, location and vendor (id or name)', async () => {
    expect(await names('category=dairy')).toEqual(['Organic Whole Milk']);
    expect(await names('location=front')).toEqual(['Banana']);
    expect(await names('vendor=Valley%20Dairy%20Co-op')).toEqual(['Organic Whole Milk']);
  });

  it('finds despite typos and partial words, best match first', async () => {
    expect((await names('search=bananna'))[0]).toBe('Banana');
    expect((await names('search=org%20milk'))[0]).toBe('Organic Whole Milk');
    expect(await names('search=chiquita')).toEqual(['Banana']);
    expect(await names('search=BAKE-0042')).toEqual(['Whole Wheat Bread']);
    expect(await names('search=8076809570787')).toEqual(['Orange Juice']);
    expect(await names('search=milk')).toEqual(
      expect.arrayContaining(['Organic Whole Milk', 'Milk Chocolate Bar']),
    );
    expect(await names('search=xylophone')).toEqual([]);
    // A search's total is counted with its page; past the last page it is still the real total.
    const milk = (await get('/v1/inventory?search=milk&limit=1', store)).json();
    expect(milk.meta.pagination.total).toBe(2);
    const beyond = (await get('/v1/inventory?search=milk&limit=1&page=5', store)).json();
    expect(beyond.data).toEqual([]);
    expect(beyond.meta.pagination.total).toBe(2);
  });

  it('keeps search in step with renames and deletes, and combines it with filters', async () => {
    const shop = await registerStore(t.app, 'Search Sync Store');
    const found = async (query: string) =>
      (await get(`/v1/inventory?${query}`, shop))
        .json()
        .data.map((item: { description: string }) => item.description);
    const tea = await createItem(t.app, shop, { description: 'Green Tea', category: 'Drinks' });
    await createItem(t.app, shop, { description: 'Green Beans', category: 'Produce' });
    expect((await found('search=green')).sort()).toEqual(['Green Beans', 'Green Tea']);
    expect(await found('search=green&category=drinks')).toEqual(['Green Tea']);
    expect(await found('search=green&sortBy=name')).toEqual(['Green Beans', 'Green Tea']);
    await t.app.inject({
      method: 'PUT',
      url: `/v1/inventory/${tea.id}`,
      headers: bearer(shop),
      payload: { description: 'Jasmine Tea' },
    });
    expect(await found('search=jasmine')).toEqual(['Jasmine Tea']);
    expect(await found('search=green')).toEqual(['Green Beans']);
    await t.app.inject({ method: 'DELETE', url: `/v1/inventory/${tea.id}`, headers: bearer(shop) });
    expect(await found('search=jasmine')).toEqual([]);
  });

  it('corrects misspelt words against the store vocabulary, phrases included', async () => {
    expect(await names('search=ornage%20juice')).toEqual(['Orange Juice']);
    expect(await names('search=mlik')).toEqual(
      expect.arrayContaining(['Organic Whole Milk', 'Milk Chocolate Bar']),
    );
    expect(await names('search=choclate%20bra')).toEqual(['Milk Chocolate Bar']);
    // The vocabulary is per store: another store's words correct nothing here.
    const other = await registerStore(t.app, 'Vocabulary Store');
    await createItem(t.app, other, { description: 'Pomegranate Molasses' });
    expect(await names('search=pomegrante')).toEqual([]);
    expect((await get('/v1/inventory?search=pomegrante', other)).json().data).toEqual([
      expect.objectContaining({ description: 'Pomegranate Molasses' }),
    ]);
  });

  it.each([
    'limit=201',
    'limit=0',
    'page=0',
    'sortBy=price',
    'sortOrder=sideways',
    'status=rotten',
    'colour=blue',
  ])('answers 400 for %s', async (query) => {
    const response = await get(`/v1/inventory?${query}`, store);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('VALIDATION_ERROR');
  });
});

describe('pagination totals', () => {
  it('stay exact through creates, deletes, category moves and stock changes', async () => {
    const store = await registerStore(t.app, 'Totals Store');
    const total = async (query = '') =>
      (await get(`/v1/inventory?limit=1${query}`, store)).json().meta.pagination.total as number;
    const counted = async (category?: string) => {
      const rows = await t.testDatabase.database.db
        .selectFrom('inventory_items')
        .select('id')
        .where('org_id', '=', store.user.organization.id)
        .where('deleted_at', 'is', null)
        .$if(Boolean(category), (qb) => qb.where('category', '=', category!))
        .execute();
      return rows.length;
    };
    const a = await createItem(t.app, store, { description: 'A', category: 'Dairy', remainingStock: 5 });
    const b = await createItem(t.app, store, { description: 'B', category: 'Dairy' });
    await createItem(t.app, store, { description: 'C', category: 'Produce' });
    expect([await total(), await total('&category=dairy'), await total('&category=Produce')]).toEqual([
      3, 2, 1,
    ]);
    await t.app.inject({
      method: 'PUT',
      url: `/v1/inventory/${b.id}`,
      headers: bearer(store),
      payload: { category: 'Produce' },
    });
    await adjust(t.app, store, a.id, { adjustment: -1, reason: 'sold' });
    await t.app.inject({ method: 'DELETE', url: `/v1/inventory/${a.id}`, headers: bearer(store) });
    expect([await total(), await total('&category=dairy'), await total('&category=produce')]).toEqual([
      await counted(),
      await counted('Dairy'),
      await counted('Produce'),
    ]);
    expect(await total()).toBe(2);
    // Status totals: counted for the small statuses, counters less the others for in_stock.
    const byStatus = await Promise.all(
      ['out_of_stock', 'low_stock', 'expiring', 'in_stock'].map((status) => total(`&status=${status}`)),
    );
    expect(byStatus).toEqual([2, 0, 0, 0]);
    await adjust(t.app, store, b.id, { adjustment: 40, reason: 'received' });
    expect(await total('&status=in_stock')).toBe(1);
    expect(await total('&status=out_of_stock')).toBe(1);
  });
});

describe('stock adjustments', () => {
  it('take from the lot that expires first, across three lots (FEFO)', async () => {
    const item = await createItem(t.app, admin, {
      description: 'FEFO Yogurt',
      remainingStock: 5,
      expirationDate: inDays(20),
    });
    await adjust(t.app, admin, item.id, { adjustment: 5, reason: 'received', expirationDate: inDays(5) });
    await adjust(t.app, admin, item.id, { adjustment: 5, reason: 'received', expirationDate: inDays(12) });
    const response = await adjust(t.app, admin, item.id, { adjustment: -7, reason: 'sold' });
    expect(response.statusCode).toBe(200);
    const { item: after, movement } = response.json().data;
    expect(after.remainingStock).toBe(8);
    expect(
      after.lots.map((lot: { expirationDate: string; quantity: number }) => [
        lot.expirationDate,
        lot.quantity,
      ]),
    ).toEqual([
      [inDays(12), 3],
      [inDays(20), 5],
    ]);
    expect(after.expirationDate).toBe(inDays(12));
    expect(movement).toMatchObject({
      type: 'sale',
      reason: 'sold',
      quantity: -7,
      stockBefore: 15,
      stockAfter: 8,
    });
    expect(movement.lots.map((lot: { quantity: number }) => lot.quantity)).toEqual([-5, -2]);
  });

  it('take from a named lot, or add to it', async () => {
    const item = await createItem(t.app, admin, {
      description: 'Named lot cheese',
      remainingStock: 4,
      expirationDate: inDays(3),
    });
    const late = (
      await adjust(t.app, admin, item.id, {
        adjustment: 6,
        reason: 'received',
        expirationDate: inDays(30),
        lotCode: 'L-30',
      })
    ).json().data.item.lots[1];
    const taken = await adjust(t.app, admin, item.id, { adjustment: -2, reason: 'damaged', lotId: late.id });
    expect(taken.json().data.item.lots.map((lot: { quantity: number }) => lot.quantity)).toEqual([4, 4]);
    const added = await adjust(t.app, admin, item.id, {
      adjustment: 1,
      reason: 'count_correction',
      lotId: late.id,
    });
    expect(added.json().data.item.lots[1]).toMatchObject({ id: late.id, quantity: 5, lotCode: 'L-30' });
    const tooMuch = await adjust(t.app, admin, item.id, {
      adjustment: -6,
      reason: 'spoiled',
      lotId: late.id,
    });
    expect(tooMuch.statusCode).toBe(409);
  });

  it('join receipts of the same batch (same day, expiry, cost, lot code) into one lot', async () => {
    const item = await createItem(t.app, admin, { description: 'Batch eggs', unitCost: 2 });
    for (let scan = 0; scan < 3; scan++)
      await adjust(t.app, admin, item.id, { adjustment: 12, reason: 'received', expirationDate: inDays(20) });
    await adjust(t.app, admin, item.id, { adjustment: 12, reason: 'received', expirationDate: inDays(25) });
    const response = await adjust(t.app, admin, item.id, {
      adjustment: 6,
      reason: 'received',
      expirationDate: inDays(20),
      unitCost: 2.2,
    });
    const lots = response
      .json()
      .data.item.lots.map((lot: { quantity: number; expirationDate: string; unitCost: number }) => [
        lot.expirationDate,
        lot.quantity,
        lot.unitCost,
      ]);
    // Two lots of one expiry and day are in id order: compare sorted.
    lots.sort(
      (a: [string, number, number], b: [string, number, number]) => a[0].localeCompare(b[0]) || a[2] - b[2],
    );
    expect(lots).toEqual([
      [inDays(20), 36, 2],
      [inDays(20), 6, 2.2],
      [inDays(25), 12, 2],
    ]);
  });

  it('refuse to take more than is there: 409 INSUFFICIENT_STOCK and nothing changes', async () => {
    const item = await createItem(t.app, admin, { description: 'Scarce saffron', remainingStock: 3 });
    const before = await ledger(item.id);
    const response = await adjust(t.app, admin, item.id, { adjustment: -4, reason: 'sold' });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { available: 3, requested: 4 },
    });
    expect(await ledger(item.id)).toHaveLength(before.length);
    expect((await get(`/v1/inventory/${item.id}`)).json().data.remainingStock).toBe(3);
  });

  it.each([
    [{ adjustment: -1, reason: 'received' }, 422],
    [{ adjustment: 1, reason: 'sold' }, 422],
    [{ adjustment: 0, reason: 'other' }, 400],
    [{ adjustment: 1, reason: 'gift' }, 400],
    [{ adjustment: 'ten', reason: 'other' }, 400],
  ])('refuse %j with %i', async (payload, status) => {
    const item = await createItem(t.app, admin, { description: 'Validation item', remainingStock: 3 });
    expect((await adjust(t.app, admin, item.id, payload)).statusCode).toBe(status);
  });

  it('apply 200 simultaneous adjustments exactly once each', async () => {
    const item = await createItem(t.app, admin, { description: 'Hot item', remainingStock: 1000 });
    const deltas = Array.from({ length: 200 }, (_, index) => (index % 2 === 0 ? 3 : -2));
    const responses = await Promise.all(
      deltas.map((delta) =>
        adjust(t.app, admin, item.id, { adjustment: delta, reason: delta > 0 ? 'received' : 'sold' }),
      ),
    );
    expect(responses.map((response) => response.statusCode).filter((status) => status !== 200)).toEqual([]);
    const expected = 1000 + deltas.reduce((sum, delta) => sum + delta, 0);
    expect((await get(`/v1/inventory/${item.id}`)).json().data.remainingStock).toBe(expected);
    const movements = await ledger(item.id);
    expect(movements).toHaveLength(201);
    // The ledger chains: each movement starts where another ended.
    const afters = new Set(movements.map((movement) => Number(movement.stock_after)));
    for (const movement of movements.slice(1)) expect(afters.has(Number(movement.stock_before))).toBe(true);
  });

  it('with an Idempotency-Key, apply a retried adjustment once and return the first answer', async () => {
    const item = await createItem(t.app, admin, { description: 'Idempotent item', remainingStock: 10 });
    const key = { 'idempotency-key': `retry-${item.id}` };
    const first = await adjust(t.app, admin, item.id, { adjustment: -3, reason: 'sold' }, key);
    const retry = await adjust(t.app, admin, item.id, { adjustment: -3, reason: 'sold' }, key);
    expect(first.statusCode).toBe(200);
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json().data).toEqual(first.json().data);
    expect((await get(`/v1/inventory/${item.id}`)).json().data.remainingStock).toBe(7);

    const concurrent = { 'idempotency-key': `burst-${item.id}` };
    const burst = await Promise.all(
      Array.from({ length: 10 }, () =>
        adjust(t.app, admin, item.id, { adjustment: -1, reason: 'sold' }, concurrent),
      ),
    );
    expect(new Set(burst.map((response) => response.json().data.movement.id)).size).toBe(1);
    expect((await get(`/v1/inventory/${item.id}`)).json().data.remainingStock).toBe(6);

    const reused = await adjust(t.app, admin, item.id, { adjustment: -2, reason: 'sold' }, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('write stock events and threshold alerts to the outbox in the same transaction', async () => {
    const item = await createItem(t.app, admin, {
      description: 'Alerting lettuce',
      remainingStock: 12,
      reorderPoint: 5,
      location: 'Aisle 1',
    });
    await adjust(t.app, admin, item.id, { adjustment: -8, reason: 'sold' });
    // Still low: the open alert's details follow, no second alert event.
    await adjust(t.app, admin, item.id, { adjustment: -1, reason: 'sold' });
    await adjust(t.app, admin, item.id, { adjustment: 10, reason: 'received', expirationDate: inDays(1) });
    const written = await events(item.id);
    // Alerts are rows (src/modules/alerts): an event when one opens, gets worse or resolves. The
    // receipt replenished the lettuce (its low-stock alert resolves) and brought stock expiring tomorrow.
    expect(written.map((event) => event.type)).toEqual([
      'inventory:stock_updated',
      'inventory:stock_updated',
      'alert:low_stock',
      'inventory:stock_updated',
      'inventory:stock_updated',
      'alert:resolved',
      'alert:expiry_warning',
    ]);
    expect(written[1]!.payload).toMatchObject({
      itemId: item.id,
      oldStock: 12,
      newStock: 4,
      reason: 'sold',
      updatedBy: admin.user.id,
    });
    expect(written[2]!.payload).toMatchObject({
      itemName: 'Alerting lettuce',
      currentStock: 4,
      threshold: 5,
      category: 'Produce',
      location: 'Aisle 1',
      kind: 'low_stock',
      severity: 'warning',
      state: 'open',
    });
    expect(written[5]!.payload).toMatchObject({
      alertId: written[2]!.payload.alertId,
      kind: 'low_stock',
      resolution: 'replenished',
    });
    expect(written[6]!.payload).toMatchObject({
      expiryDate: inDays(1),
      daysUntilExpiry: 1,
      currentStock: 13,
      kind: 'expiry',
      severity: 'warning',
    });
    // A refused change writes no event.
    await adjust(t.app, admin, item.id, { adjustment: -100, reason: 'sold' });
    expect(await events(item.id)).toHaveLength(7);
  });
});

describe('history', () => {
  it('lists changes newest first, paginated', async () => {
    const item = await createItem(t.app, admin, { description: 'History item', remainingStock: 1 });
    for (let step = 1; step <= 3; step++)
      await adjust(t.app, admin, item.id, { adjustment: 1, reason: 'received', notes: `step ${step}` });
    const page = await get(`/v1/inventory/${item.id}/history?limit=2`);
    expect(page.json().meta.pagination).toEqual({ page: 1, limit: 2, total: 5, totalPages: 3 });
    expect(page.json().data.changes.map((change: { newValue: unknown }) => change.newValue)).toEqual([4, 3]);
    expect(page.json().data.changes[0]).toMatchObject({
      field: 'remainingStock',
      oldValue: 3,
      reason: 'received',
    });
  });
});

describe('permissions and isolation', () => {
  it('viewers read, employees write but do not delete, other stores see 404', async () => {
    const viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    const employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
    const item = await createItem(t.app, admin, { description: 'Guarded item', remainingStock: 5 });
    expect((await get(`/v1/inventory/${item.id}`, viewer)).statusCode).toBe(200);
    expect((await adjust(t.app, viewer, item.id, { adjustment: -1, reason: 'sold' })).statusCode).toBe(403);
    expect((await adjust(t.app, employee, item.id, { adjustment: -1, reason: 'sold' })).statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/inventory/${item.id}`, headers: bearer(employee) }))
        .statusCode,
    ).toBe(403);

    const other = await registerStore(t.app, 'Other Store');
    const attempts = [
      { method: 'GET' as const, url: `/v1/inventory/${item.id}` },
      { method: 'PUT' as const, url: `/v1/inventory/${item.id}`, payload: { description: 'hijacked' } },
      { method: 'DELETE' as const, url: `/v1/inventory/${item.id}` },
      {
        method: 'POST' as const,
        url: `/v1/inventory/${item.id}/adjust-stock`,
        payload: { adjustment: -1, reason: 'theft' },
      },
      { method: 'GET' as const, url: `/v1/inventory/${item.id}/history` },
    ];
    for (const attempt of attempts) {
      const response = await t.app.inject({ ...attempt, headers: bearer(other) });
      expect(response.statusCode, `${attempt.method} ${attempt.url}`).toBe(404);
      expect(response.body).not.toContain('Guarded item');
    }
    expect((await get('/v1/inventory?search=Guarded', other)).json().data).toEqual([]);
    const untouched = (await get(`/v1/inventory/${item.id}`)).json().data;
    expect(untouched).toMatchObject({ description: 'Guarded item', remainingStock: 4 });
  });

  it('reads items through RLS in tenant_api_items, whoever calls it and whatever ids it gets', async () => {
    const item = await createItem(t.app, admin, { description: 'Owner-chosen item', remainingStock: 3 });
    const other = await registerStore(t.app, 'Prying Store');
    const otherItem = await createItem(t.app, other, { description: 'Prying item' });
    const db = t.testDatabase.database.db;
    const adminOrg = admin.user.organization.id;
    const ctx = { lowStockThreshold: 10, expiringBy: inDays(3), today };
    // Called as the owner (as list does) for one store, with both stores' ids: only its own row.
    const own = await apiItems(db, adminOrg, [otherItem.id, item.id], ctx);
    expect(own.map((row) => row.id)).toEqual([item.id]);
    expect(own[0]!.lots.map((lot) => lot.quantity)).toEqual([3]);
    // Called from inside another store's tenant transaction, naming the other store's ids: none.
    const seen = await withTenant(db, other.user.organization.id, (trx) =>
      apiItems(trx, other.user.organization.id, [item.id], ctx),
    );
    expect(seen).toEqual([]);
    // The role switch ends with the function and the store setting with the statement: the pooled
    // connection goes back as the owner with no store set.
    const after = await sql<{ role: string; org: string | null }>`
      select current_user as role, nullif(current_setting('app.org_id', true), '') as org`.execute(db);
    expect(after.rows[0]!.role).not.toBe('fresh_choice_app');
    expect(after.rows[0]!.org).toBeNull();
  });
});

describe("a store's today", () => {
  it('turns at midnight in the store zone, also when read again within the same minute', () => {
    // Kolkata is UTC+05:30: its midnight falls at 18:30 UTC, a half-hour boundary.
    expect(todayIn('Asia/Kolkata', new Date('2026-11-24T18:29:00.000Z'))).toBe('2026-11-24');
    expect(todayIn('Asia/Kolkata', new Date('2026-11-24T18:29:59.999Z'))).toBe('2026-11-24');
    expect(todayIn('Asia/Kolkata', new Date('2026-11-24T18:30:00.000Z'))).toBe('2026-11-25');
    expect(todayIn('UTC', new Date('2026-11-24T18:30:00.000Z'))).toBe('2026-11-24');
    expect(todayIn('America/Los_Angeles', new Date('2026-11-25T07:59:59.000Z'))).toBe('2026-11-24');
    expect(todayIn('America/Los_Angeles', new Date('2026-11-25T08:00:00.000Z'))).toBe('2026-11-25');
    // Back in time, too (a cached later minute must not answer for an earlier one).
    expect(todayIn('Asia/Kolkata', new Date('2026-11-24T18:29:30.000Z'))).toBe('2026-11-24');
  });
});
