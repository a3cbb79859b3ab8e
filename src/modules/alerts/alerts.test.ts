import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';

let t: TestApp;
let admin: Session;
let employee: Session;
let viewer: Session;
let other: Session;

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const db = () => t.testDatabase.database.db;

beforeAll(async () => {
  // The app's scheduler ticks rarely: the daily checks are started through /v1/jobs here.
  t = await createTestApp({ scheduleCheckSeconds: 300 });
  admin = await registerStore(t.app, 'Alerting Grocer');
  employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
  viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
  other = await registerStore(t.app, 'Other Grocer');
});
afterAll(async () => t?.close());

function call(method: 'GET' | 'POST', url: string, session: Session, payload?: object) {
  return t.app.inject({ method, url, headers: bearer(session), ...(payload ? { payload } : {}) });
}

interface AlertBody {
  id: string;
  kind: string;
  severity: string;
  state: string;
  itemId: string;
  details: Record<string, unknown>;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolution: string | null;
}

async function alertsOf(itemId: string, query = 'state=all'): Promise<AlertBody[]> {
  const response = await call('GET', `/v1/alerts?itemId=${itemId}&${query}`, admin);
  expect(response.statusCode).toBe(200);
  return response.json().data.alerts;
}

/** The item's alert events (every alert:* type), in outbox order. */
async function alertEvents(itemId: string) {
  const { rows } = await sql<{ type: string; payload: Record<string, unknown> }>`
    select type, payload from outbox_events
     where type like 'alert:%' and payload->>'itemId' = ${itemId}
     order by id`.execute(db());
  return rows;
}

async function runJob(type: string, payload?: object) {
  const started = await call('POST', '/v1/jobs', admin, { type, ...(payload ? { payload } : {}) });
  expect(started.statusCode).toBe(201);
  const id = started.json().data.job.id as string;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = (await call('GET', `/v1/jobs/${id}`, admin)).json().data;
    if (job.status === 'completed') return job as { id: string; result: Record<string, unknown> };
    if (job.status === 'failed' || Date.now() > deadline)
      throw new Error(`job ${id}: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Moves the item's lots' expiry (time passing, as far as the item is concerned), its cached total too. */
async function setExpiry(itemId: string, date: string) {
  await sql`update inventory_lots set expiration_date = ${date}::date where item_id = ${itemId}`.execute(
    db(),
  );
  await sql`update inventory_items set earliest_expiry = ${date}::date where id = ${itemId}`.execute(db());
}

describe('low stock alerts from stock changes', () => {
  it('make one alert of a hundred sales below the threshold, escalate at zero and resolve on replenishment', async () => {
    const item = await createItem(t.app, admin, {
      description: 'Deduplicated milk',
      remainingStock: 120,
      reorderPoint: 110,
      location: 'Dairy 2',
    });
    expect(await alertsOf(item.id)).toEqual([]);

    expect((await adjust(t.app, admin, item.id, { adjustment: -10, reason: 'sold' })).statusCode).toBe(200);
    // Ten at a time: concurrent on one item (they queue on its row lock), without queueing a
    // hundred on the connection pool of a loaded machine.
    const sales = [];
    for (let round = 0; round < 10; round++) {
      sales.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () =>
            adjust(t.app, employee, item.id, { adjustment: -1, reason: 'sold' }),
          ),
        )),
      );
    }
    expect(sales.filter((sale) => sale.statusCode !== 200)).toEqual([]);

    const [alert, ...more] = await alertsOf(item.id);
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      kind: 'low_stock',
      severity: 'warning',
      state: 'open',
      details: {
        itemId: item.id,
        itemName: 'Deduplicated milk',
        currentStock: 10,
        threshold: 110,
        category: 'Produce',
        location: 'Dairy 2',
      },
    });
    const { rows: stockEvents } = await sql<{ count: string }>`
      select count(*) as count from outbox_events
       where type = 'inventory:stock_updated' and payload->>'itemId' = ${item.id}`.execute(db());
    expect(Number(stockEvents[0]!.count)).toBe(102);
    const opened = await alertEvents(item.id);
    expect(opened).toEqual([
      {
        type: 'alert:low_stock',
        payload: {
          alertId: alert!.id,
          kind: 'low_stock',
          severity: 'warning',
          state: 'open',
          itemId: item.id,
          itemName: 'Deduplicated milk',
          currentStock: 110,
          threshold: 110,
          category: 'Produce',
          location: 'Dairy 2',
        },
      },
    ]);

    await adjust(t.app, admin, item.id, { adjustment: -10, reason: 'sold' });
    const [critical] = await alertsOf(item.id);
    expect(critical).toMatchObject({ id: alert!.id, severity: 'critical', state: 'open' });
    expect(critical!.details.currentStock).toBe(0);

    await adjust(t.app, admin, item.id, { adjustment: 200, reason: 'received' });
    const [resolved] = await alertsOf(item.id);
    expect(resolved).toMatchObject({ id: alert!.id, state: 'resolved', resolution: 'replenished' });
    expect(await alertsOf(item.id, 'state=live')).toEqual([]);

    const events = await alertEvents(item.id);
    expect(events.map((event) => event.type)).toEqual([
      'alert:low_stock',
      'alert:low_stock',
      'alert:resolved',
    ]);
    expect(events[1]!.payload).toMatchObject({
      alertId: alert!.id,
      severity: 'critical',
      previousSeverity: 'warning',
      currentStock: 0,
    });
    expect(events[2]!.payload).toEqual({
      alertId: alert!.id,
      kind: 'low_stock',
      itemId: item.id,
      itemName: 'Deduplicated milk',
      resolution: 'replenished',
    });

    // Low again: a new alert, the resolved one stays as it was.
    await adjust(t.app, admin, item.id, { adjustment: -150, reason: 'sold' });
    const again = await alertsOf(item.id);
    expect(again.map((row) => row.state)).toEqual(['open', 'resolved']);
    expect(again[0]!.id).not.toBe(alert!.id);
  });

  it('resolve an item’s alerts when it is deleted', async () => {
    const item = await createItem(t.app, admin, {
      description: 'Discontinued cheese',
      remainingStock: 2,
      expirationDate: inDays(1),
    });
    const live = await alertsOf(item.id, 'state=live');
    expect(live.map((row) => [row.kind, row.severity]).sort()).toEqual([
      ['expiry', 'warning'],
      ['low_stock', 'warning'],
    ]);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/inventory/${item.id}`, headers: bearer(admin) }))
        .statusCode,
    ).toBe(204);
    const after = await alertsOf(item.id);
    expect(after.map((row) => [row.state, row.resolution])).toEqual([
      ['resolved', 'item_deleted'],
      ['resolved', 'item_deleted'],
    ]);
    const events = await alertEvents(item.id);
    expect(events.filter((event) => event.type === 'alert:resolved')).toHaveLength(2);
  });
});

