import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';
import { insertPurchaseOrder, insertReceipt } from '../../../test/helpers/vendors.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { catalogueTermsFor } from './vendors.repository.ts';

let t: TestApp;
let admin: Session;
let employee: Session;
let viewer: Session;
let other: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'Catalogue Grocer');
  other = await registerStore(t.app, 'Other Catalogue Grocer');
  employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
  viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
});
afterAll(async () => t?.close());

const db = () => t.testDatabase.database.db;
const orgOf = (session: Session) => session.user.organization.id;

function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, session: Session, payload?: object) {
  return t.app.inject({ method, url, headers: bearer(session), ...(payload ? { payload } : {}) });
}

async function createVendor(session: Session, name: string) {
  const response = await call('POST', '/v1/vendors', session, { name });
  if (response.statusCode !== 201) throw new Error(`create vendor: ${response.statusCode} ${response.body}`);
  return response.json().data.id as string;
}

async function addLine(session: Session, vendorId: string, body: Record<string, unknown>) {
  const response = await call('POST', `/v1/vendors/${vendorId}/products`, session, body);
  if (response.statusCode !== 201) throw new Error(`add line: ${response.statusCode} ${response.body}`);
  return response.json().data as Record<string, unknown> & { id: string; preferred: boolean };
}

async function lines(session: Session, vendorId: string, query = '') {
  const response = await call('GET', `/v1/vendors/${vendorId}/products${query}`, session);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{
    data: { products: Array<Record<string, unknown> & { id: string; itemId: string }> };
    meta: { pagination: Record<string, number> };
  }>();
}

