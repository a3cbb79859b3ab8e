import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';
import { unsoldAtExpiry } from './analytics.service.ts';
import { addDays, todayIn } from './inventory.service.ts';

const round2 = (value: number) => Math.round(value * 100) / 100;

describe('unsoldAtExpiry', () => {
  const today = '2026-06-01';
  const lot = (days: number, quantity: number) => ({
    lotId: `L${days}`,
    expirationDate: addDays(today, days),
    quantity,
    unitCost: 1,
  });

  it('expects what sells before each expiry to go, first-expiring first', () => {
    // 2/day: 10 days of demand (20) covers lot A (8) and 12 of lot B by day 10; B has 15 → 3 left.
    expect(unsoldAtExpiry([lot(4, 8), lot(10, 15)], 2, today).map((l) => l.atRiskQuantity)).toEqual([0, 3]);
  });

  it('counts everything as at risk when nothing sells, and nothing when demand outruns stock', () => {
    expect(unsoldAtExpiry([lot(3, 5), lot(6, 5)], 0, today).map((l) => l.atRiskQuantity)).toEqual([5, 5]);
    expect(unsoldAtExpiry([lot(3, 5), lot(6, 5)], 10, today).map((l) => l.atRiskQuantity)).toEqual([0, 0]);
  });

  it('treats an already expired lot as fully at risk', () => {
    expect(unsoldAtExpiry([lot(-1, 4)], 100, today)[0]!.atRiskQuantity).toBe(4);
  });
});

