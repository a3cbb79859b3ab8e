import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { nextRun } from './cron.ts';
import { Scheduler } from './scheduler.ts';

let t: TestApp;
let admin: Session;
let other: Session;

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  // The app's own scheduler ticks once at start and then rarely: these tests drive ticks themselves.
  t = await createTestApp({ scheduleCheckSeconds: 300 });
  admin = await registerStore(t.app, 'Jobs Grocer');
  other = await registerStore(t.app, 'Other Grocer');
});
afterAll(async () => t?.close());

function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
  url: string,
  session: Session,
  payload?: object,
) {
  return t.app.inject({ method, url, headers: bearer(session), ...(payload ? { payload } : {}) });
}

async function waitForStatus(session: Session, id: string, status: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await call('GET', `/v1/jobs/${id}`, session);
    const job = response.json().data;
    if (job?.status === status) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${JSON.stringify(job)}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const db = () => t.testDatabase.database.db;

describe('POST /v1/jobs and the job status', () => {
  it('runs the expiry check for the store and opens the expiry alerts time raised, with their events', async () => {
    const soon = await createItem(t.app, admin, {
      description: 'Greek Yogurt 500g',
      remainingStock: 12,
      qtyShipped: 12,
      expirationDate: inDays(30),
    });
    // Stock that became expiring with time, not through a stock change (which opens its alert
    // itself): the lot's date moves, as the calendar would.
    await sql`update inventory_lots set expiration_date = ${inDays(1)}::date where item_id = ${soon.id}`.execute(
      db(),
    );
    await sql`update inventory_items set earliest_expiry = ${inDays(1)}::date where id = ${soon.id}`.execute(
      db(),
    );
    await createItem(t.app, admin, {
      description: 'Rice 5kg',
      remainingStock: 40,
      qtyShipped: 40,
      expirationDate: inDays(300),
    });
    // Another store's expiring stock is not this store's job's business.
    await createItem(t.app, other, {
      description: 'Other store yogurt',
      remainingStock: 3,
      qtyShipped: 3,
      expirationDate: inDays(1),
    });

    const started = await call('POST', '/v1/jobs', admin, {
      type: 'inventory:check_expiry',
      priority: 'high',
    });
    expect(started.statusCode).toBe(201);
    const queued = started.json().data.job;
    expect(queued).toMatchObject({ type: 'inventory:check_expiry', priority: 'high', maxAttempts: 4 });
    expect(['pending', 'processing', 'completed']).toContain(queued.status);

    const done = await waitForStatus(admin, queued.id, 'completed');
    expect(done).toMatchObject({
      progress: 100,
      attempts: 1,
      result: { expiringItems: 1, alerts: { opened: 1, escalated: 0, resolved: 0 } },
    });
    expect(Date.parse(done.completedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));

    const { rows } = await sql<{ org_id: string; payload: Record<string, unknown> }>`
      select org_id, payload from outbox_events
       where type = 'alert:expiry_warning' and payload->>'jobId' = ${queued.id}`.execute(db());
    expect(rows).toEqual([
      {
        org_id: admin.user.organization.id,
        payload: expect.objectContaining({
          itemId: soon.id,
          itemName: 'Greek Yogurt 500g',
          daysUntilExpiry: 1,
          currentStock: 12,
          kind: 'expiry',
          severity: 'warning',
          state: 'open',
          source: 'inventory:check_expiry',
        }),
      },
    ]);

    const listed = await call('GET', '/v1/jobs?type=inventory:check_expiry&status=completed', admin);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().data.map((job: { id: string }) => job.id)).toContain(queued.id);
    expect(listed.json().meta.pagination).toMatchObject({ page: 1, total: 1 });
  });

  it('lets a payload override the warning window and refuses keys a type does not take', async () => {
    const started = await call('POST', '/v1/jobs', admin, {
      type: 'inventory:check_expiry',
      payload: { daysAhead: 365 },
    });
    expect(started.statusCode).toBe(201);
    const done = await waitForStatus(admin, started.json().data.job.id, 'completed');
    expect(done.result).toMatchObject({ expiringItems: 2, expiringBy: inDays(365) });

    const unknownKey = await call('POST', '/v1/jobs', admin, {
      type: 'inventory:check_expiry',
      payload: { daysAheed: 3 },
    });
    expect(unknownKey.statusCode).toBe(400);
    expect(unknownKey.json().error.details).toEqual([
      expect.objectContaining({ field: 'body.payload.daysAheed' }),
    ]);
    const outOfRange = await call('POST', '/v1/jobs', admin, {
      type: 'inventory:check_expiry',
      payload: { daysAhead: 9999 },
    });
    expect(outOfRange.statusCode).toBe(400);
    expect(outOfRange.json().error.details[0].field).toBe('body.payload.daysAhead');
  });

  it('refuses unknown types, system types and callers without the type’s permission', async () => {
    const unknown = await call('POST', '/v1/jobs', admin, { type: 'inventory:teleport' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({
      code: 'VALIDATION_ERROR',
      message: "Unknown job type 'inventory:teleport'",
    });
    expect(unknown.json().error.details[0].field).toBe('body.type');

    const system = await call('POST', '/v1/jobs', admin, { type: 'email:send' });
    expect(system.statusCode).toBe(400);
    expect(system.json().error.message).toContain('started by the system');

    const viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    const forbidden = await call('POST', '/v1/jobs', viewer, { type: 'inventory:low_stock_check' });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.message).toContain('inventory:write');
    // Viewers still see the store's jobs.
    expect((await call('GET', '/v1/jobs', viewer)).statusCode).toBe(200);

    const types = await call('GET', '/v1/jobs/types', viewer);
    expect(types.json().data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'inventory:check_expiry',
          startPermission: 'inventory:write',
          defaultSchedule: { name: 'Check expiring items', cron: '0 6 * * *' },
        }),
        expect.objectContaining({ type: 'email:send', startPermission: null }),
      ]),
    );
  });

  it('cancels a delayed job once, retries only a failed one, and hides both from another store', async () => {
    const delayed = await call('POST', '/v1/jobs', admin, {
      type: 'inventory:low_stock_check',
      schedule: { delay: 3_600_000 },
    });
    expect(delayed.statusCode).toBe(201);
    const job = delayed.json().data.job;
    expect(job.status).toBe('pending');
    expect(Date.parse(job.runAfter)).toBeGreaterThan(Date.now() + 3_500_000);

    expect((await call('GET', `/v1/jobs/${job.id}`, other)).statusCode).toBe(404);
    expect((await call('POST', `/v1/jobs/${job.id}/cancel`, other)).statusCode).toBe(404);
    expect((await call('GET', '/v1/jobs', other)).json().data.map((j: { id: string }) => j.id)).not.toContain(
      job.id,
    );

    const retryPending = await call('POST', `/v1/jobs/${job.id}/retry`, admin);
    expect(retryPending.statusCode).toBe(409);
    expect(retryPending.json().error.details).toEqual({ status: 'pending' });

    const cancelled = await call('POST', `/v1/jobs/${job.id}/cancel`, admin);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().data.status).toBe('cancelled');
    const again = await call('POST', `/v1/jobs/${job.id}/cancel`, admin);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toContain('cancelled');

    // A job that ran out of attempts (set as the queue leaves one) can be queued again.
    await sql`update pgboss.job set state = 'failed', output = '{"message":"disk full"}'::jsonb, completed_on = now()
               where id = ${job.id}`.execute(db());
    const failed = (await call('GET', `/v1/jobs/${job.id}`, admin)).json().data;
    expect(failed).toMatchObject({ status: 'failed', error: 'disk full' });
    expect((await call('POST', `/v1/jobs/${job.id}/retry`, other)).statusCode).toBe(404);
    const retried = await call('POST', `/v1/jobs/${job.id}/retry`, admin);
    expect(retried.statusCode).toBe(200);
    expect(retried.json().data.status).toBe('pending');
  });

  it('queues the next run of a repeating job when one completes, until the limit', async () => {
    const started = await call('POST', '/v1/jobs', admin, {
      type: 'inventory:low_stock_check',
      schedule: { repeat: { every: 600_000, limit: 2 } },
    });
    expect(started.statusCode).toBe(201);
    await waitForStatus(admin, started.json().data.job.id, 'completed');
    const { rows } = await sql<{ start_after: Date; data: { repeat: { remaining: number } } }>`
      select start_after, data from pgboss.job
       where name = 'inventory.low_stock_check' and data->>'orgId' = ${admin.user.organization.id}
         and data ? 'repeat' and state = 'created'`.execute(db());
    expect(rows).toHaveLength(1);
    expect(rows[0]!.data.repeat.remaining).toBe(0);
    expect(rows[0]!.start_after.getTime()).toBeGreaterThan(Date.now() + 500_000);
  });
});

