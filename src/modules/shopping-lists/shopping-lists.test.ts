import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import { isoWeekday } from '../vendors/catalogue.ts';

let t: TestApp;
let admin: Session;
let other: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'List Grocer');
  other = await registerStore(t.app, 'Other List Grocer');
});
afterAll(async () => t?.close());

const db = () => t.testDatabase.database.db;
const orgOf = (session: Session) => session.user.organization.id;
const today = () => todayIn('UTC');

function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
  url: string,
  session: Session,
  payload?: object,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method,
    url,
    headers: { ...bearer(session), ...headers },
    ...(payload ? { payload } : {}),
  });
}

async function createVendor(session: Session, body: Record<string, unknown>) {
  const response = await call('POST', '/v1/vendors', session, body);
  if (response.statusCode !== 201) throw new Error(`vendor: ${response.body}`);
  return response.json().data.id as string;
}

async function addCatalogueLine(session: Session, vendorId: string, body: Record<string, unknown>) {
  const response = await call('POST', `/v1/vendors/${vendorId}/products`, session, body);
  if (response.statusCode !== 201) throw new Error(`catalogue: ${response.body}`);
}

/** A stored forecast of `mean` a day (σ 0, so the numbers are exact) from today on. */
async function writeForecast(session: Session, itemId: string, mean: number, insufficientHistory = false) {
  const points = Array.from({ length: 28 }, (_, index) => ({
    date: addDays(today(), index),
    mean,
    sd: 0,
    lo80: mean,
    hi80: mean,
    lo95: mean,
    hi95: mean,
    factors: [],
  }));
  await db()
    .insertInto('item_forecasts')
    .values({
      org_id: orgOf(session),
      item_id: itemId,
      history_through: addDays(today(), -1),
      history_days: insufficientHistory ? 5 : 120,
      history_fingerprint: 'test',
      method: insufficientHistory ? 'mean' : 'seasonal_naive',
      method_reason: 'test',
      insufficient_history: insufficientHistory,
      horizon: 28,
      points: JSON.stringify(points),
      candidates: '[]',
      reorder_policy: null,
    })
    .execute();
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

describe('POST /v1/shopping-lists/generate, /optimize and /orders on a store made for it', () => {
  let store: Session;
  let farm: string;
  let bakery: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    store = await registerStore(t.app, 'Generation Grocer');
    farm = await createVendor(store, { name: 'Fresh Farms' });
    bakery = await createVendor(store, { name: 'Daily Bakery' });
    const item = async (key: string, body: Record<string, unknown>) => {
      ids[key] = (await createItem(t.app, store, { category: 'Fresh', ...body })).id;
    };
    // Below its reorder point, 2.5 days of stock; a price break from 60 units.
    await item('milk', { description: 'Milk', remainingStock: 25, reorderPoint: 30 });
    // 30 in a lot that expires in 2 days: 15 sell by then, 15 expire.
    await item('yogurt', { description: 'Yogurt', remainingStock: 30, expirationDate: addDays(today(), 2) });
    // 50 already on order.
    await item('bread', { description: 'Bread', remainingStock: 20 });
    // Too little history: the reorder point decides.
    await item('saffron', { description: 'Saffron', remainingStock: 4, reorderPoint: 10 });
    // Shelf life 3 days, shorter than the 9-day order cycle; out of stock.
    await item('basil', { description: 'Basil', shelfLifeDays: 3 });
    // A line minimum of 4 cases.
    await item('oil', { description: 'Olive Oil', remainingStock: 3 });
    // Plenty: no line.
    await item('rice', { description: 'Rice', remainingStock: 100 });
    await item('cheese', { description: 'Cheese', category: 'Deli', remainingStock: 0, reorderPoint: 5 });

    const line = (vendorId: string, key: string, body: Record<string, unknown>) =>
      addCatalogueLine(store, vendorId, { itemId: ids[key], leadTimeDays: 2, ...body });
    await line(farm, 'milk', {
      unitCost: 0.8,
      unitsPerCase: 12,
      priceBreaks: [{ minQuantity: 60, unitCost: 0.7 }],
      preferred: true,
    });
    await line(farm, 'yogurt', { unitCost: 0.5, unitsPerCase: 6 });
    await line(bakery, 'bread', { unitCost: 1.2, unitsPerCase: 10, leadTimeDays: 3 });
    await line(farm, 'saffron', { unitCost: 3, unitsPerCase: 5 });
    await line(farm, 'basil', { unitCost: 1, unitsPerCase: 6 });
    await line(farm, 'oil', {
      unitCost: 4,
      unitsPerCase: 6,
      minimumOrderQuantity: 4,
      minimumOrderUnit: 'case',
    });
    await line(farm, 'rice', { unitCost: 1 });

    await writeForecast(store, ids.milk!, 10);
    await writeForecast(store, ids.yogurt!, 5);
    await writeForecast(store, ids.bread!, 10);
    await writeForecast(store, ids.saffron!, 2, true);
    await writeForecast(store, ids.basil!, 4);
    await writeForecast(store, ids.oil!, 1);
    await writeForecast(store, ids.rice!, 1);
    const onOrder = await call('POST', '/v1/purchase-orders', store, {
      vendorId: bakery,
      lines: [{ itemId: ids.bread, quantity: 50 }],
    });
    const sent = await call('POST', `/v1/purchase-orders/${onOrder.json().data.id}/send`, store, {
      skipEmail: true,
    });
    expect(sent.json().data.status).toBe('sent');
  });

  it('suggests each item’s quantity with its priority, reason, cost and vendor; filters by category', async () => {
    const response = await call('POST', '/v1/shopping-lists/generate', store, {
      criteria: { daysAhead: 7, categories: ['Fresh'] },
    });
    expect(response.statusCode, response.body).toBe(201);
    const answer = response.json().data;
    const expiresOn = WEEKDAYS[isoWeekday(addDays(today(), 2)) - 1];
    const lines = Object.fromEntries(
      answer.items.map((line: Record<string, unknown>) => [
        line.itemName,
        [line.suggestedQuantity, line.priority, line.reason, line.estimatedCost, line.preferredVendor],
      ]),
    );
    expect(lines).toEqual({
      Basil: [
        12,
        'urgent',
        'Out of stock, delivery from Fresh Farms takes 2 days; 36 more needed to cover 9 days (expected sales 36); capped at 12: no more is expected to sell within its shelf life of 3 days',
        12,
        'Fresh Farms',
      ],
      Bread: [
        30,
        'urgent',
        '2 days of cover left, delivery from Daily Bakery takes 3 days; 50 already on order; 30 more needed to cover 10 days (expected sales 100)',
        36,
        'Daily Bakery',
      ],
      Milk: [
        72,
        'high',
        '2 days of cover left, delivery from Fresh Farms takes 2 days; 65 more needed to cover 9 days (expected sales 90); rounded up to 6 cases of 12',
        50.4,
        'Fresh Farms',
      ],
      'Olive Oil': [
        24,
        'high',
        "3 days of cover left, delivery from Fresh Farms takes 2 days; 6 more needed to cover 9 days (expected sales 9); raised to Fresh Farms's minimum order of 24 (4 cases of 6)",
        96,
        'Fresh Farms',
      ],
      Saffron: [
        20,
        'high',
        'No forecast yet (too little sales history): 4 in stock, at or below the reorder point of 10; ordered up to twice the reorder point (20); delivery from Fresh Farms takes 2 days; rounded up to 4 cases of 5',
        60,
        'Fresh Farms',
      ],
      Yogurt: [
        30,
        'high',
        `3 days of cover left, delivery from Fresh Farms takes 2 days; 15 expire ${expiresOn} before they sell; 30 more needed to cover 9 days (expected sales 45)`,
        15,
        'Fresh Farms',
      ],
    });
    expect(answer.totalEstimatedCost).toBe(269.4);
    const list = (await call('GET', `/v1/shopping-lists/${answer.listId}`, store)).json().data;
    expect(list).toMatchObject({ priority: 'urgent', autoGenerated: false, status: 'pending', itemCount: 6 });
    expect(list.items.find((line: { name: string }) => line.name === 'Basil')).toMatchObject({
      maxQuantity: 12,
      emptiesOn: today(),
      vendorName: 'Fresh Farms',
    });

    // Counting expiring stock as sellable: yogurt needs 45 − 30 = 15, 3 cases of 6.
    const counting = await call('POST', '/v1/shopping-lists/generate', store, {
      criteria: { daysAhead: 7, categories: ['fresh'], includeExpiring: false, vendors: [farm] },
    });
    const names = counting
      .json()
      .data.items.map((line: { itemName: string; suggestedQuantity: number }) => [
        line.itemName,
        line.suggestedQuantity,
      ]);
    expect(names).toEqual([
      ['Basil', 12],
      ['Milk', 72],
      ['Olive Oil', 24],
      ['Saffron', 20],
      ['Yogurt', 18],
    ]);
  });

  it('optimises: names an impossible line, then plans the rest and turns it into draft orders once', async () => {
    const metro = await createVendor(store, { name: 'Metro Wholesale', minimumOrderValue: 100 });
    // Dearer bread that arrives tomorrow, before the shelf empties (Daily Bakery's takes 3 days).
    const quick = await createVendor(store, { name: 'Quick Bakery' });
    await addCatalogueLine(store, quick, {
      itemId: ids.bread,
      unitCost: 1.5,
      unitsPerCase: 10,
      leadTimeDays: 1,
    });
    // Faster but dearer basil; cheaper milk that cannot reach Metro's minimum alone.
    await addCatalogueLine(store, metro, {
      itemId: ids.milk,
      unitCost: 0.72,
      unitsPerCase: 12,
      leadTimeDays: 1,
    });
    const generated = await call('POST', '/v1/shopping-lists/generate', store, {
      criteria: { daysAhead: 7, categories: ['Fresh'] },
    });
    const listId = generated.json().data.listId as string;
    const criteria = {
      minimizeCost: true,
      preferredVendors: [],
      consolidateOrders: false,
      respectMinimumOrders: true,
    };
    const impossible = await call('POST', `/v1/shopping-lists/${listId}/optimize`, store, { criteria });
    expect(impossible.statusCode).toBe(422);
    expect(impossible.json().error).toMatchObject({
      code: 'PLAN_IMPOSSIBLE',
      details: {
        lines: [
          {
            name: 'Basil',
            reason:
              'no vendor that carries it can deliver before the shelf empties in 0 days: the fastest, Fresh Farms, takes 2',
          },
        ],
      },
    });

    // Basil bought at the market: the rest can be planned.
    const basil = generated.json().data.items.find((line: { itemName: string }) => line.itemName === 'Basil');
    expect(
      (
        await call('PUT', `/v1/shopping-lists/${listId}/items/${basil.lineId}`, store, {
          purchased: true,
          actualCost: 9.5,
        })
      ).statusCode,
    ).toBe(200);
    const optimised = await call('POST', `/v1/shopping-lists/${listId}/optimize`, store, { criteria });
    expect(optimised.statusCode, optimised.body).toBe(200);
    const plan = optimised.json().data;
    expect(
      plan.plan.map((line: Record<string, unknown>) => [
        line.name,
        line.vendorName,
        line.quantity,
        line.cost,
      ]),
    ).toEqual([
      ['Bread', 'Quick Bakery', 30, 45],
      ['Milk', 'Fresh Farms', 72, 50.4],
      ['Olive Oil', 'Fresh Farms', 24, 96],
      ['Saffron', 'Fresh Farms', 20, 60],
      ['Yogurt', 'Fresh Farms', 30, 15],
    ]);
    expect(plan.totalCost).toBe(266.4);
    expect(plan.simplePlan.totalCost).toBe(257.4);
    expect(plan.savings).toBe(-9);
    expect(plan.decisions).toEqual([
      "Metro Wholesale's minimum order of 100.00 cannot be reached by the lines it carries (51.84 at most): not used",
      'Bread: from Quick Bakery instead of Daily Bakery (Daily Bakery delivers in 3 days, after the shelf empties (2 days))',
    ]);
    expect(plan.notOptimised).toEqual([{ lineId: basil.lineId, name: 'Basil', reason: 'already purchased' }]);
    expect(plan.solver.status).toBe('optimal');

    // Without the minimum, Metro's milk (72 × 0.72 = 51.84) beats Fresh Farms' 50.40? No: the break wins.
    const ignoring = await call('POST', `/v1/shopping-lists/${listId}/optimize`, store, {
      criteria: { ...criteria, respectMinimumOrders: false, preferredVendors: [metro] },
    });
    expect(ignoring.json().data.plan[1]).toMatchObject({
      name: 'Milk',
      vendorName: 'Metro Wholesale',
      cost: 51.84,
    });
    expect(ignoring.json().data.decisions).toContain(
      'Milk: from Metro Wholesale instead of Fresh Farms (Metro Wholesale is a preferred vendor)',
    );
    await call('POST', `/v1/shopping-lists/${listId}/optimize`, store, { criteria });

    // A manager turns it into orders; the request is retried with the same key, then again without.
    const manager = await addMember(t.app, t.testDatabase.database, store, 'manager');
    const employee = await addMember(t.app, t.testDatabase.database, store, 'employee');
    expect((await call('POST', `/v1/shopping-lists/${listId}/orders`, employee)).statusCode).toBe(403);
    const key = { 'idempotency-key': `orders-${listId}` };
    const first = await call('POST', `/v1/shopping-lists/${listId}/orders`, manager, undefined, key);
    expect(first.statusCode, first.body).toBe(201);
    const retried = await call('POST', `/v1/shopping-lists/${listId}/orders`, manager, undefined, key);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.json().data).toEqual(first.json().data);
    const again = await call('POST', `/v1/shopping-lists/${listId}/orders`, manager);
    expect(again.json().data.purchaseOrders).toEqual(first.json().data.purchaseOrders);
    const orders = first.json().data.purchaseOrders;
    expect(
      orders
        .map((order: Record<string, unknown>) => [
          order.vendorName,
          order.lineCount,
          order.subtotal,
          order.status,
        ])
        .sort(),
    ).toEqual([
      ['Fresh Farms', 4, 221.4, 'draft'],
      ['Quick Bakery', 1, 45, 'draft'],
    ]);
    expect(first.json().data.skipped).toEqual([
      { lineId: basil.lineId, name: 'Basil', reason: 'already purchased' },
    ]);
    const drafts = await db()
      .selectFrom('purchase_orders')
      .select(['vendor_id', 'subtotal'])
      .where('org_id', '=', orgOf(store))
      .where('status', '=', 'draft')
      .execute();
    expect(drafts.map((draft) => Number(draft.subtotal)).sort((a, b) => a - b)).toEqual([45, 221.4]);
    const milkLine = await db()
      .selectFrom('purchase_order_lines')
      .select(['order_unit', 'quantity', 'units_per_case', 'unit_cost'])
      .where('org_id', '=', orgOf(store))
      .where('item_id', '=', ids.milk!)
      .executeTakeFirstOrThrow();
    expect([
      milkLine.order_unit,
      Number(milkLine.quantity),
      milkLine.units_per_case,
      Number(milkLine.unit_cost),
    ]).toEqual(['case', 6, 12, 0.7]);
    // Cross-store: the other store sees none of it.
    expect((await call('POST', `/v1/shopping-lists/${listId}/orders`, other)).statusCode).toBe(404);
    expect(
      (await call('POST', `/v1/shopping-lists/${listId}/optimize`, other, { criteria })).statusCode,
    ).toBe(404);
  });

  it('the daily job makes one auto-generated list per store day', async () => {
    const start = async () => {
      const started = await call('POST', '/v1/jobs', store, { type: 'shopping_list:generate_daily' });
      expect(started.statusCode, started.body).toBe(201);
      const id = started.json().data.job.id as string;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const job = (await call('GET', `/v1/jobs/${id}`, store)).json().data;
        if (job.status === 'completed') return job.result as { listId: string; lines: number };
        if (job.status === 'failed' || Date.now() > deadline) throw new Error(JSON.stringify(job));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const first = await start();
    const second = await start();
    expect(second.listId).toBe(first.listId);
    const auto = (await call('GET', '/v1/shopping-lists?autoGenerated=true', store)).json();
    expect(auto.data.lists.map((list: { id: string }) => list.id)).toEqual([first.listId]);
    expect(auto.data.lists[0]).toMatchObject({ autoGenerated: true, generatedFor: today(), createdBy: null });
    // Every store gets it as a builtin schedule it can switch off or move (PATCH /v1/schedules/:id).
    const types = (await call('GET', '/v1/jobs/types', store)).json().data as Array<Record<string, unknown>>;
    expect(types.find((type) => type.type === 'shopping_list:generate_daily')).toMatchObject({
      defaultSchedule: { name: 'Generate Shopping List', cron: '0 6 * * *' },
      startPermission: 'inventory:write',
    });
  });
});

