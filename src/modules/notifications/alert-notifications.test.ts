import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';
import { ALERT_NOTIFY_JOB } from './alert-notifications.ts';

/**
 * Alerts reach members' inboxes: a stock change opens or worsens an alert (alerts/), its event is
 * published by the outbox relay, which queues alerts:notify, whose job writes the notifications.
 * The whole path runs in this app (relay and job workers started).
 */
let t: TestApp;
let admin: Session;
let employee: Session;
let other: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'Alerting Grocer');
  employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
  other = await registerStore(t.app, 'Unrelated Grocer');
});
afterAll(() => t.close());

interface InboxRow {
  title: string;
  message: string;
  type: string;
  category: string;
  data: { alertId: string; itemId: string; severity: string };
}

const inbox = async (session: Session): Promise<InboxRow[]> =>
  (await t.app.inject({ method: 'GET', url: '/v1/notifications?limit=50', headers: bearer(session) })).json()
    .data;

async function completedNotifyJobs(session: Session): Promise<Array<{ result: Record<string, number> }>> {
  const response = await t.app.inject({
    method: 'GET',
    url: `/v1/jobs?type=${ALERT_NOTIFY_JOB}&status=completed&limit=50`,
    headers: bearer(session),
  });
  return response.json().data;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('alert notifications', () => {
  it('notifies every member once when an alert opens and once when it gets worse, not for each sale', async () => {
    const basil = await createItem(t.app, admin, {
      description: 'Fresh Basil',
      remainingStock: 10,
      reorderPoint: 5,
    });
    const sell = async (units: number) =>
      expect(
        (await adjust(t.app, employee, basil.id, { adjustment: -units, reason: 'sold' })).statusCode,
      ).toBe(200);

    await sell(6); // 4 left: the low-stock alert opens (warning)
    await sell(1); // 3: worse stock, same severity: no new notification
    await sell(1); // 2
    const opened = await until('the opening notification', async () => {
      const rows = await inbox(employee);
      return rows.length >= 1 ? rows : undefined;
    });
    expect(opened[0]).toMatchObject({
      title: 'Low stock: Fresh Basil',
      category: 'lowStock',
      type: 'warning',
      data: { itemId: basil.id, severity: 'warning' },
    });
    expect(opened[0]!.message).toMatch(/in stock; reorder point 5\./);

    await sell(2); // 0: critical
    const worse = await until('the out-of-stock notification', async () => {
      const rows = await inbox(employee);
      return rows.length >= 2 ? rows : undefined;
    });
    expect(worse[0]).toMatchObject({
      title: 'Out of stock: Fresh Basil',
      type: 'error',
      message: '0 in stock; reorder point 5.',
      data: { itemId: basil.id, severity: 'critical', alertId: opened[0]!.data.alertId },
    });

    // Two alert events, two jobs, each notifying both members; four sales made no others.
    const jobs = await until('both notify jobs', async () => {
      const done = await completedNotifyJobs(admin);
      return done.length >= 2 ? done : undefined;
    });
    expect(jobs.map((job) => job.result)).toEqual([
      { alerts: 1, notifications: 2, pushJobs: 0 },
      { alerts: 1, notifications: 2, pushJobs: 0 },
    ]);
    expect((await inbox(employee)).map((row) => row.title)).toEqual([
      'Out of stock: Fresh Basil',
      'Low stock: Fresh Basil',
    ]);
    expect(await inbox(admin)).toHaveLength(2);
    // Another store hears nothing of it.
    expect(await inbox(other)).toEqual([]);
  });
});