// One app (and database) for the file; each test builds its own store.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('GET /v1/inventory/analytics', () => {
  let admin: Session;
  const today = todayIn('UTC');
  beforeAll(async () => {
    admin = await registerStore(t.app, 'Analytics Market');
  });

  const backdateSales = (itemId: string, daysAgo: number) =>
    t.testDatabase.database.db
      .updateTable('stock_movements')
      .set({ occurred_at: new Date(Date.now() - daysAgo * 86_400_000) })
      .where('item_id', '=', itemId)
      .where('type', '=', 'sale')
      .execute();

  it('computes value at lot cost, counts, categories, movers and stock at risk from the ledger', async () => {
    // Strawberries: 30 at 2.00, expiring in 2 days, sell 28 over 28 days = 1/day → 28 left at expiry.
    const berries = await createItem(t.app, admin, {
      description: 'Strawberries',
      category: 'Produce',
      remainingStock: 58,
      expirationDate: addDays(today, 60),
      unitCost: 2,
    });
    await adjust(t.app, admin, berries.id, { adjustment: -28, reason: 'sold' });
    await adjust(t.app, admin, berries.id, {
      adjustment: 30,
      reason: 'received',
      expirationDate: addDays(today, 2),
      unitCost: 2,
    });
    // Milk: fast mover, 10 left at 1.00 with a second lot at 1.50, low on stock.
    const milk = await createItem(t.app, admin, {
      description: 'Milk',
      category: 'Dairy',
      remainingStock: 150,
      unitCost: 1,
      reorderPoint: 20,
    });
    await adjust(t.app, admin, milk.id, { adjustment: -140, reason: 'sold' });
    await adjust(t.app, admin, milk.id, { adjustment: 4, reason: 'received', unitCost: 1.5 });
    // Flour: sold once, 40 days ago; Salt: never sold; Empty: out of stock.
    const flour = await createItem(t.app, admin, {
      description: 'Flour',
      category: 'Dry goods',
      remainingStock: 12,
      unitCost: 0.5,
    });
    await adjust(t.app, admin, flour.id, { adjustment: -2, reason: 'sold' });
    await backdateSales(flour.id, 40);
    await createItem(t.app, admin, {
      description: 'Salt',
      category: 'Dry goods',
      remainingStock: 30,
      unitCost: 0.2,
    });
    await createItem(t.app, admin, { description: 'Empty shelf', category: 'Dry goods' });

    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/inventory/analytics',
      headers: bearer(admin),
    });
    expect(response.statusCode, response.body).toBe(200);
    const data = response.json().data;
    // 30×2 (old berries) + 30×2 (new berries) + 10×1 + 4×1.5 + 10×0.5 + 30×0.2
    expect(data.totalValue).toBeCloseTo(60 + 60 + 10 + 6 + 5 + 6, 2);
    // Low: milk (14 ≤ its reorder point 20) and flour (10 ≤ the store default 10).
    expect(data).toMatchObject({
      totalItems: 5,
      lowStockItems: 2,
      outOfStockItems: 1,
      expiringItems: 1,
      velocityWindowDays: 28,
    });
    expect(data.categoryBreakdown).toEqual(
      [
        { category: 'Produce', count: 1, value: 120 },
        { category: 'Dry goods', count: 3, value: 11 },
        { category: 'Dairy', count: 1, value: 16 },
      ].sort((a, b) => b.value - a.value),
    );
    expect(data.topMovingItems.map((item: { name: string }) => item.name)).toEqual(['Milk', 'Strawberries']);
    expect(data.topMovingItems[0]).toMatchObject({ unitsSold: 140, salesVelocity: 5 });
    expect(data.slowMovingItems[0].name).toBe('Flour');
    expect(data.slowMovingItems[0].daysSinceLastSale).toBeGreaterThanOrEqual(39);
    expect(data.slowMovingItems.map((item: { name: string }) => item.name)).not.toContain('Empty shelf');

    // 30 strawberries expire in 2 days; at 1/day about 2 sell: 28 at risk, worth 56.
    const atRisk = data.atRiskItems.find((item: { name: string }) => item.name === 'Strawberries');
    expect(atRisk).toMatchObject({
      salesVelocity: 1,
      atRiskQuantity: 28,
      atRiskValue: 56,
      earliestExpiry: addDays(today, 2),
    });
    expect(data.atRiskItems[0].name).toBe('Strawberries');
  });

  it('is a report: viewers may see it, employees may not', async () => {
    const viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    const employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/inventory/analytics', headers: bearer(viewer) }))
        .statusCode,
    ).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/inventory/analytics', headers: bearer(employee) }))
        .statusCode,
    ).toBe(403);
  });

  it('shows an empty store as zeros, never another store’s numbers', async () => {
    const empty = await registerStore(t.app, 'Empty Store');
    const data = (
      await t.app.inject({ method: 'GET', url: '/v1/inventory/analytics', headers: bearer(empty) })
    ).json().data;
    expect(data).toMatchObject({
      totalItems: 0,
      totalValue: 0,
      categoryBreakdown: [],
      topMovingItems: [],
      atRiskItems: [],
    });
  });
});

