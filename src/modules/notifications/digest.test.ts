import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSmtp, startLocalSmtp } from '../../../test/helpers/smtp.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';
import { Scheduler } from '../jobs/scheduler.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import { DIGEST_JOB } from './notifications.jobs.ts';

/** A day counted from the store's today (registered stores keep time in UTC). */
const inDays = (days: number) => addDays(todayIn('UTC'), days);

/** A real SMTP server on loopback receives the digests. */
describe('the daily e-mail digest', () => {
  let smtp: LocalSmtp;
  let t: TestApp;
  let admin: Session;
  let quiet: Session;

  beforeAll(async () => {
    smtp = await startLocalSmtp();
    t = await createTestApp({ smtpUrl: smtp.url, mailFrom: 'Shop <shop@example.com>' });
    admin = await registerStore(t.app, 'Digest Grocer');
    quiet = await registerStore(t.app, 'Quiet Grocer');
  });
  afterAll(async () => {
    await t?.close();
    await smtp.close();
  });

  async function runDigest(session: Session) {
    const started = await t.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: bearer(session),
      payload: { type: DIGEST_JOB },
    });
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().data.job.id as string;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const job = (
        await t.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: bearer(session) })
      ).json().data;
      if (job.status === 'completed' || job.status === 'failed') return job;
      if (Date.now() > deadline) throw new Error(`digest job still ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const digestOn = (session: Session, on = true) =>
    t.app.inject({
      method: 'PUT',
      url: '/v1/notifications/preferences',
      headers: bearer(session),
      payload: { emailDigest: on },
    });

  it('mails the store’s live alerts, grouped by kind and severity, once a day, to members who want it', async () => {
    // The alerts come from stock changes through the API, as in a store (alerts/ opens them).
    const milk = await createItem(t.app, admin, {
      description: 'Whole Milk 1l',
      remainingStock: 2,
      reorderPoint: 10,
    });
    const eggs = await createItem(t.app, admin, {
      description: 'Free Range Eggs',
      remainingStock: 1,
      reorderPoint: 3,
    });
    // Sold out: its low-stock alert turns critical; staff acknowledge it.
    expect((await adjust(t.app, admin, eggs.id, { adjustment: -1, reason: 'sold' })).statusCode).toBe(200);
    const yogurt = await createItem(t.app, admin, {
      description: 'Greek Yogurt',
      remainingStock: 6,
      reorderPoint: 1,
      expirationDate: inDays(2),
    });
    const bread = await createItem(t.app, admin, {
      description: 'Sourdough Loaf',
      remainingStock: 9,
      reorderPoint: 10,
    });
    // Replenished: its alert resolves and stays out of the digest.
    expect((await adjust(t.app, admin, bread.id, { adjustment: 5, reason: 'received' })).statusCode).toBe(
      200,
    );
    const live = (await t.app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer(admin) })).json()
      .data.alerts as Array<{ id: string; itemId: string; kind: string; severity: string }>;
    expect(live.map((row) => [row.itemId, row.kind, row.severity]).sort()).toEqual(
      [
        [milk.id, 'low_stock', 'warning'],
        [eggs.id, 'low_stock', 'critical'],
        [yogurt.id, 'expiry', 'info'],
      ].sort(),
    );
    const eggsAlert = live.find((row) => row.itemId === eggs.id)!;
    const acknowledged = await t.app.inject({
      method: 'POST',
      url: `/v1/alerts/${eggsAlert.id}/acknowledge`,
      headers: bearer(admin),
    });
    expect(acknowledged.statusCode, acknowledged.body).toBe(200);

    // Nobody has the digest on yet: no mail.
    expect((await runDigest(admin)).result).toMatchObject({ alerts: 3, mailed: 0 });
    expect((await digestOn(admin)).statusCode).toBe(200);
    expect((await digestOn(quiet)).statusCode).toBe(200);

    const first = await runDigest(admin);
    expect(first).toMatchObject({ status: 'completed', result: { alerts: 3, mailed: 1 } });
    const mail = await smtp.mailTo(admin.user.email);
    const text = mail.raw.replace(/=\r?\n/g, '');
    expect(text).toMatch(/Subject: Digest Grocer: 3 live alerts/);
    expect(text).toContain('Low stock (2)');
    expect(text).toContain('Expiry (1)');
    expect(text).toContain('Whole Milk 1l: 2 in stock, threshold 10');
    expect(text).toContain('Free Range Eggs: 0 in stock, threshold 3 [acknowledged]');
    expect(text).toContain(`Greek Yogurt: expires ${inDays(2)} (in 2 days), 6 units`);
    // Kinds, then severities (critical first) within each kind.
    const lowStock = text.indexOf('Low stock (2)');
    const order = ['  Critical (1)', 'Free Range Eggs', '  Warning (1)', 'Whole Milk 1l'].map((line) =>
      text.indexOf(line, lowStock),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order[0]).toBeGreaterThan(lowStock);
    expect(text).not.toContain('Sourdough Loaf');

    // Run again the same day (a retry, or by hand): nobody is mailed twice.
    expect((await runDigest(admin)).result).toMatchObject({ alerts: 3, mailed: 0 });
    const days = await t.testDatabase.database.db
      .selectFrom('notification_digests')
      .select(['user_id', 'alerts'])
      .execute();
    expect(days).toEqual([{ user_id: admin.user.id, alerts: 3 }]);

    // A store with no live alerts mails nobody, though its admin wants the digest.
    expect((await runDigest(quiet)).result).toMatchObject({ alerts: 0, mailed: 0 });
    expect(smtp.received.filter((m) => m.to.includes(quiet.user.email))).toEqual([]);
    expect(smtp.received.filter((m) => m.to.includes(admin.user.email))).toHaveLength(1);
  });

  it('runs every day at 07:00 store time', async () => {
    await new Scheduler(t.app.platform.database.db, t.app.platform.queue, t.app.log, 300).tick(new Date());
    const response = await t.app.inject({ method: 'GET', url: '/v1/schedules', headers: bearer(admin) });
    const schedule = (response.json().data as Array<{ type: string; cron: string; builtin: boolean }>).find(
      (s) => s.type === DIGEST_JOB,
    );
    expect(schedule).toMatchObject({ cron: '0 7 * * *', builtin: true });
  });
});