describe('the daily checks', () => {
  it('open an expiry alert for stock that became expiring with time, escalate it when expired, resolve it when written off', async () => {
    const item = await createItem(t.app, admin, {
      description: 'Slowly ageing yogurt',
      remainingStock: 40,
      expirationDate: inDays(30),
    });
    expect(await alertsOf(item.id)).toEqual([]);

    await setExpiry(item.id, inDays(2));
    const first = await runJob('inventory:check_expiry');
    expect(first.result).toMatchObject({ alerts: { opened: 1, escalated: 0 } });
    const [alert] = await alertsOf(item.id);
    expect(alert).toMatchObject({
      kind: 'expiry',
      severity: 'info',
      state: 'open',
      details: { itemId: item.id, expiryDate: inDays(2), daysUntilExpiry: 2, currentStock: 40 },
    });
    const opened = await alertEvents(item.id);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({
      type: 'alert:expiry_warning',
      payload: { alertId: alert!.id, severity: 'info', source: 'inventory:check_expiry', jobId: first.id },
    });

    // The same day's rerun finds nothing to change and writes nothing.
    const rerun = await runJob('inventory:check_expiry');
    expect(rerun.result).toMatchObject({ alerts: { opened: 0, escalated: 0, resolved: 0 } });
    expect(await alertEvents(item.id)).toHaveLength(1);

    // Acknowledged, then the lot expires: critical, and back to open.
    expect((await call('POST', `/v1/alerts/${alert!.id}/acknowledge`, employee)).statusCode).toBe(200);
    await setExpiry(item.id, inDays(-1));
    await runJob('inventory:check_expiry');
    const [expired] = await alertsOf(item.id);
    expect(expired).toMatchObject({
      id: alert!.id,
      severity: 'critical',
      state: 'open',
      acknowledgedAt: null,
      details: { daysUntilExpiry: -1 },
    });

    // Sales of expired stock update the details without an event.
    await adjust(t.app, admin, item.id, { adjustment: -5, reason: 'sold' });
    expect((await alertsOf(item.id))[0]!.details.currentStock).toBe(35);

    await adjust(t.app, admin, item.id, { adjustment: -35, reason: 'expired' });
    const gone = (await alertsOf(item.id)).find((row) => row.kind === 'expiry');
    expect(gone).toMatchObject({ id: alert!.id, state: 'resolved', resolution: 'expiring_stock_gone' });
    expect((await alertEvents(item.id)).map((event) => [event.type, event.payload.severity])).toEqual([
      ['alert:expiry_warning', 'info'],
      ['alert:acknowledged', undefined],
      ['alert:expiry_warning', 'critical'],
      // The write-off left nothing: the low-stock alert opens (critical) and the expiry one resolves.
      ['alert:resolved', undefined],
      ['alert:low_stock', 'critical'],
    ]);
  });

  it('open low stock alerts for items no stock change made low, once', async () => {
    // Created without stock: no stock change, no alert yet.
    const empty = await createItem(t.app, admin, { description: 'Never stocked beans', reorderPoint: 5 });
    const plenty = await createItem(t.app, admin, { description: 'Plenty of rice', remainingStock: 500 });
    // A reorder point raised behind the API's back (a store-wide setting change works the same way).
    await sql`update inventory_items set reorder_point = 600 where id = ${plenty.id}`.execute(db());

    const first = await runJob('inventory:low_stock_check');
    expect((first.result as { alerts: { opened: number } }).alerts.opened).toBeGreaterThanOrEqual(2);
    expect((await alertsOf(empty.id)).map((row) => [row.severity, row.state])).toEqual([
      ['critical', 'open'],
    ]);
    expect((await alertsOf(plenty.id)).map((row) => [row.severity, row.details.threshold])).toEqual([
      ['warning', 600],
    ]);

    const rerun = await runJob('inventory:low_stock_check');
    expect(rerun.result).toMatchObject({ alerts: { opened: 0, escalated: 0, resolved: 0 } });
    expect(await alertEvents(empty.id)).toHaveLength(1);

    // The reorder point lowered again through the API: the alert resolves at once.
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/inventory/${plenty.id}`,
      headers: bearer(admin),
      payload: { reorderPoint: 50 },
    });
    expect(put.statusCode).toBe(200);
    expect((await alertsOf(plenty.id)).map((row) => row.state)).toEqual(['resolved']);
    // Another store's items are not this store's business.
    const { rows } = await sql<{ count: string }>`
      select count(*) as count from alerts where org_id = ${other.user.organization.id}`.execute(db());
    expect(Number(rows[0]!.count)).toBe(0);
  });
});

describe('routes', () => {
  it('acknowledge once (a second time answers it unchanged), refuse a resolved alert with 409', async () => {
    const item = await createItem(t.app, admin, { description: 'Acknowledged eggs', remainingStock: 3 });
    const [alert] = await alertsOf(item.id);
    const first = await call('POST', `/v1/alerts/${alert!.id}/acknowledge`, employee);
    expect(first.statusCode).toBe(200);
    expect(first.json().data).toMatchObject({ state: 'acknowledged', acknowledgedBy: employee.user.id });
    const second = await call('POST', `/v1/alerts/${alert!.id}/acknowledge`, admin);
    expect(second.statusCode).toBe(200);
    expect(second.json().data).toEqual(first.json().data);
    const acknowledged = (await alertEvents(item.id)).filter((event) => event.type === 'alert:acknowledged');
    expect(acknowledged).toEqual([
      {
        type: 'alert:acknowledged',
        payload: {
          alertId: alert!.id,
          kind: 'low_stock',
          itemId: item.id,
          itemName: 'Acknowledged eggs',
          acknowledgedBy: employee.user.id,
        },
      },
    ]);
    // Acknowledged and a sale, no worse: it stays acknowledged.
    await adjust(t.app, admin, item.id, { adjustment: -1, reason: 'sold' });
    expect((await call('GET', `/v1/alerts/${alert!.id}`, viewer)).json().data).toMatchObject({
      state: 'acknowledged',
      details: { currentStock: 2 },
    });

    await adjust(t.app, admin, item.id, { adjustment: 100, reason: 'received' });
    const resolved = await call('POST', `/v1/alerts/${alert!.id}/acknowledge`, admin);
    expect(resolved.statusCode).toBe(409);
    expect(resolved.json().error).toMatchObject({
      code: 'ALERT_RESOLVED',
      details: { resolution: 'replenished' },
    });
  });

  it('need inventory:write to acknowledge and inventory:read to read; another store’s alert is a 404', async () => {
    const item = await createItem(t.app, admin, { description: 'Guarded butter', remainingStock: 1 });
    const [alert] = await alertsOf(item.id);
    const byViewer = await call('POST', `/v1/alerts/${alert!.id}/acknowledge`, viewer);
    expect(byViewer.statusCode).toBe(403);
    expect((await call('GET', `/v1/alerts/${alert!.id}`, viewer)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/v1/alerts' })).statusCode).toBe(401);

    for (const response of [
      await call('GET', `/v1/alerts/${alert!.id}`, other),
      await call('POST', `/v1/alerts/${alert!.id}/acknowledge`, other),
    ]) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    }
    const listed = await call('GET', `/v1/alerts?state=all&limit=100`, other);
    expect(listed.json().data.alerts).toEqual([]);
    expect((await call('GET', `/v1/alerts/${alert!.id}`, admin)).json().data.state).toBe('open');
  });

  it('filter by kind, state, severity and item, newest first, in pages', async () => {
    const low = await createItem(t.app, admin, { description: 'Filter flour', remainingStock: 4 });
    const out = await createItem(t.app, admin, { description: 'Filter sugar', remainingStock: 1 });
    await adjust(t.app, admin, out.id, { adjustment: -1, reason: 'sold' });
    const expiring = await createItem(t.app, admin, {
      description: 'Filter cream',
      remainingStock: 50,
      expirationDate: inDays(3),
    });

    const list = async (query: string) => {
      const response = await call('GET', `/v1/alerts?${query}`, viewer);
      expect(response.statusCode).toBe(200);
      return response.json<{ data: { alerts: AlertBody[] }; meta: { pagination: { total: number } } }>();
    };
    const ids = (body: { data: { alerts: AlertBody[] } }) => body.data.alerts.map((alert) => alert.itemId);

    const all = await list('limit=100');
    expect(all.data.alerts.every((alert) => alert.state !== 'resolved')).toBe(true);
    // Newest first: the three items' alerts in the order they opened, backwards.
    const mine = ids(all).filter((id) => [low.id, out.id, expiring.id].includes(id));
    expect(mine).toEqual([expiring.id, out.id, low.id]);

    expect(ids(await list('kind=expiry&limit=100'))).toContain(expiring.id);
    expect(ids(await list('kind=expiry&limit=100'))).not.toContain(low.id);
    const critical = await list('severity=critical&kind=low_stock&limit=100');
    expect(ids(critical)).toContain(out.id);
    expect(ids(critical)).not.toContain(low.id);
    expect((await list(`itemId=${expiring.id}`)).data.alerts).toMatchObject([
      { kind: 'expiry', severity: 'info', details: { daysUntilExpiry: 3 } },
    ]);
    const resolvedOnly = await list('state=resolved&limit=100');
    expect(resolvedOnly.data.alerts.length).toBeGreaterThan(0);
    expect(resolvedOnly.data.alerts.every((alert) => alert.state === 'resolved')).toBe(true);

    const page = await list('limit=1&page=2');
    expect(page.data.alerts).toHaveLength(1);
    expect(page.data.alerts[0]!.id).toBe(all.data.alerts[1]!.id);
    expect(page.meta.pagination.total).toBe(all.meta.pagination.total);

    for (const bad of ['state=closed', 'kind=fire', 'severity=high', 'itemId=nope', 'limit=0', 'extra=1']) {
      const response = await call('GET', `/v1/alerts?${bad}`, viewer);
      expect(response.statusCode, bad).toBe(400);
    }
    expect((await call('GET', '/v1/alerts/not-a-uuid', viewer)).statusCode).toBe(400);
  });
});