describe('slow movers, on a store built for them', () => {
  let store: Session;
  // Tokyo (UTC+9, no daylight saving): a store whose calendar day is not UTC's.
  const zone = 'Asia/Tokyo';
  let today: string;
  /** The instant of a store-local time on the store-local day `days` from today. */
  const localTime = (days: number, time = '12:00') =>
    new Date(new Date(`${addDays(today, days)}T${time}:00+09:00`).getTime());

  beforeAll(async () => {
    store = await registerStore(t.app, 'Slow Movers Market');
    const settings = await t.app.inject({
      method: 'PUT',
      url: '/v1/settings',
      headers: bearer(store),
      payload: { timeZone: zone },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    today = todayIn(zone);
  });

  const db = () => t.testDatabase.database.db;
  /** A sale through the API, then dated as the ledger would have it. */
  const sell = async (itemId: string, units: number, at: Date) => {
    const response = await adjust(t.app, store, itemId, { adjustment: -units, reason: 'sold' });
    expect(response.statusCode, response.body).toBe(200);
    await db()
      .updateTable('stock_movements')
      .set({ occurred_at: at })
      .where('id', '=', response.json().data.movement.id)
      .execute();
  };
  const stockedSince = (itemId: string, days: number) =>
    db()
      .updateTable('inventory_lots')
      .set({ received_date: addDays(today, days) })
      .where('item_id', '=', itemId)
      .execute();
  const item = (description: string, remainingStock = 500) =>
    createItem(t.app, store, { description, category: 'Grocery', remainingStock });

  it('lists the items that sold least over 28 days, then the longest idle, with days from the last sale', async () => {
    const neverSold40 = await item('Never sold, stocked 40 days');
    await stockedSince(neverSold40.id, -40);
    const neverSold5 = await item('Never sold, stocked 5 days');
    await stockedSince(neverSold5.id, -5);
    // Written off and counted, never sold: neither is a sale.
    expect(
      (await adjust(t.app, store, neverSold5.id, { adjustment: -2, reason: 'expired' })).statusCode,
    ).toBe(200);
    expect(
      (await adjust(t.app, store, neverSold5.id, { adjustment: -1, reason: 'count_correction' })).statusCode,
    ).toBe(200);
    const sold60 = await item('Sold 60 days ago');
    await sell(sold60.id, 4, localTime(-60));
    const sold35 = await item('Sold 35 days ago');
    await sell(sold35.id, 2, localTime(-35));
    await sell(sold35.id, 1, localTime(-50));
    const one20 = await item('One sold 20 days ago');
    await sell(one20.id, 1, localTime(-20));
    await sell(one20.id, 9, localTime(-40)); // before the window: not counted
    // Five past midnight yesterday in Tokyo is still the day before yesterday in UTC.
    const oneYesterday = await item('One sold just after midnight yesterday');
    const justAfterMidnight = localTime(-1, '00:05');
    await sell(oneYesterday.id, 1, justAfterMidnight);
    const three = await item('Three sold');
    await sell(three.id, 1, localTime(-10));
    await sell(three.id, 2, localTime(-3));
    const five = await item('Five sold');
    await sell(five.id, 5, localTime(-2));
    const eight = await item('Eight sold');
    await sell(eight.id, 8, localTime(-7));
    const twelve = await item('Twelve sold');
    await sell(twelve.id, 12, localTime(-4));
    const fast = await item('Fast mover');
    for (let day = 1; day <= 20; day++) await sell(fast.id, 5, localTime(-day));
    const fastest = await item('Fastest mover');
    for (let day = 1; day <= 20; day++) await sell(fastest.id, 15, localTime(-day));
    // Not slow movers: no stock to sell, or deleted.
    await item('Never sold, out of stock', 0);
    const deleted = await item('Deleted, never sold');
    await stockedSince(deleted.id, -90);
    await t.app.inject({ method: 'DELETE', url: `/v1/inventory/${deleted.id}`, headers: bearer(store) });

    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/inventory/analytics',
      headers: bearer(store),
    });
    expect(response.statusCode, response.body).toBe(200);
    const data = response.json().data;
    const slow = (
      name: string,
      id: string,
      unitsSold: number,
      daysSinceLastSale: number,
      lastSaleAt: Date | null,
      currentStock: number,
    ) => ({
      id,
      name,
      unitsSold,
      daysSinceLastSale,
      neverSold: lastSaleAt === null,
      lastSaleAt: lastSaleAt?.toISOString() ?? null,
      currentStock,
    });
    expect(data.slowMovingItems).toEqual([
      // Nothing sold in the window: longest idle first, never-sold ones by how long stocked.
      slow('Sold 60 days ago', sold60.id, 0, 60, localTime(-60), 496),
      slow('Never sold, stocked 40 days', neverSold40.id, 0, 40, null, 500),
      slow('Sold 35 days ago', sold35.id, 0, 35, localTime(-35), 497),
      slow('Never sold, stocked 5 days', neverSold5.id, 0, 5, null, 497),
      // One unit each: the one idle longer first.
      slow('One sold 20 days ago', one20.id, 1, 20, localTime(-20), 490),
      slow('One sold just after midnight yesterday', oneYesterday.id, 1, 1, justAfterMidnight, 499),
      slow('Three sold', three.id, 3, 3, localTime(-3), 497),
      slow('Five sold', five.id, 5, 2, localTime(-2), 495),
      slow('Eight sold', eight.id, 8, 7, localTime(-7), 492),
      slow('Twelve sold', twelve.id, 12, 4, localTime(-4), 488),
    ]);
    // The fast movers are the top movers, not slow ones.
    expect(data.topMovingItems.slice(0, 2)).toEqual([
      { id: fastest.id, name: 'Fastest mover', unitsSold: 300, salesVelocity: round2(300 / 28) },
      { id: fast.id, name: 'Fast mover', unitsSold: 100, salesVelocity: round2(100 / 28) },
    ]);
  });
});

