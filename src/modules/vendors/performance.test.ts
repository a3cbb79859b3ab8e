import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { insertVendor, type Po, poAction, sentPo } from '../../../test/helpers/purchasing.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import { periodStart } from './performance.service.ts';

/**
 * Vendor performance computed from what really happened, driven end to end through the
 * purchasing API: orders sent and acknowledged, a partial then a final receipt with lots, expiry,
 * a refusal and a short-dated lot, an order closed short, and an order received in full on time.
 * Jobs run in this app (the weekly analysis is started through POST /v1/jobs).
 */

let t: TestApp;
let manager: Session;
let employee: Session;
let viewer: Session;
let other: Session;
const today = todayIn('UTC');

beforeAll(async () => {
  t = await createTestApp();
  manager = await registerStore(t.app, 'Performance Grocer');
  employee = await addMember(t.app, t.testDatabase.database, manager, 'employee');
  viewer = await addMember(t.app, t.testDatabase.database, manager, 'viewer');
  other = await registerStore(t.app, 'Another Grocer');
});
afterAll(() => t.close());

const performanceOf = (session: Session, vendorId: string, query = '') =>
  t.app.inject({
    method: 'GET',
    url: `/v1/vendors/${vendorId}/performance${query}`,
    headers: bearer(session),
  });

const receive = async (session: Session, po: Po, lines: object[]) => {
  const response = await poAction(t.app, session, po.id, 'receipts', { lines });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().data;
};

const getPo = async (id: string): Promise<Po> =>
  (await t.app.inject({ method: 'GET', url: `/v1/purchase-orders/${id}`, headers: bearer(manager) })).json()
    .data;