describe('POST /v1/vendors/:id/products', () => {
  it('adds a line: price breaks stored ascending, delivery days sorted, defaults filled in', async () => {
    const vendorId = await createVendor(admin, 'Line Dairy');
    const item = await createItem(t.app, admin, { description: 'Whole Milk 1L', category: 'Dairy' });
    const response = await call('POST', `/v1/vendors/${vendorId}/products`, admin, {
      itemId: item.id,
      vendorSku: ' WM-1L ',
      vendorDescription: 'Milk whole 1 litre',
      unitsPerCase: 12,
      minimumOrderQuantity: 2,
      minimumOrderUnit: 'case',
      unitCost: 0.8125,
      priceBreaks: [
        { minQuantity: 120, unitCost: 0.7 },
        { minQuantity: 48, unitCost: 0.75 },
      ],
      leadTimeDays: 2,
      deliveryDays: [5, 1, 3],
      preferred: true,
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().data).toMatchObject({
      vendorId,
      itemId: item.id,
      name: 'Whole Milk 1L',
      category: 'Dairy',
      vendorSku: 'WM-1L',
      vendorDescription: 'Milk whole 1 litre',
      unitsPerCase: 12,
      minimumOrderQuantity: 2,
      minimumOrderUnit: 'case',
      unitCost: 0.8125,
      priceBreaks: [
        { minQuantity: 48, unitCost: 0.75 },
        { minQuantity: 120, unitCost: 0.7 },
      ],
      leadTimeDays: 2,
      deliveryDays: [1, 3, 5],
      preferred: true,
      lastOrderDate: null,
      totalOrdered: 0,
      averageLeadTime: null,
    });

    const minimal = await addLine(admin, vendorId, {
      itemId: (await createItem(t.app, admin, { description: 'Skim Milk 1L' })).id,
      unitCost: 0.7,
    });
    expect(minimal).toMatchObject({
      vendorSku: null,
      unitsPerCase: 1,
      minimumOrderQuantity: 0,
      minimumOrderUnit: 'unit',
      priceBreaks: [],
      leadTimeDays: 1,
      deliveryDays: [],
      preferred: false,
    });
  });

  it.each([
    ['a missing unitCost', {}, 'body.unitCost'],
    ['a negative unitCost', { unitCost: -0.01 }, 'body.unitCost'],
    ['a unitCost with 5 decimals', { unitCost: 0.12345 }, 'body.unitCost'],
    ['units per case of 0', { unitCost: 1, unitsPerCase: 0 }, 'body.unitsPerCase'],
    ['a fractional units per case', { unitCost: 1, unitsPerCase: 1.5 }, 'body.unitsPerCase'],
    [
      'a negative minimum order quantity',
      { unitCost: 1, minimumOrderQuantity: -1 },
      'body.minimumOrderQuantity',
    ],
    ['an unknown minimum order unit', { unitCost: 1, minimumOrderUnit: 'pallet' }, 'body.minimumOrderUnit'],
    ['a lead time over a year', { unitCost: 1, leadTimeDays: 366 }, 'body.leadTimeDays'],
    ['weekday 8', { unitCost: 1, deliveryDays: [1, 8] }, 'body.deliveryDays.1'],
    ['a weekday twice', { unitCost: 1, deliveryDays: [2, 2] }, 'body.deliveryDays'],
    [
      'two price breaks at one quantity',
      {
        unitCost: 1,
        priceBreaks: [
          { minQuantity: 10, unitCost: 0.9 },
          { minQuantity: 10, unitCost: 0.8 },
        ],
      },
      'body.priceBreaks',
    ],
    [
      'a price break dearer than the base unit cost',
      { unitCost: 1, priceBreaks: [{ minQuantity: 10, unitCost: 1.1 }] },
      'body.priceBreaks',
    ],
    [
      'a price break from 0 units',
      { unitCost: 1, priceBreaks: [{ minQuantity: 0, unitCost: 0.9 }] },
      'body.priceBreaks.0.minQuantity',
    ],
    [
      'more than 20 price breaks',
      {
        unitCost: 1,
        priceBreaks: Array.from({ length: 21 }, (_, i) => ({ minQuantity: i + 1, unitCost: 1 })),
      },
      'body.priceBreaks',
    ],
    ['an overlong vendor SKU', { unitCost: 1, vendorSku: 'S'.repeat(101) }, 'body.vendorSku'],
    [
      'an overlong description',
      { unitCost: 1, vendorDescription: 'd'.repeat(501) },
      'body.vendorDescription',
    ],
    ['a NUL in the SKU', { unitCost: 1, vendorSku: 'A\u0000B' }, 'body.vendorSku'],
    ['an itemId that is no id', { unitCost: 1, itemId: 'milk' }, 'body.itemId'],
  ])('refuses %s with a 400 naming the field', async (_label, fields, field) => {
    const vendorId = await createVendor(admin, `Validation ${field} ${Math.random()}`);
    const item = await createItem(t.app, admin, { description: 'Validation item' });
    const response = await call('POST', `/v1/vendors/${vendorId}/products`, admin, {
      itemId: item.id,
      ...fields,
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error.details).toContainEqual(expect.objectContaining({ field }));
    expect((await lines(admin, vendorId)).data.products).toEqual([]);
  });

  it('refuses an unknown item, a deleted one and another store’s: 422 naming itemId', async () => {
    const vendorId = await createVendor(admin, 'Item Checks');
    const deleted = await createItem(t.app, admin, { description: 'Discontinued Jam' });
    expect((await call('DELETE', `/v1/inventory/${deleted.id}`, admin)).statusCode).toBe(204);
    const theirs = await createItem(t.app, other, { description: 'Their Jam' });
    for (const itemId of ['00000000-0000-4000-8000-000000000000', deleted.id, theirs.id]) {
      const response = await call('POST', `/v1/vendors/${vendorId}/products`, admin, { itemId, unitCost: 1 });
      expect(response.statusCode).toBe(422);
      expect(response.json().error.details).toContainEqual(expect.objectContaining({ field: 'body.itemId' }));
    }
  });

  it('refuses the same SKU in another case (DUPLICATE_VENDOR_SKU) and the same item twice (DUPLICATE_VENDOR_PRODUCT)', async () => {
    const vendorId = await createVendor(admin, 'Duplicate Checks');
    const apples = await createItem(t.app, admin, { description: 'Apples' });
    const pears = await createItem(t.app, admin, { description: 'Pears' });
    await addLine(admin, vendorId, { itemId: apples.id, vendorSku: 'FR-001', unitCost: 1 });

    const sameSku = await call('POST', `/v1/vendors/${vendorId}/products`, admin, {
      itemId: pears.id,
      vendorSku: 'fr-001',
      unitCost: 1,
    });
    expect(sameSku.statusCode).toBe(409);
    expect(sameSku.json().error.code).toBe('DUPLICATE_VENDOR_SKU');

    const sameItem = await call('POST', `/v1/vendors/${vendorId}/products`, admin, {
      itemId: apples.id,
      vendorSku: 'FR-002',
      unitCost: 1,
    });
    expect(sameItem.statusCode).toBe(409);
    expect(sameItem.json().error.code).toBe('DUPLICATE_VENDOR_PRODUCT');

    // Another vendor may use the same SKU for the same item.
    const otherVendor = await createVendor(admin, 'Duplicate Checks Two');
    await addLine(admin, otherVendor, { itemId: apples.id, vendorSku: 'FR-001', unitCost: 1.1 });

    // A rename of a line's SKU onto another line's SKU is refused too.
    const pearLine = await addLine(admin, vendorId, { itemId: pears.id, vendorSku: 'FR-003', unitCost: 1 });
    const clash = await call('PUT', `/v1/vendors/${vendorId}/products/${pearLine.id}`, admin, {
      vendorSku: 'Fr-001',
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error.code).toBe('DUPLICATE_VENDOR_SKU');
    expect((await lines(admin, vendorId)).data.products.map((line) => line.vendorSku)).toEqual([
      'FR-001',
      'FR-003',
    ]);
  });

  it('marking a line preferred un-marks the item’s preferred line at the other vendor', async () => {
    const first = await createVendor(admin, 'Preferred One');
    const second = await createVendor(admin, 'Preferred Two');
    const eggs = await createItem(t.app, admin, { description: 'Free Range Eggs' });
    const bread = await createItem(t.app, admin, { description: 'Sourdough' });
    const firstEggs = await addLine(admin, first, { itemId: eggs.id, unitCost: 2.5, preferred: true });
    const firstBread = await addLine(admin, first, { itemId: bread.id, unitCost: 3, preferred: true });
    const secondEggs = await addLine(admin, second, { itemId: eggs.id, unitCost: 2.4, preferred: true });
    expect(secondEggs.preferred).toBe(true);

    const preferredOf = async (vendorId: string) =>
      Object.fromEntries(
        (await lines(admin, vendorId)).data.products.map((line) => [line.id, line.preferred]),
      );
    expect(await preferredOf(first)).toEqual({ [firstEggs.id]: false, [firstBread.id]: true });

    const back = await call('PUT', `/v1/vendors/${first}/products/${firstEggs.id}`, admin, {
      preferred: true,
    });
    expect(back.statusCode).toBe(200);
    expect(back.json().data.preferred).toBe(true);
    expect(await preferredOf(second)).toEqual({ [secondEggs.id]: false });
    expect(await preferredOf(first)).toEqual({ [firstEggs.id]: true, [firstBread.id]: true });
  });

  it('keeps exactly one preferred line when several vendors are marked preferred at once', async () => {
    const item = await createItem(t.app, admin, { description: 'Contested Lemons' });
    const vendorIds: string[] = [];
    for (let index = 0; index < 5; index++)
      vendorIds.push(await createVendor(admin, `Lemon Vendor ${index}`));
    const added = await Promise.all(
      vendorIds.map((vendorId) =>
        call('POST', `/v1/vendors/${vendorId}/products`, admin, {
          itemId: item.id,
          unitCost: 1,
          preferred: true,
        }),
      ),
    );
    expect(added.map((response) => response.statusCode)).toEqual([201, 201, 201, 201, 201]);
    const preferredCount = async () =>
      (
        await db()
          .selectFrom('vendor_products')
          .select('id')
          .where('item_id', '=', item.id)
          .where('preferred', '=', true)
          .execute()
      ).length;
    expect(await preferredCount()).toBe(1);

    const flipped = await Promise.all(
      added.map((response, index) =>
        call('PUT', `/v1/vendors/${vendorIds[index]}/products/${response.json().data.id}`, admin, {
          preferred: true,
        }),
      ),
    );
    expect(flipped.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(await preferredCount()).toBe(1);
  });

  it('refuses a new line for an inactive vendor (422 VENDOR_INACTIVE), and takes one again once reactivated', async () => {
    const vendorId = await createVendor(admin, 'Sleeping Supplier');
    const item = await createItem(t.app, admin, { description: 'Oat Flakes' });
    await call('DELETE', `/v1/vendors/${vendorId}`, admin);
    const refused = await call('POST', `/v1/vendors/${vendorId}/products`, admin, {
      itemId: item.id,
      unitCost: 1,
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('VENDOR_INACTIVE');
    await call('PUT', `/v1/vendors/${vendorId}`, admin, { status: 'active' });
    expect(
      (await call('POST', `/v1/vendors/${vendorId}/products`, admin, { itemId: item.id, unitCost: 1 }))
        .statusCode,
    ).toBe(201);
  });
});

describe('PUT, GET and DELETE of a catalogue line', () => {
  it('updates only the fields sent, null clears the SKU; the item cannot be changed', async () => {
    const vendorId = await createVendor(admin, 'Update Lines');
    const item = await createItem(t.app, admin, { description: 'Butter 250g' });
    const line = await addLine(admin, vendorId, {
      itemId: item.id,
      vendorSku: 'BT-250',
      unitCost: 1.5,
      deliveryDays: [2],
    });
    const updated = await call('PUT', `/v1/vendors/${vendorId}/products/${line.id}`, admin, {
      unitCost: 1.45,
      vendorSku: null,
      priceBreaks: [{ minQuantity: 24, unitCost: 1.3 }],
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().data).toMatchObject({
      unitCost: 1.45,
      vendorSku: null,
      deliveryDays: [2],
      priceBreaks: [{ minQuantity: 24, unitCost: 1.3 }],
    });
    const fetched = await call('GET', `/v1/vendors/${vendorId}/products/${line.id}`, viewer);
    expect(fetched.json().data).toEqual(updated.json().data);

    const moved = await call('PUT', `/v1/vendors/${vendorId}/products/${line.id}`, admin, {
      itemId: (await createItem(t.app, admin, { description: 'Margarine' })).id,
    });
    expect(moved.statusCode).toBe(403);
    expect(JSON.stringify(moved.json().error)).toContain('itemId');
  });

  it('deletes the line itself (204); then it is gone', async () => {
    const vendorId = await createVendor(admin, 'Delete Lines');
    const item = await createItem(t.app, admin, { description: 'Cream 300ml' });
    const line = await addLine(admin, vendorId, { itemId: item.id, unitCost: 1 });
    const removed = await call('DELETE', `/v1/vendors/${vendorId}/products/${line.id}`, admin);
    expect(removed.statusCode).toBe(204);
    expect((await call('GET', `/v1/vendors/${vendorId}/products/${line.id}`, admin)).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/vendors/${vendorId}/products/${line.id}`, admin)).statusCode).toBe(404);
    const row = await db()
      .selectFrom('vendor_products')
      .select('id')
      .where('id', '=', line.id)
      .executeTakeFirst();
    expect(row).toBeUndefined();
    // The item may be listed again.
    expect(
      (await call('POST', `/v1/vendors/${vendorId}/products`, admin, { itemId: item.id, unitCost: 1 }))
        .statusCode,
    ).toBe(201);
  });

  it('lists by item name, searches the name, pages', async () => {
    const vendorId = await createVendor(admin, 'Listing Lines');
    for (const description of ['Carrots', 'apricots', 'Beetroot', 'Baby Carrots']) {
      const item = await createItem(t.app, admin, { description, category: 'Produce' });
      await addLine(admin, vendorId, { itemId: item.id, unitCost: 1 });
    }
    const all = await lines(admin, vendorId);
    expect(all.data.products.map((line) => line.name)).toEqual([
      'apricots',
      'Baby Carrots',
      'Beetroot',
      'Carrots',
    ]);
    expect(all.meta.pagination).toEqual({ page: 1, limit: 20, total: 4, totalPages: 1 });
    const carrots = await lines(admin, vendorId, '?search=CARROT');
    expect(carrots.data.products.map((line) => line.name)).toEqual(['Baby Carrots', 'Carrots']);
    const second = await lines(admin, vendorId, '?limit=3&page=2');
    expect(second.data.products.map((line) => line.name)).toEqual(['Carrots']);
    expect(second.meta.pagination).toEqual({ page: 2, limit: 3, total: 4, totalPages: 2 });
  });
});

describe('permissions and other stores', () => {
  it('lets employees and viewers read the catalogue but not change it (403)', async () => {
    const vendorId = await createVendor(admin, 'Guarded Catalogue');
    const item = await createItem(t.app, admin, { description: 'Honey 500g' });
    const line = await addLine(admin, vendorId, { itemId: item.id, unitCost: 4 });
    const other = await createItem(t.app, admin, { description: 'Maple Syrup' });
    for (const session of [employee, viewer]) {
      expect((await lines(session, vendorId)).data.products).toHaveLength(1);
      expect(
        (await call('POST', `/v1/vendors/${vendorId}/products`, session, { itemId: other.id, unitCost: 1 }))
          .statusCode,
      ).toBe(403);
      expect(
        (await call('PUT', `/v1/vendors/${vendorId}/products/${line.id}`, session, { unitCost: 0 }))
          .statusCode,
      ).toBe(403);
      expect((await call('DELETE', `/v1/vendors/${vendorId}/products/${line.id}`, session)).statusCode).toBe(
        403,
      );
    }
    expect((await lines(admin, vendorId)).data.products).toMatchObject([{ id: line.id, unitCost: 4 }]);
  });

  it('answers 404 for another store’s vendor and catalogue line, and for a line under another vendor', async () => {
    const vendorId = await createVendor(admin, 'Isolated Vendor');
    const item = await createItem(t.app, admin, { description: 'Isolated Cheese' });
    const line = await addLine(admin, vendorId, { itemId: item.id, unitCost: 6 });
    const theirItem = await createItem(t.app, other, { description: 'Their Cheese' });

    expect((await call('GET', `/v1/vendors/${vendorId}/products`, other)).statusCode).toBe(404);
    expect((await call('GET', `/v1/vendors/${vendorId}/products/${line.id}`, other)).statusCode).toBe(404);
    expect(
      (await call('POST', `/v1/vendors/${vendorId}/products`, other, { itemId: theirItem.id, unitCost: 1 }))
        .statusCode,
    ).toBe(404);
    expect(
      (await call('PUT', `/v1/vendors/${vendorId}/products/${line.id}`, other, { unitCost: 0 })).statusCode,
    ).toBe(404);
    expect((await call('DELETE', `/v1/vendors/${vendorId}/products/${line.id}`, other)).statusCode).toBe(404);

    // Their own vendor's path with our line's id finds nothing either.
    const theirVendor = await createVendor(other, 'Their Vendor');
    expect(
      (await call('PUT', `/v1/vendors/${theirVendor}/products/${line.id}`, other, { unitCost: 0 }))
        .statusCode,
    ).toBe(404);
    expect((await call('DELETE', `/v1/vendors/${theirVendor}/products/${line.id}`, other)).statusCode).toBe(
      404,
    );

    // Within the store, a line is only found under its own vendor.
    const sibling = await createVendor(admin, 'Sibling Vendor');
    expect((await call('GET', `/v1/vendors/${sibling}/products/${line.id}`, admin)).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/vendors/${sibling}/products/${line.id}`, admin)).statusCode).toBe(404);

    expect((await lines(admin, vendorId)).data.products).toMatchObject([{ id: line.id, unitCost: 6 }]);
  });
});

describe('figures from purchasing', () => {
  it('computes last order date, units ordered and average lead time from placed orders and their first receipts', async () => {
    const orgId = orgOf(admin);
    const vendorId = await createVendor(admin, 'Figures Farm');
    const otherVendorId = await createVendor(admin, 'Figures Rival');
    const tomatoes = await createItem(t.app, admin, { description: 'Tomatoes', category: 'Produce' });
    const basil = await createItem(t.app, admin, { description: 'Basil', category: 'Herbs' });
    const tomatoLine = await addLine(admin, vendorId, {
      itemId: tomatoes.id,
      unitCost: 0.5,
      unitsPerCase: 12,
    });
    const basilLine = await addLine(admin, vendorId, { itemId: basil.id, unitCost: 1.2 });

    const received = async (quantity: number) => {
      const response = await adjust(t.app, admin, tomatoes.id, { adjustment: quantity, reason: 'received' });
      expect(response.statusCode, response.body).toBe(200);
      return response.json().data.movement.id as string;
    };

    // 2 cases of 12: 24 units; first receipt 3 days later (a later one does not count).
    const first = await insertPurchaseOrder(db(), orgId, vendorId, {
      orderDate: '2026-01-10',
      status: 'received',
      lines: [{ itemId: tomatoes.id, quantity: 2, orderUnit: 'case', unitsPerCase: 12 }],
    });
    await insertReceipt(db(), orgId, {
      purchaseOrderId: first.id,
      vendorId,
      receivedDate: '2026-01-13',
      lines: [
        {
          itemId: tomatoes.id,
          purchaseOrderLineId: first.lineIds.get(tomatoes.id)!,
          quantityReceived: 12,
          movementId: await received(12),
        },
      ],
    });
    await insertReceipt(db(), orgId, {
      purchaseOrderId: first.id,
      vendorId,
      receivedDate: '2026-01-20',
      lines: [
        {
          itemId: tomatoes.id,
          purchaseOrderLineId: first.lineIds.get(tomatoes.id)!,
          quantityReceived: 12,
          movementId: await received(12),
        },
      ],
    });
    // 10 units, received 4 days later.
    const second = await insertPurchaseOrder(db(), orgId, vendorId, {
      orderDate: '2026-02-01',
      status: 'partially_received',
      lines: [{ itemId: tomatoes.id, quantity: 10 }],
    });
    await insertReceipt(db(), orgId, {
      purchaseOrderId: second.id,
      vendorId,
      receivedDate: '2026-02-05',
      lines: [{ itemId: tomatoes.id, quantityReceived: 4, movementId: await received(4) }],
    });
    // 6.5 units, received 4 days later.
    const third = await insertPurchaseOrder(db(), orgId, vendorId, {
      orderDate: '2026-02-20',
      status: 'received',
      lines: [{ itemId: tomatoes.id, quantity: 6.5 }],
    });
    await insertReceipt(db(), orgId, {
      purchaseOrderId: third.id,
      vendorId,
      receivedDate: '2026-02-24',
      lines: [{ itemId: tomatoes.id, quantityReceived: 6.5, movementId: await received(6.5) }],
    });
    // Sent and not yet received: counts for the date and the units, not the lead time.
    await insertPurchaseOrder(db(), orgId, vendorId, {
      orderDate: '2026-03-01',
      status: 'sent',
      lines: [{ itemId: tomatoes.id, quantity: 5 }],
    });
    // Never placed, or cancelled: ignored, as are other vendors' orders.
    await insertPurchaseOrder(db(), orgId, vendorId, {
      orderDate: '2026-04-01',
      status: 'draft',
      lines: [{ itemId: tomatoes.id, quantity: 100 }],
    });
    await insertPurchaseOrder(db(), orgId, vendorId, {
      orderDate: '2026-04-02',
      status: 'cancelled',
      lines: [{ itemId: tomatoes.id, quantity: 100 }],
    });
    await insertPurchaseOrder(db(), orgId, otherVendorId, {
      orderDate: '2026-05-01',
      status: 'received',
      lines: [{ itemId: tomatoes.id, quantity: 1000 }],
    });

    const byId = Object.fromEntries(
      (await lines(admin, vendorId)).data.products.map((line) => [line.id, line]),
    );
    expect(byId[tomatoLine.id]).toMatchObject({
      name: 'Tomatoes',
      category: 'Produce',
      unitCost: 0.5,
      lastOrderDate: '2026-03-01',
      totalOrdered: 45.5, // 24 + 10 + 6.5 + 5
      averageLeadTime: 3.7, // (3 + 4 + 4) / 3
    });
    // Never ordered: nulls and zero.
    expect(byId[basilLine.id]).toMatchObject({
      name: 'Basil',
      category: 'Herbs',
      lastOrderDate: null,
      totalOrdered: 0,
      averageLeadTime: null,
    });
    const single = await call('GET', `/v1/vendors/${vendorId}/products/${tomatoLine.id}`, admin);
    expect(single.json().data).toEqual(byId[tomatoLine.id]);
    expect((await call('GET', `/v1/vendors/${vendorId}`, admin)).json().data.lastOrderDate).toBe(
      '2026-03-01',
    );
  });
});

describe('catalogueTermsFor (for purchasing)', () => {
  it('answers the vendor’s terms by item id, numbers as numbers, only for the items it lists', async () => {
    const orgId = orgOf(admin);
    const vendorId = await createVendor(admin, 'Terms Supplier');
    const rice = await createItem(t.app, admin, { description: 'Rice 5kg' });
    const beans = await createItem(t.app, admin, { description: 'Beans 1kg' });
    const unlisted = await createItem(t.app, admin, { description: 'Lentils 1kg' });
    const line = await addLine(admin, vendorId, {
      itemId: rice.id,
      vendorSku: 'RC-5',
      vendorDescription: 'Rice 5 kilo',
      unitsPerCase: 4,
      minimumOrderQuantity: 1.5,
      minimumOrderUnit: 'case',
      unitCost: 6.2501,
      priceBreaks: [{ minQuantity: 40, unitCost: 5.9 }],
      leadTimeDays: 3,
      deliveryDays: [4, 2],
    });
    await addLine(admin, vendorId, { itemId: beans.id, unitCost: 1 });

    const terms = await withTenant(db(), orgId, (trx) =>
      catalogueTermsFor(trx, orgId, vendorId, [rice.id, unlisted.id, rice.id]),
    );
    expect([...terms.keys()]).toEqual([rice.id]);
    expect(terms.get(rice.id)).toEqual({
      vendorProductId: line.id,
      vendorSku: 'RC-5',
      vendorDescription: 'Rice 5 kilo',
      unitsPerCase: 4,
      minimumOrderQuantity: 1.5,
      minimumOrderUnit: 'case',
      unitCost: 6.2501,
      priceBreaks: [{ minQuantity: 40, unitCost: 5.9 }],
      leadTimeDays: 3,
      deliveryDays: [2, 4],
    });
    // Another store sees none of them.
    const theirs = await withTenant(db(), orgOf(other), (trx) =>
      catalogueTermsFor(trx, orgOf(other), vendorId, [rice.id]),
    );
    expect(theirs.size).toBe(0);
    expect((await withTenant(db(), orgId, (trx) => catalogueTermsFor(trx, orgId, vendorId, []))).size).toBe(
      0,
    );
  });
});
