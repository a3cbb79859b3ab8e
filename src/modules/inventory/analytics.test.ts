import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';
import { unsoldAtExpiry } from './analytics.service.ts';
import { addDays, todayIn } from './inventory.service.ts';

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

describe('GET /v1/inventory/analytics', () => {
  let t: TestApp;
  let admin: Session;
  const today = todayIn('UTC');
  beforeAll(async () => {
    t = await createTestApp();
    admin = await registerStore(t.app, 'Analytics Market');
  });
  afterAll(() => t.close());

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
