import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { insertForecast, steady } from '../../../test/helpers/forecasts.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { insertCatalogueLine, insertVendor } from '../../../test/helpers/purchasing.ts';
import { insertPurchaseOrder } from '../../../test/helpers/vendors.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';

/**
 * POST /v1/ml/optimize/inventory on a real store: items made through the API, catalogue lines and
 * orders in their tables, forecasts stored as the nightly job stores them. Demand has σ = 0 here,
 * so each candidate's service level is 0 or 1 and the expected plan can be worked out by hand:
 *
 * - Milk: 10 a day, preferred vendor (lead time 3, cases of 12, 0.80 a unit), 30 on hand, 20 on a
 *   sent order (a draft of 100 does not count). Lead time + the store's 7-day review: 100 units →
 *   50 short → 5 cases = 60 units, 48.00.
 * - Bread: 5 a day, no catalogue line (the store's default lead time 2 → 9 days: 45), nothing on
 *   hand, unit cost 1.50 → 45 units, 67.50.
 * - Salt: no stored forecast → left out and listed.
 * Service level 0.9 needs both (weights 100 and 45): 115.50, 155 units of room.
 */

let t: TestApp;
let manager: Session;
let viewer: Session;
let employee: Session;
let other: Session;
let milkId: string;
let breadId: string;
let saltId: string;
let preferredVendor: string;
const today = todayIn('UTC');
const yesterday = addDays(today, -1);

beforeAll(async () => {
  t = await createTestApp();
  manager = await registerStore(t.app, 'Optimising Grocer');
  viewer = await addMember(t.app, t.testDatabase.database, manager, 'viewer');
  employee = await addMember(t.app, t.testDatabase.database, manager, 'employee');
  other = await registerStore(t.app, 'Other Grocer');
  const orgId = manager.user.organization.id;
  const db = t.testDatabase.database.db;

  milkId = (await createItem(t.app, manager, { description: 'Milk', remainingStock: 30, unitCost: 0.9 })).id;
  breadId = (
    await createItem(t.app, manager, {
      description: 'Bread',
      unitCost: 1.5,
      unitRetail: 3,
      shelfLifeDays: 20,
    })
  ).id;
  saltId = (await createItem(t.app, manager, { description: 'Salt', remainingStock: 5 })).id;

  preferredVendor = (await insertVendor(t.testDatabase.database, manager, { name: 'Dairy Co' })).id;
  const cheaper = (await insertVendor(t.testDatabase.database, manager, { name: 'Cheap Milk' })).id;
  await insertCatalogueLine(t.testDatabase.database, manager, preferredVendor, milkId, {
    unitCost: 0.8,
    unitsPerCase: 12,
    leadTimeDays: 3,
  });
  await insertCatalogueLine(t.testDatabase.database, manager, cheaper, milkId, {
    unitCost: 0.5,
    leadTimeDays: 1,
  });
  await db
    .updateTable('vendor_products')
    .set({ preferred: true })
    .where('vendor_id', '=', preferredVendor)
    .execute();
  await insertPurchaseOrder(db, orgId, preferredVendor, {
    orderDate: yesterday,
    status: 'sent',
    lines: [{ itemId: milkId, quantity: 20, unitCost: 0.8 }],
  });
  await insertPurchaseOrder(db, orgId, preferredVendor, {
    orderDate: yesterday,
    status: 'draft',
    lines: [{ itemId: milkId, quantity: 100, unitCost: 0.8 }],
  });
  await insertForecast(db, orgId, milkId, { historyThrough: yesterday, days: steady(10, 0) });
  await insertForecast(db, orgId, breadId, { historyThrough: yesterday, days: steady(5, 0) });
});
afterAll(() => t.close());

const optimize = (session: Session, payload: object) =>
  t.app.inject({ method: 'POST', url: '/v1/ml/optimize/inventory', headers: bearer(session), payload });

const body = (constraints: Record<string, number>, objectives = {}) => ({
  constraints: { minServiceLevel: 0.9, ...constraints },
  objectives: { minimizeCost: true, maximizeServiceLevel: false, minimizeWaste: false, ...objectives },
});