describe('expired stock in analytics', () => {
  let store: Session;
  const today = todayIn('UTC');
  beforeAll(async () => {
    store = await registerStore(t.app, 'Expired Stock Market');
  });

  it('counts it apart from stock about to expire, and values it apart in the at-risk list', async () => {
    // Yoghurt: 6 expired 2 days ago at 1.50, 10 expiring tomorrow at 1.00, nothing sells.
    const yoghurt = await createItem(t.app, store, {
      description: 'Yoghurt',
      remainingStock: 10,
      expirationDate: addDays(today, 1),
      unitCost: 1,
    });
    await adjust(t.app, store, yoghurt.id, {
      adjustment: 6,
      reason: 'received',
      expirationDate: addDays(today, -2),
      unitCost: 1.5,
    });
    // Cream: expiring in 2 days, not expired.
    const cream = await createItem(t.app, store, {
      description: 'Cream',
      remainingStock: 20,
      expirationDate: addDays(today, 2),
      unitCost: 2,
    });
    // Butter: low on stock and all of it expired yesterday.
    const butter = await createItem(t.app, store, {
      description: 'Butter',
      remainingStock: 4,
      expirationDate: addDays(today, -1),
      unitCost: 3,
    });
    // Rice: expires today, which is not yet expired.
    await createItem(t.app, store, {
      description: 'Rice',
      remainingStock: 50,
      expirationDate: today,
      unitCost: 0.1,
    });

    const data = (
      await t.app.inject({ method: 'GET', url: '/v1/inventory/analytics', headers: bearer(store) })
    ).json().data;
    expect(data).toMatchObject({ totalItems: 4, expiringItems: 4, expiredItems: 2, lowStockItems: 1 });
    const byName = new Map(data.atRiskItems.map((entry: { name: string }) => [entry.name, entry]));
    expect(byName.get('Yoghurt')).toEqual({
      id: yoghurt.id,
      name: 'Yoghurt',
      category: 'Produce',
      salesVelocity: 0,
      atRiskQuantity: 16,
      atRiskValue: 19,
      expiredQuantity: 6,
      expiredValue: 9,
      earliestExpiry: addDays(today, -2),
      lots: [
        {
          lotId: expect.any(String),
          expirationDate: addDays(today, -2),
          daysUntilExpiry: -2,
          expired: true,
          quantity: 6,
          atRiskQuantity: 6,
        },
        {
          lotId: expect.any(String),
          expirationDate: addDays(today, 1),
          daysUntilExpiry: 1,
          expired: false,
          quantity: 10,
          atRiskQuantity: 10,
        },
      ],
    });
    expect(byName.get('Cream')).toMatchObject({ expiredQuantity: 0, expiredValue: 0, atRiskQuantity: 20 });
    expect(byName.get('Butter')).toMatchObject({ expiredQuantity: 4, expiredValue: 12, atRiskValue: 12 });
    expect(byName.get('Rice')).toMatchObject({
      expiredQuantity: 0,
      lots: [expect.objectContaining({ daysUntilExpiry: 0, expired: false })],
    });
    // The items say the same.
    for (const [id, expiredStock] of [
      [yoghurt.id, 6],
      [cream.id, 0],
      [butter.id, 4],
    ] as const) {
      const read = (
        await t.app.inject({ method: 'GET', url: `/v1/inventory/${id}`, headers: bearer(store) })
      ).json().data;
      expect(read.expiredStock).toBe(expiredStock);
    }
  });
});
