import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { insertForecast, steady } from '../../../test/helpers/forecasts.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { insertVendor } from '../../../test/helpers/purchasing.ts';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import { detectAnomalies } from './anomalies.service.ts';

/**
 * Anomaly detection on a store whose history is written into the ledger, receipts and forecasts
 * directly (past days cannot be made through the API), one item per case and one control item
 * per kind that must not be flagged. The store is in UTC; every movement is at noon.
 */

let t: TestApp;
let db: Kysely<DB>;
let manager: Session;
let viewer: Session;
let other: Session;
let orgId: string;
const today = todayIn('UTC');
const yesterday = addDays(today, -1);
const ids: Record<string, string> = {};
let vendorId: string;

const at = (date: string) => `${date}T12:00:00Z`;

async function movement(
  itemId: string,
  date: string,
  fields: {
    type: 'sale' | 'receipt' | 'waste';
    reason: string;
    quantity: number;
    stockAfter: number;
    lots?: object[];
  },
) {
  const { id } = await db
    .insertInto('stock_movements')
    .values({
      org_id: orgId,
      item_id: itemId,
      type: fields.type,
      reason: fields.reason,
      quantity: fields.quantity,
      stock_before: fields.stockAfter - fields.quantity,
      stock_after: fields.stockAfter,
      lots: JSON.stringify(fields.lots ?? []),
      occurred_at: at(date),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** Daily sales from 59 days ago to yesterday: `units(daysAgo)` each, stock staying positive unless `stockAfter` says. */
async function salesHistory(
  itemId: string,
  units: (daysAgo: number) => number,
  stockAfter = (_daysAgo: number) => 500,
) {
  await movement(itemId, addDays(today, -60), {
    type: 'receipt',
    reason: 'received',
    quantity: 1000,
    stockAfter: 1000,
  });
  for (let daysAgo = 59; daysAgo >= 1; daysAgo--) {
    const sold = units(daysAgo);
    if (sold > 0)
      await movement(itemId, addDays(today, -daysAgo), {
        type: 'sale',
        reason: 'sold',
        quantity: -sold,
        stockAfter: stockAfter(daysAgo),
      });
  }
}

/** A receipt from the vendor with one line (its lot and ledger movement), `daysAgo` days ago. */
async function receive(itemId: string, daysAgo: number, quantity: number, unitCost: number) {
  const date = addDays(today, -daysAgo);
  const lot = await db
    .insertInto('inventory_lots')
    .values({
      org_id: orgId,
      item_id: itemId,
      quantity,
      initial_quantity: quantity,
      received_date: date,
      unit_cost: unitCost,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const movementId = await movement(itemId, date, {
    type: 'receipt',
    reason: 'received',
    quantity,
    stockAfter: 500,
  });
  const receipt = await db
    .insertInto('receipts')
    .values({ org_id: orgId, vendor_id: vendorId, received_at: at(date), received_date: date })
    .returning('id')
    .executeTakeFirstOrThrow();
  const line = await db
    .insertInto('receipt_lines')
    .values({
      org_id: orgId,
      receipt_id: receipt.id,
      item_id: itemId,
      quantity_received: quantity,
      unit_cost: unitCost,
      lot_id: lot.id,
      movement_id: movementId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { lotId: lot.id, lineId: line.id };
}

const waste = (itemId: string, daysAgo: number, lotId: string, units: number, reason = 'spoiled') =>
  movement(itemId, addDays(today, -daysAgo), {
    type: 'waste',
    reason,
    quantity: -units,
    stockAfter: 400,
    lots: [{ lotId, quantity: -units }],
  });

/** 9, 10, 11, 10, 9, … : regular sales around 10. */
const aroundTen = (daysAgo: number) => 9 + (daysAgo % 3);

beforeAll(async () => {
  t = await createTestApp();
  db = t.testDatabase.database.db;
  manager = await registerStore(t.app, 'Watchful Grocer');
  viewer = await addMember(t.app, t.testDatabase.database, manager, 'viewer');
  other = await registerStore(t.app, 'Quiet Grocer');
  orgId = manager.user.organization.id;
  vendorId = (await insertVendor(t.testDatabase.database, manager, { name: 'Leafy Farm' })).id;
  for (const name of [
    'Apples',
    'Bananas',
    'Cherries',
    'Dates',
    'Eggs',
    'Flour',
    'Grapes',
    'Lettuce',
    'Spinach',
  ])
    ids[name] = (await createItem(t.app, manager, { description: name })).id;

  // Spike against the weekday baseline: ~10 a day, 40 yesterday.
  await salesHistory(ids.Apples!, (d) => (d === 1 ? 40 : aroundTen(d)));
  // Drop with stock on the shelf: 20 a day, 2 yesterday.
  await salesHistory(ids.Bananas!, (d) => (d === 1 ? 2 : 20));
  // Nothing sold yesterday, but the shelf was empty from the day before: no drop.
  await salesHistory(
    ids.Cherries!,
    (d) => (d === 1 ? 0 : 20),
    (d) => (d === 2 ? 0 : 500),
  );
  // 5 a day, 9 yesterday: inside the weekday band, above the stored forecast's 95% interval.
  await salesHistory(ids.Dates!, (d) => (d === 1 ? 9 : 5));
  await insertForecast(db, orgId, ids.Dates!, { historyThrough: addDays(today, -4), days: steady(5, 1) });
  // Control: regular sales.
  await salesHistory(ids.Eggs!, aroundTen);

  // Cost: 2.00, 2.05, 1.95 before, 2.50 yesterday (+25%). Control: 2.00 ×3, then 2.10 (+5%).
  for (const [daysAgo, cost] of [
    [30, 2],
    [20, 2.05],
    [10, 1.95],
    [1, 2.5],
  ] as const)
    await receive(ids.Flour!, daysAgo, 10, cost);
  for (const [daysAgo, cost] of [
    [30, 2],
    [20, 2],
    [10, 2],
    [1, 2.1],
  ] as const)
    await receive(ids.Grapes!, daysAgo, 10, cost);

  // Quality: Lettuce 2 of 100 wasted before (2%); 12 of 50 in three spoilages lately (24%).
  const oldLettuce = await receive(ids.Lettuce!, 60, 100, 1);
  await waste(ids.Lettuce!, 55, oldLettuce.lotId, 2, 'damaged');
  const newLettuce = await receive(ids.Lettuce!, 10, 50, 1);
  for (const daysAgo of [8, 6, 4]) await waste(ids.Lettuce!, daysAgo, newLettuce.lotId, 4);
  // Control: Spinach 3 of 100 in three spoilages (3%, under the 5% floor).
  const spinach = await receive(ids.Spinach!, 10, 100, 1);
  for (const daysAgo of [8, 6, 4]) await waste(ids.Spinach!, daysAgo, spinach.lotId, 1);
});
afterAll(() => t.close());

const list = (session: Session, query = '') =>
  t.app.inject({ method: 'GET', url: `/v1/ml/anomalies${query}`, headers: bearer(session) });

interface AnomalyBody {
  id: string;
  type: string;
  itemId: string;
  itemName: string;
  severity: string;
  description: string;
  observedOn: string;
  vendorId: string | null;
  alertId: string | null;
  suggestedActions: string[];
  details: Record<string, unknown>;
}

describe('GET /v1/ml/anomalies', () => {
  let anomalies: AnomalyBody[];

  it('detects each kind on the data made to have it, and nothing on the controls', async () => {
    const response = await list(viewer, '?limit=100');
    expect(response.statusCode, response.body).toBe(200);
    anomalies = response.json().data.anomalies;
    const found = anomalies.map((a) => `${a.itemName} ${a.type} ${a.severity} ${a.observedOn}`).sort();
    expect(found).toEqual([
      `Apples demand_spike high ${yesterday}`,
      `Bananas demand_drop medium ${yesterday}`,
      `Dates demand_spike medium ${yesterday}`,
      `Flour cost_increase medium ${yesterday}`,
      `Lettuce quality_issue medium ${today}`,
    ]);
    expect(response.json().meta.pagination).toMatchObject({ total: 5 });
  });

  it('says what was seen against what was expected, with actions', () => {
    const byItem = new Map(anomalies.map((a) => [a.itemName, a]));
    const apples = byItem.get('Apples')!;
    // Median 10, spread max(1.4826 · MAD 1, √10) = 3.162: band 0.513–19.487.
    expect(apples.description).toBe(
      `Apples sold 40 on ${yesterday}, above the usual 0.513–19.487 for that weekday (median 10).`,
    );
    expect(apples.details).toMatchObject({
      sold: 40,
      method: 'weekday_median_mad',
      expected: 10,
      score: 9.49,
    });
    expect(apples.suggestedActions.length).toBeGreaterThan(0);
    // The forecast's interval, not the weekday band (which 9 is inside), judged Dates.
    expect(byItem.get('Dates')!.details).toMatchObject({
      method: 'forecast_interval',
      expected: 5,
      lower: 3.04,
      upper: 6.96,
      score: 4,
    });
    expect(byItem.get('Flour')).toMatchObject({
      vendorId,
      description: 'Flour was received at 2.5 a unit from Leafy Farm, 25% above its usual 2.',
      details: { unitCost: 2.5, median: 2, increase: 0.25 },
    });
    expect(byItem.get('Lettuce')).toMatchObject({
      vendorId,
      details: { recentWaste: 12, recentEvents: 3, recentReceived: 50, recentRate: 0.24, earlierRate: 0.02 },
    });
  });

  it('stores each anomaly once: detecting again stores nothing new', async () => {
    const again = await withTenant(db, orgId, (trx) => detectAnomalies(trx, orgId, 'UTC'));
    expect(again).toMatchObject({ found: 5, stored: 0, alertsOpened: 0 });
    const response = await list(manager, '?limit=100');
    expect(response.json().data.anomalies).toHaveLength(5);
  });

  it('raises an anomaly alert for the high one, with its event', async () => {
    const apples = anomalies.find((a) => a.itemName === 'Apples')!;
    const alerts = await t.app.inject({
      method: 'GET',
      url: '/v1/alerts?kind=anomaly',
      headers: bearer(manager),
    });
    expect(alerts.statusCode, alerts.body).toBe(200);
    const [alert, ...rest] = alerts.json().data.alerts;
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      id: apples.alertId,
      kind: 'anomaly',
      severity: 'critical',
      state: 'open',
      itemId: ids.Apples,
      details: { itemName: 'Apples', anomalyId: apples.id, anomalyType: 'demand_spike', currentStock: 0 },
    });
    const events = await db
      .selectFrom('outbox_events')
      .select(['type', 'payload'])
      .where('org_id', '=', orgId)
      .where('type', '=', 'alert:anomaly')
      .execute();
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({
      alertId: apples.alertId,
      kind: 'anomaly',
      itemId: ids.Apples,
    });
  });

  it('filters by type, severity, item and time', async () => {
    const byType = (await list(manager, '?type=cost_increase')).json().data.anomalies;
    expect(byType.map((a: AnomalyBody) => a.itemName)).toEqual(['Flour']);
    const high = (await list(manager, '?severity=high')).json().data.anomalies;
    expect(high.map((a: AnomalyBody) => a.itemName)).toEqual(['Apples']);
    const item = (await list(manager, `?itemId=${ids.Bananas}`)).json().data.anomalies;
    expect(item.map((a: AnomalyBody) => a.type)).toEqual(['demand_drop']);
    const future = (await list(manager, `?since=${new Date(Date.now() + 60_000).toISOString()}`)).json().data;
    expect(future.anomalies).toEqual([]);
    expect((await list(manager, '?type=theft')).statusCode).toBe(400);
  });

  it("shows another store none of this store's anomalies", async () => {
    const response = await list(other, `?itemId=${ids.Apples}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().data.anomalies).toEqual([]);
    const all = await list(other);
    expect(all.json().data.anomalies).toEqual([]);
  });

  it('resolves the alert once the item has had no high anomaly for a week', async () => {
    await db
      .updateTable('anomalies')
      .set({ detected_at: new Date(Date.now() - 8 * 86_400_000) })
      .where('org_id', '=', orgId)
      .execute();
    const run = await withTenant(db, orgId, (trx) => detectAnomalies(trx, orgId, 'UTC'));
    expect(run).toMatchObject({ stored: 0, alertsResolved: 1 });
    const alerts = await t.app.inject({
      method: 'GET',
      url: '/v1/alerts?kind=anomaly&state=all',
      headers: bearer(manager),
    });
    expect(alerts.json().data.alerts).toMatchObject([{ state: 'resolved', resolution: 'anomaly_passed' }]);
  });
});