describe('POST /v1/ml/optimize/inventory', () => {
  it('answers order quantities within budget and capacity, in case packs, counting stock on order', async () => {
    const response = await optimize(viewer, body({ maxBudget: 200, storageCapacity: 200 }));
    expect(response.statusCode, response.body).toBe(200);
    const data = response.json().data;
    const byId = new Map(data.items.map((plan: { itemId: string }) => [plan.itemId, plan]));
    expect(byId.get(milkId)).toEqual({
      itemId: milkId,
      itemName: 'Milk',
      vendorId: preferredVendor,
      orderQuantity: 60,
      cost: 48,
      expectedServiceLevel: 1,
      expectedWaste: 0,
      expectedShortage: 0,
      onHand: 30,
      onOrder: 20,
      cycleDemand: 100,
      leadTimeDays: 3,
    });
    expect(byId.get(breadId)).toMatchObject({
      vendorId: null,
      orderQuantity: 45,
      cost: 67.5,
      expectedServiceLevel: 1,
      onHand: 0,
      onOrder: 0,
      cycleDemand: 45,
      leadTimeDays: 2,
    });
    expect(data.totals).toEqual({
      cost: 115.5,
      expectedServiceLevel: 1,
      expectedWaste: 0,
      expectedWasteCost: 0,
      expectedShortage: 0,
      storageUsed: 155,
    });
    expect(data.totals.cost).toBeLessThanOrEqual(200);
    expect(data.totals.storageUsed).toBeLessThanOrEqual(200);
    expect(data.constraints).toEqual([
      { name: 'maxBudget', limit: 200, value: 115.5, slack: 84.5, binding: false },
      { name: 'storageCapacity', limit: 200, value: 155, slack: 45, binding: false },
      { name: 'minServiceLevel', limit: 0.9, value: 1, slack: 0.1, binding: true },
    ]);
    expect(data.solver).toMatchObject({ name: 'highs', status: 'Optimal', mipGap: 0, objective: 115.5 });
    expect(data.excludedItems).toEqual([{ itemId: saltId, itemName: 'Salt', reason: 'no_forecast' }]);
  });

  it('orders nothing when the service level asks for nothing and cost is minimised', async () => {
    const response = await optimize(manager, body({ minServiceLevel: 0, maxBudget: 10 }));
    expect(response.statusCode, response.body).toBe(200);
    const data = response.json().data;
    expect(data.items.map((plan: { orderQuantity: number }) => plan.orderQuantity)).toEqual([0, 0]);
    expect(data.constraints[0]).toEqual({ name: 'maxBudget', limit: 10, value: 0, slack: 10, binding: true });
  });

  it('answers 422 naming maxBudget when the cheapest plan reaching the level costs more', async () => {
    const response = await optimize(manager, body({ maxBudget: 100 }));
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json().error).toMatchObject({
      code: 'CONSTRAINT_INFEASIBLE',
      details: { constraint: 'maxBudget', limit: 100, required: 115.5 },
    });
  });

  it('answers 422 naming storageCapacity when the smallest plan needs more room', async () => {
    const response = await optimize(manager, body({ storageCapacity: 150 }));
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json().error).toMatchObject({
      code: 'CONSTRAINT_INFEASIBLE',
      details: { constraint: 'storageCapacity', limit: 150, required: 155 },
    });
  });

  it('refuses a malformed body (400) and callers without reports:view (403)', async () => {
    const extra = await optimize(manager, { ...body({}), constraints: { minServiceLevel: 0.9, budget: 5 } });
    expect(extra.statusCode).toBe(400);
    const missing = await optimize(manager, { constraints: { minServiceLevel: 0.9 } });
    expect(missing.statusCode).toBe(400);
    const forbidden = await optimize(employee, body({}));
    expect(forbidden.statusCode).toBe(403);
  });

  it("plans only the caller's own store", async () => {
    const response = await optimize(other, body({ maxBudget: 1 }));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().data).toMatchObject({
      items: [],
      excludedItems: [],
      totals: { cost: 0, expectedServiceLevel: 1, storageUsed: 0 },
    });
  });
});