describe('schedules', () => {
  const scheduler = () => new Scheduler(db(), t.app.platform.queue, t.app.log, 300);

  async function schedulesOf(session: Session) {
    const response = await call('GET', '/v1/schedules', session);
    expect(response.statusCode).toBe(200);
    return response.json().data as Array<{
      id: string;
      type: string;
      cron: string;
      builtin: boolean;
      enabled: boolean;
      timeZone: string;
      nextRunAt: string | null;
    }>;
  }

  async function firedJobs(orgId: string, type: string) {
    const { rows } = await sql<{ id: string }>`
      select id from pgboss.job where name = ${type.replace(':', '.')} and data->>'orgId' = ${orgId}
         and singleton_key like 'schedule:%'`.execute(db());
    return rows.length;
  }

  it('fires the daily checks at each store’s local time: 06:00 in Auckland and in Chicago are different instants', async () => {
    const auckland = await registerStore(t.app, 'Auckland Fresh');
    const chicago = await registerStore(t.app, 'Chicago Fresh');
    expect((await call('PUT', '/v1/settings', auckland, { timeZone: 'Pacific/Auckland' })).statusCode).toBe(
      200,
    );
    expect((await call('PUT', '/v1/settings', chicago, { timeZone: 'America/Chicago' })).statusCode).toBe(
      200,
    );
    const now = new Date();
    await scheduler().tick(now);

    const aucklandExpiry = (await schedulesOf(auckland)).find((s) => s.type === 'inventory:check_expiry')!;
    const chicagoExpiry = (await schedulesOf(chicago)).find((s) => s.type === 'inventory:check_expiry')!;
    expect(aucklandExpiry).toMatchObject({
      builtin: true,
      enabled: true,
      cron: '0 6 * * *',
      timeZone: 'Pacific/Auckland',
    });
    const aucklandSlot = new Date(aucklandExpiry.nextRunAt!);
    const chicagoSlot = new Date(chicagoExpiry.nextRunAt!);
    // 06:00 on each store's wall clock.
    const wallClock = (date: Date, timeZone: string) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(date);
    expect(wallClock(aucklandSlot, 'Pacific/Auckland')).toBe('06:00');
    expect(wallClock(chicagoSlot, 'America/Chicago')).toBe('06:00');
    expect(aucklandSlot.getTime()).not.toBe(chicagoSlot.getTime());
    expect(aucklandSlot.getTime()).toBe(nextRun('0 6 * * *', 'Pacific/Auckland', now).getTime());

    const [first, second] = aucklandSlot < chicagoSlot ? [auckland, chicago] : [chicago, auckland];
    const [firstSlot, secondSlot] =
      aucklandSlot < chicagoSlot ? [aucklandSlot, chicagoSlot] : [chicagoSlot, aucklandSlot];
    await scheduler().tick(new Date(firstSlot.getTime() - 1_000));
    expect(await firedJobs(first.user.organization.id, 'inventory:check_expiry')).toBe(0);

    const atFirst = await scheduler().tick(firstSlot);
    expect(
      atFirst.fired.filter(
        (f) => f.orgId === first.user.organization.id && f.type === 'inventory:check_expiry',
      ),
    ).toHaveLength(1);
    expect(
      atFirst.fired.some(
        (f) => f.orgId === second.user.organization.id && f.type === 'inventory:check_expiry',
      ),
    ).toBe(false);
    // The same slot does not fire twice.
    await scheduler().tick(firstSlot);
    expect(await firedJobs(first.user.organization.id, 'inventory:check_expiry')).toBe(1);

    await scheduler().tick(secondSlot);
    expect(await firedJobs(second.user.organization.id, 'inventory:check_expiry')).toBe(1);
    expect(await firedJobs(first.user.organization.id, 'inventory:check_expiry')).toBe(1);
  });

  it('runs a slot missed while nothing ran once, not once per missed day', async () => {
    const store = await registerStore(t.app, 'Downtime Deli');
    await scheduler().tick(new Date());
    const lowStock = (await schedulesOf(store)).find((s) => s.type === 'inventory:low_stock_check')!;
    // As if every instance had been down for three days.
    await sql`update job_schedules set next_run_at = now() - interval '3 days' where id = ${lowStock.id}`.execute(
      db(),
    );
    const now = new Date();
    const result = await scheduler().tick(now);
    expect(result.fired.filter((f) => f.scheduleId === lowStock.id)).toHaveLength(1);
    const after = (await schedulesOf(store)).find((s) => s.id === lowStock.id)!;
    expect(new Date(after.nextRunAt!).getTime()).toBeGreaterThan(now.getTime());
    expect((await scheduler().tick(now)).fired.filter((f) => f.scheduleId === lowStock.id)).toHaveLength(0);
    expect(await firedJobs(store.user.organization.id, 'inventory:low_stock_check')).toBe(1);
  });

  it('lets an admin re-time, disable and add schedules, with clear errors for bad cron expressions', async () => {
    await scheduler().tick(new Date());
    const expiry = (await schedulesOf(admin)).find((s) => s.type === 'inventory:check_expiry')!;

    const bad = await call('PATCH', `/v1/schedules/${expiry.id}`, admin, { cron: '61 6 * * *' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('got value 61 expected range 0-59');
    expect(bad.json().error.details[0].field).toBe('body.cron');
    const short = await call('POST', '/v1/jobs', admin, {
      type: 'inventory:check_expiry',
      schedule: { cron: '0 6 *' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.message).toContain('a schedule needs five');

    const retimed = await call('PATCH', `/v1/schedules/${expiry.id}`, admin, { cron: '30 5 * * *' });
    expect(retimed.statusCode).toBe(200);
    expect(retimed.json().data).toMatchObject({ cron: '30 5 * * *', enabled: true });
    expect(new Date(retimed.json().data.nextRunAt).getUTCMinutes()).toBe(30);

    const disabled = await call('PATCH', `/v1/schedules/${expiry.id}`, admin, { enabled: false });
    expect(disabled.json().data).toMatchObject({ enabled: false, nextRunAt: null });
    // Disabled stays disabled: the scheduler does not put the builtin back.
    await scheduler().tick(new Date());
    expect((await schedulesOf(admin)).find((s) => s.id === expiry.id)).toMatchObject({ enabled: false });
    expect((await call('DELETE', `/v1/schedules/${expiry.id}`, admin)).statusCode).toBe(409);

    const added = await call('POST', '/v1/jobs', admin, {
      type: 'inventory:low_stock_check',
      schedule: { cron: '0 14 * * 1-5' },
      priority: 'low',
    });
    expect(added.statusCode).toBe(201);
    const schedule = added.json().data.schedule;
    expect(schedule).toMatchObject({
      builtin: false,
      cron: '0 14 * * 1-5',
      priority: 'low',
      timeZone: 'UTC',
    });

    // A change of the store's zone moves the next run to the new zone's wall clock.
    await call('PUT', '/v1/settings', admin, { timeZone: 'Asia/Tokyo' });
    await scheduler().tick(new Date());
    const moved = (await schedulesOf(admin)).find((s) => s.id === schedule.id)!;
    expect(moved.timeZone).toBe('Asia/Tokyo');
    expect(new Date(moved.nextRunAt!).getUTCHours()).toBe(5); // 14:00 in Tokyo (UTC+9)

    expect(
      (await call('GET', '/v1/schedules', other)).json().data.map((s: { id: string }) => s.id),
    ).not.toContain(schedule.id);
    expect((await call('PATCH', `/v1/schedules/${schedule.id}`, other, { enabled: false })).statusCode).toBe(
      404,
    );
    expect((await call('DELETE', `/v1/schedules/${schedule.id}`, admin)).statusCode).toBe(204);
    const employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
    expect((await call('GET', '/v1/schedules', employee)).statusCode).toBe(403);
  });
});