describe('GET /v1/vendors/:id/performance', () => {
  let vendorId: string;

  it('answers zeros and null rates for a vendor nothing was ordered from', async () => {
    vendorId = (await insertVendor(t.testDatabase.database, manager, { name: 'Hill Farm Dairy' })).id;
    const response = await performanceOf(viewer, vendorId, '?months=3');
    expect(response.statusCode, response.body).toBe(200);
    const data = response.json().data;
    expect(data).toMatchObject({
      vendorId,
      vendorName: 'Hill Farm Dairy',
      period: { from: periodStart(today, 3), to: today },
      metrics: {
        totalOrders: 0,
        totalValue: 0,
        averageOrderValue: 0,
        onTimeDeliveryRate: null,
        fillRate: null,
        qualityScore: null,
        responseTime: null,
        dueOrders: 0,
      },
    });
    expect(data.trends).toHaveLength(3);
    expect(data.trends.at(-1)).toEqual({
      month: today.slice(0, 7),
      orders: 0,
      value: 0,
      deliveryScore: null,
      fillRate: null,
    });
  });

  it('computes orders, on-time, fill, quality and response from orders and receipts', async () => {
    const milk = await createItem(t.app, manager, {
      description: 'Milk 1l',
      unitCost: 0.8,
      shelfLifeDays: 10,
    });
    const cream = await createItem(t.app, manager, { description: 'Cream 200ml', unitCost: 1.25 });

    // Order 1: 20 milk + 10 cream, acknowledged by the vendor, then delivered in two parts.
    const first = await sentPo(t.app, manager, {
      vendorId,
      lines: [
        { itemId: milk.id, quantity: 20 },
        { itemId: cream.id, quantity: 10 },
      ],
    });
    expect((await poAction(t.app, manager, first.id, 'acknowledge')).statusCode).toBe(200);
    // Partial: 12 milk with a fresh lot; 8 cream in, 2 refused as damaged.
    await receive(employee, first, [
      { itemId: milk.id, quantityReceived: 12, lotCode: 'M-1', expirationDate: addDays(today, 10) },
      { itemId: cream.id, quantityReceived: 8, quantityRejected: 2, rejectionReason: 'damaged' },
    ]);
    expect((await getPo(first.id)).status).toBe('partially_received');
    // Final for milk: 8 units with two days left of a ten-day shelf life (short-dated).
    await receive(employee, first, [
      { itemId: milk.id, quantityReceived: 8, lotCode: 'M-2', expirationDate: addDays(today, 2) },
    ]);
    const afterDeliveries = await getPo(first.id);
    expect(afterDeliveries.status).toBe('partially_received');
    expect(afterDeliveries.lines.map((line) => [line.receivedUnits, line.rejectedUnits])).toEqual([
      [20, 0],
      [8, 2],
    ]);
    // The refused cream is not coming: closed short.
    const closed = await poAction(t.app, manager, first.id, 'close', {
      reason: 'Damaged cream not redelivered',
    });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json().data.status).toBe('received');

    // The ledger and lots hold exactly what was received.
    const milkItem = (
      await t.app.inject({ method: 'GET', url: `/v1/inventory/${milk.id}`, headers: bearer(manager) })
    ).json().data;
    expect(milkItem.remainingStock).toBe(20);
    expect(
      milkItem.lots.map((lot: { lotCode: string; quantity: number; expirationDate: string }) => [
        lot.lotCode,
        lot.quantity,
        lot.expirationDate,
      ]),
    ).toEqual([
      ['M-2', 8, addDays(today, 2)],
      ['M-1', 12, addDays(today, 10)],
    ]);

    // Order 2: 5 milk, expected today and received in full today (on its expected date counts as
    // on time), never acknowledged: its response time runs to the receipt.
    const second = await sentPo(t.app, manager, {
      vendorId,
      expectedDate: today,
      lines: [{ itemId: milk.id, quantity: 5 }],
    });
    await receive(employee, second, [
      { itemId: milk.id, quantityReceived: 5, lotCode: 'M-3', expirationDate: addDays(today, 9) },
    ]);
    expect((await getPo(second.id)).status).toBe('received');

    // Order 3: a draft, and order 4: cancelled after sending. Neither counts.
    const draft = await t.app.inject({
      method: 'POST',
      url: '/v1/purchase-orders',
      headers: bearer(manager),
      payload: { vendorId, lines: [{ itemId: cream.id, quantity: 50 }] },
    });
    expect(draft.statusCode).toBe(201);
    const cancelled = await sentPo(t.app, manager, { vendorId, lines: [{ itemId: cream.id, quantity: 40 }] });
    expect(
      (await poAction(t.app, manager, cancelled.id, 'cancel', { reason: 'Ordered twice' })).statusCode,
    ).toBe(200);

    const response = await performanceOf(manager, vendorId);
    expect(response.statusCode, response.body).toBe(200);
    const { metrics, trends } = response.json().data;
    // Subtotals: 20 × 0.80 + 10 × 1.25 = 28.50 and 5 × 0.80 = 4.00.
    expect(metrics).toMatchObject({
      totalOrders: 2,
      totalValue: 32.5,
      averageOrderValue: 16.25,
      dueOrders: 2,
      // Order 1 was not received in full (2 cream refused, closed short); order 2 was, on time.
      onTimeDeliveryRate: 50,
      // (20 + 8 + 5) received of (30 + 5) ordered.
      fillRate: 94.3,
      // 1 − (2 refused + 8 short-dated) ÷ (33 received + 2 refused).
      qualityScore: 71.4,
      unitsReceived: 33,
      unitsRejected: 2,
      unitsShortDated: 8,
    });
    // Acknowledged and received within this test: well under an hour each.
    expect(metrics.responseTime).toBeGreaterThanOrEqual(0);
    expect(metrics.responseTime).toBeLessThan(1);
    expect(trends.at(-1)).toEqual({
      month: today.slice(0, 7),
      orders: 2,
      value: 32.5,
      deliveryScore: 50,
      fillRate: 94.3,
    });
  });

  it('keeps a weekly snapshot per vendor through vendor:performance_analysis, rerun-safe', async () => {
    const run = async () => {
      const started = await t.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: bearer(manager),
        payload: { type: 'vendor:performance_analysis' },
      });
      expect(started.statusCode, started.body).toBe(201);
      const id = started.json().data.job.id;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const job = (
          await t.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: bearer(manager) })
        ).json().data;
        if (job.status === 'completed') return job;
        if (job.status === 'failed' || Date.now() > deadline) throw new Error(JSON.stringify(job));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const job = await run();
    expect(job.result).toMatchObject({ vendors: 1, period: { from: periodStart(today, 3), to: today } });
    await run();
    const snapshots = await t.testDatabase.database.db
      .selectFrom('vendor_performance_snapshots')
      .selectAll()
      .where('org_id', '=', manager.user.organization.id)
      .execute();
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatchObject({
      vendor_id: vendorId,
      metrics: expect.objectContaining({ totalOrders: 2, onTimeDeliveryRate: 50, qualityScore: 71.4 }),
    });
    // An employee may not start it (vendor:manage).
    const refused = await t.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: bearer(employee),
      payload: { type: 'vendor:performance_analysis' },
    });
    expect(refused.statusCode).toBe(403);
  });

  it('is for reports:view, and another store’s vendor is a 404', async () => {
    expect((await performanceOf(employee, vendorId)).statusCode).toBe(403);
    const stranger = await performanceOf(other, vendorId);
    expect(stranger.statusCode).toBe(404);
    expect(stranger.json().error.code).toBe('NOT_FOUND');
    expect((await performanceOf(manager, vendorId, '?months=0')).statusCode).toBe(400);
    expect((await performanceOf(manager, vendorId, '?months=37')).statusCode).toBe(400);
  });
});