describe('shopping lists by hand', () => {
  it('creates, changes, lists with filters, completes and deletes lists; 404 across stores, 400 on bad input', async () => {
    const item = await createItem(t.app, admin, { description: 'Tomatoes', unitCost: 1.5 });
    const created = await call('POST', '/v1/shopping-lists', admin, {
      name: ' Market run ',
      priority: 'high',
      items: [
        { inventoryId: item.id, quantity: 4 },
        { name: 'Paper bags', quantity: 100 },
      ],
    });
    expect(created.statusCode, created.body).toBe(201);
    const list = created.json().data;
    expect(list).toMatchObject({ name: 'Market run', priority: 'high', itemCount: 2, totalEstimatedCost: 6 });
    expect(
      list.items.map((line: Record<string, unknown>) => [
        line.name,
        line.inventoryId,
        line.quantity,
        line.estimatedCost,
      ]),
    ).toEqual([
      ['Tomatoes', item.id, 4, 6],
      ['Paper bags', null, 100, null],
    ]);
    const added = await call('POST', `/v1/shopping-lists/${list.id}/items`, admin, {
      items: [{ name: 'String', quantity: 2, estimatedCost: 3 }],
    });
    expect(added.statusCode).toBe(201);
    expect(added.json().data.items[2]).toMatchObject({ position: 3, name: 'String', estimatedCost: 3 });
    const line = list.items[1].id as string;
    const changed = await call('PUT', `/v1/shopping-lists/${list.id}/items/${line}`, admin, {
      quantity: 50,
      purchased: true,
      actualCost: 4.2,
      notes: 'from the market',
    });
    expect(changed.json().data.items[1]).toMatchObject({
      quantity: 50,
      purchased: true,
      actualCost: 4.2,
      notes: 'from the market',
    });
    expect(changed.json().data.purchasedCount).toBe(1);
    expect(
      (await call('PUT', `/v1/shopping-lists/${list.id}`, admin, { name: 'Saturday market' })).json().data
        .name,
    ).toBe('Saturday market');
    const second = (await call('POST', '/v1/shopping-lists', admin, { name: 'Cleaning' })).json().data;
    expect((await call('POST', `/v1/shopping-lists/${second.id}/complete`, admin)).json().data.status).toBe(
      'completed',
    );
    const refused = await call('PUT', `/v1/shopping-lists/${second.id}`, admin, { name: 'Again' });
    expect([refused.statusCode, refused.json().error.code]).toEqual([409, 'SHOPPING_LIST_COMPLETED']);

    const names = async (query: string) =>
      (await call('GET', `/v1/shopping-lists${query}`, admin))
        .json()
        .data.lists.map((entry: { name: string }) => entry.name);
    expect(await names('?status=completed')).toEqual(['Cleaning']);
    expect(await names('?status=pending&priority=high')).toEqual(['Saturday market']);
    expect(await names('?autoGenerated=false')).toEqual(['Cleaning', 'Saturday market']);
    const page = (await call('GET', '/v1/shopping-lists?limit=1&page=2', admin)).json();
    expect([page.data.lists.length, page.meta.pagination.total]).toEqual([1, 2]);

    // Another store: 404 everywhere; its own list is invisible here.
    expect((await call('GET', `/v1/shopping-lists/${list.id}`, other)).statusCode).toBe(404);
    expect((await call('PUT', `/v1/shopping-lists/${list.id}`, other, { name: 'x' })).statusCode).toBe(404);
    expect(
      (await call('PUT', `/v1/shopping-lists/${list.id}/items/${line}`, other, { quantity: 1 })).statusCode,
    ).toBe(404);
    expect((await call('DELETE', `/v1/shopping-lists/${list.id}`, other)).statusCode).toBe(404);
    expect((await call('GET', '/v1/shopping-lists', other)).json().data.lists).toEqual([]);
    const foreignItem = await call('POST', '/v1/shopping-lists', other, {
      name: 'Theirs',
      items: [{ inventoryId: item.id, quantity: 1 }],
    });
    expect(foreignItem.statusCode).toBe(422);

    // Bad input → 400.
    const bad = [
      await call('POST', '/v1/shopping-lists/generate', admin, { criteria: { daysAhead: 0 } }),
      await call('POST', '/v1/shopping-lists/generate', admin, { criteria: { color: 'red' } }),
      await call('POST', '/v1/shopping-lists/generate', admin, { criteria: { vendors: ['not-a-uuid'] } }),
      await call('POST', `/v1/shopping-lists/${list.id}/optimize`, admin, {
        criteria: { minimizeCost: true },
      }),
      await call('POST', '/v1/shopping-lists', admin, { name: 'x', items: [{ name: 'y', quantity: 0 }] }),
      await call('GET', '/v1/shopping-lists?priority=extreme', admin),
    ];
    expect(bad.map((response) => response.statusCode)).toEqual([400, 400, 400, 400, 400, 400]);

    expect((await call('DELETE', `/v1/shopping-lists/${list.id}`, admin)).json().data).toEqual({
      deleted: true,
    });
    expect((await call('GET', `/v1/shopping-lists/${list.id}`, admin)).statusCode).toBe(404);
    const events = await db()
      .selectFrom('outbox_events')
      .select('type')
      .where('org_id', '=', orgOf(admin))
      .where('type', 'like', 'shopping_list:%')
      .orderBy('id')
      .execute();
    expect(events.map((row) => row.type)).toEqual([
      'shopping_list:created',
      'shopping_list:items_added',
      'shopping_list:item_updated',
      'shopping_list:updated',
      'shopping_list:created',
      'shopping_list:completed',
      'shopping_list:deleted',
    ]);
  });
});
