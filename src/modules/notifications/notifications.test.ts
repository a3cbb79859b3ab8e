import { randomUUID } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { type Browser, PushService } from '../../../test/helpers/push-service.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { DEFAULT_VAPID_SUBJECT } from './vapid.ts';
import { Notifier } from './notifier.ts';

const ALL = { lowStock: true, expiry: true, invoices: true, reports: true };

let t: TestApp;
let push: PushService;
let admin: Session;
let employee: Session;
let otherAdmin: Session;

beforeAll(async () => {
  push = new PushService();
  await push.start();
  t = await createTestApp({ pushEndpointHosts: ['127.0.0.1'] }, undefined, { pushAgent: push.agent });
  admin = await registerStore(t.app, 'Push Grocer');
  employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
  otherAdmin = await registerStore(t.app, 'Other Grocer');
});
afterAll(async () => {
  await t?.close();
  await push?.close();
});

const get = (url: string, session: Session) => t.app.inject({ method: 'GET', url, headers: bearer(session) });
const send = (method: 'POST' | 'PUT', url: string, session: Session, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(session), ...(payload ? { payload } : {}) });

async function subscribe(session: Session, browser: Browser, preferences: Partial<typeof ALL> = {}) {
  const response = await send('POST', '/v1/notifications/subscribe', session, {
    ...browser.subscription(),
    preferences: { ...ALL, ...preferences },
  });
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response;
}

interface Inbox {
  data: Array<{
    id: string;
    title: string;
    message: string;
    read: boolean;
    readAt: string | null;
    data: unknown;
  }>;
  meta: { pagination: { total: number } };
}

const inbox = async (session: Session, query = '') =>
  (await get(`/v1/notifications${query}`, session)).json<Inbox>();

const subscriptions = async (session: Session) =>
  (await get('/v1/notifications/preferences', session)).json().data.subscriptions as Array<{
    endpoint: string;
  }>;

/** Polls until `check` holds (bounded: the push job runs in the background). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('web push', () => {
  it('gives signed-in members the VAPID public key, and nobody else', async () => {
    const response = await get('/v1/notifications/vapid-public-key', employee);
    expect(response.statusCode).toBe(200);
    const key = Buffer.from(response.json().data.publicKey, 'base64url');
    expect(key).toHaveLength(65);
    expect(key[0]).toBe(4);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/notifications/vapid-public-key' })).statusCode,
    ).toBe(401);
  });

  it('pushes an admin message encrypted for the browser (aes128gcm), signed with VAPID', async () => {
    const browser = push.browser();
    await subscribe(employee, browser, { lowStock: false });
    const sent = await send('POST', '/v1/notifications/send', admin, {
      userId: employee.user.id,
      type: 'warning',
      title: 'Freezer 2',
      message: 'Freezer 2 is at -12 °C: move the ice cream to freezer 1',
      data: { freezer: 2 },
      actions: [{ action: 'open', title: 'Open checklist', url: '/checklists/freezers' }],
    });
    expect(sent.statusCode, sent.body).toBe(202);
    expect(sent.json().data).toEqual({ recipients: 1, pushJobs: 1 });

    const request = await push.nextPush(browser);
    expect(request.headers['content-encoding']).toBe('aes128gcm');
    expect(request.headers.urgency).toBe('normal');
    const ttl = Number(request.headers.ttl);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(24 * 3600);

    const message = JSON.parse(browser.decrypt(request.body));
    const [stored] = (await inbox(employee)).data;
    expect(message).toMatchObject({
      id: stored!.id,
      category: 'message',
      type: 'warning',
      title: 'Freezer 2',
      message: 'Freezer 2 is at -12 °C: move the ice cream to freezer 1',
      data: { freezer: 2 },
      actions: [{ action: 'open', title: 'Open checklist', url: '/checklists/freezers' }],
    });

    // RFC 8292: "vapid t=<JWT signed by the server's key>, k=<that key>", for this push service.
    const publicKey = (await get('/v1/notifications/vapid-public-key', employee)).json().data
      .publicKey as string;
    const vapid = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(request.headers.authorization));
    expect(vapid?.[2]).toBe(publicKey);
    const point = Buffer.from(publicKey, 'base64url');
    const key = await importJWK(
      {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      'ES256',
    );
    const { payload } = await jwtVerify(vapid![1]!, key, { audience: push.origin });
    expect(payload.sub).toBe(DEFAULT_VAPID_SUBJECT);
  });

  it('removes a subscription its push service says is gone (410)', async () => {
    const gone = push.browser(410);
    await subscribe(employee, gone);
    expect((await subscriptions(employee)).map((s) => s.endpoint)).toContain(gone.endpoint);
    const sent = await send('POST', '/v1/notifications/send', admin, {
      userIds: [employee.user.id],
      type: 'info',
      title: 'Hello',
      message: 'Is anyone there?',
    });
    expect(sent.json().data.pushJobs).toBeGreaterThanOrEqual(1);
    await push.nextPush(gone);
    const left = await eventually(
      () => subscriptions(employee),
      (list) => !list.some((s) => s.endpoint === gone.endpoint),
    );
    expect(left.map((s) => s.endpoint)).not.toContain(gone.endpoint);
    // The message itself stays in the inbox.
    expect((await inbox(employee)).data[0]).toMatchObject({ title: 'Hello', read: false });
  });

  it('retries a push the service could not take (503), with backoff, until it is delivered', async () => {
    const busy = push.browser(503, 201);
    await subscribe(employee, busy);
    await send('POST', '/v1/notifications/send', admin, {
      userId: employee.user.id,
      type: 'error',
      title: 'Till 3 offline',
      message: 'Till 3 lost its connection',
    });
    const [refused, delivered] = await push.pushes(busy, 2);
    expect(JSON.parse(busy.decrypt(refused!.body)).title).toBe('Till 3 offline');
    expect(JSON.parse(busy.decrypt(delivered!.body)).title).toBe('Till 3 offline');
    // Still subscribed: a 503 is the service's trouble, not the browser's.
    expect((await subscriptions(employee)).map((s) => s.endpoint)).toContain(busy.endpoint);
  });

  it('keeps one subscription per endpoint: subscribing again updates it, for whoever is signed in', async () => {
    const browser = push.browser();
    expect((await subscribe(admin, browser)).statusCode).toBe(201);
    const again = await subscribe(admin, browser, { reports: false });
    expect(again.statusCode).toBe(200);
    expect(again.json().data.preferences).toEqual({ ...ALL, reports: false });
    expect((await subscriptions(admin)).filter((s) => s.endpoint === browser.endpoint)).toHaveLength(1);

    // The employee signs in on the same browser: the endpoint is theirs now.
    await subscribe(employee, browser);
    expect((await subscriptions(admin)).map((s) => s.endpoint)).not.toContain(browser.endpoint);
    expect((await subscriptions(employee)).map((s) => s.endpoint)).toContain(browser.endpoint);

    const unsubscribed = await send('POST', '/v1/notifications/unsubscribe', admin, {
      endpoint: browser.endpoint,
    });
    expect(unsubscribed.statusCode).toBe(404);
    expect(
      (await send('POST', '/v1/notifications/unsubscribe', employee, { endpoint: browser.endpoint }))
        .statusCode,
    ).toBe(204);
    expect((await subscriptions(employee)).map((s) => s.endpoint)).not.toContain(browser.endpoint);
  });

  it('queues pushes from notifyUsers only to browsers that want the category, in the caller’s transaction', async () => {
    const wants = push.browser();
    const doesNot = push.browser();
    await subscribe(admin, wants, { lowStock: true });
    await subscribe(admin, doesNot, { lowStock: false });
    const notifier = new Notifier(t.app.platform.queue);
    const orgId = admin.user.organization.id;
    const { db } = t.app.platform.database;

    // Rolled back: no inbox row, no push.
    await expect(
      withTenant(db, orgId, async (trx) => {
        await notifier.notifyUsers(trx, orgId, {
          category: 'lowStock',
          type: 'error',
          title: 'Never',
          message: 'rolled back',
        });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');

    const result = await withTenant(db, orgId, (trx) =>
      notifier.notifyUsers(trx, orgId, {
        category: 'lowStock',
        type: 'error',
        title: 'Milk is low',
        message: 'Whole milk 1 l: 2 left (threshold 10)',
        data: { itemId: randomUUID() },
      }),
    );
    // Every active member of the store (the admin and the employee) by default.
    expect(result.recipients.sort()).toEqual([admin.user.id, employee.user.id].sort());
    const request = await push.nextPush(wants);
    expect(request.headers.urgency).toBe('high');
    expect(JSON.parse(wants.decrypt(request.body))).toMatchObject({
      title: 'Milk is low',
      category: 'lowStock',
    });
    expect((await inbox(admin)).data.map((n) => n.title)).toContain('Milk is low');
    expect((await inbox(admin)).data.map((n) => n.title)).not.toContain('Never');
    expect((await inbox(otherAdmin)).data).toEqual([]);
    // An admin message reaches every browser, whatever its categories.
    await send('POST', '/v1/notifications/send', admin, {
      userId: admin.user.id,
      type: 'success',
      title: 'Done',
      message: 'Stocktake finished',
    });
    const message = await push.nextPush(doesNot);
    expect(JSON.parse(doesNot.decrypt(message.body))).toMatchObject({ title: 'Done', category: 'message' });
    expect(push.pushesTo(doesNot).map((r) => JSON.parse(doesNot.decrypt(r.body)).title)).not.toContain(
      'Milk is low',
    );
  });

  it('refuses bad subscriptions with 400 (or 422 for a push service not allowed), writing nothing', async () => {
    const browser = push.browser();
    const good = { ...browser.subscription(), preferences: ALL };
    const before = (await subscriptions(employee)).length;
    const publicKey = browser.ecdh.getPublicKey();
    const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url');
    const cases: Array<[object, number, string]> = [
      [{ ...good, endpoint: browser.endpoint.replace('https:', 'http:') }, 400, 'body.endpoint'],
      [{ ...good, endpoint: 'not a url' }, 400, 'body.endpoint'],
      [
        { ...good, keys: { ...good.keys, p256dh: publicKey.subarray(0, 33).toString('base64url') } },
        400,
        'body.keys.p256dh',
      ],
      [{ ...good, keys: { ...good.keys, p256dh: offCurve } }, 400, 'body.keys.p256dh'],
      [{ ...good, keys: { ...good.keys, auth: 'c2hvcnQ' } }, 400, 'body.keys.auth'],
      [{ ...good, keys: { ...good.keys, auth: good.keys.auth.replace(/./, '+') } }, 400, 'body.keys.auth'],
      [{ ...good, preferences: { lowStock: true } }, 400, 'body.preferences'],
      [{ ...good, endpoint: 'https://push.example.com/abc' }, 422, 'body.endpoint'],
    ];
    for (const [payload, status, field] of cases) {
      const response = await send('POST', '/v1/notifications/subscribe', employee, payload);
      expect(response.statusCode, `${field}: ${response.body}`).toBe(status);
      expect(response.json().success).toBe(false);
      expect(JSON.stringify(response.json().error.details), response.body).toContain(field);
    }
    expect(await subscriptions(employee)).toHaveLength(before);
  });
});

describe('preferences', () => {
  it('keep the e-mail digest (off by default) and each subscription’s categories', async () => {
    const viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    expect((await get('/v1/notifications/preferences', viewer)).json().data).toEqual({
      emailDigest: false,
      subscriptions: [],
    });
    const phone = push.browser();
    const laptop = push.browser();
    await subscribe(viewer, phone);
    await subscribe(viewer, laptop);
    const one = await send('PUT', '/v1/notifications/preferences', viewer, {
      emailDigest: true,
      push: { endpoint: phone.endpoint, preferences: { expiry: false } },
    });
    expect(one.statusCode, one.body).toBe(200);
    const byEndpoint = (data: { subscriptions: Array<{ endpoint: string; preferences: object }> }) =>
      Object.fromEntries(data.subscriptions.map((s) => [s.endpoint, s.preferences]));
    expect(one.json().data.emailDigest).toBe(true);
    expect(byEndpoint(one.json().data)).toEqual({
      [phone.endpoint]: { ...ALL, expiry: false },
      [laptop.endpoint]: ALL,
    });
    // Without an endpoint: all of them.
    const all = await send('PUT', '/v1/notifications/preferences', viewer, {
      push: { preferences: { reports: false } },
    });
    expect(byEndpoint(all.json().data)).toEqual({
      [phone.endpoint]: { ...ALL, expiry: false, reports: false },
      [laptop.endpoint]: { ...ALL, reports: false },
    });
    expect(all.json().data.emailDigest).toBe(true);
    // Someone else's endpoint, an empty change, an unknown field.
    const notMine = push.browser();
    await subscribe(employee, notMine);
    expect(
      (
        await send('PUT', '/v1/notifications/preferences', viewer, {
          push: { endpoint: notMine.endpoint, preferences: { reports: true } },
        })
      ).statusCode,
    ).toBe(404);
    expect((await send('PUT', '/v1/notifications/preferences', viewer, {})).statusCode).toBe(400);
    expect((await send('PUT', '/v1/notifications/preferences', viewer, { sms: true })).statusCode).toBe(400);
  });
});

describe('inbox', () => {
  it('lists only your own, newest first, filters by read, and marks read', async () => {
    const member = await addMember(t.app, t.testDatabase.database, admin, 'manager');
    for (const title of ['First', 'Second', 'Third'])
      expect(
        (
          await send('POST', '/v1/notifications/send', admin, {
            userId: member.user.id,
            type: 'info',
            title,
            message: `${title} message`,
          })
        ).statusCode,
      ).toBe(202);
    const all = await inbox(member);
    expect(all.data.map((n) => n.title)).toEqual(['Third', 'Second', 'First']);
    expect(all.meta.pagination.total).toBe(3);
    const page = await inbox(member, '?limit=2&page=2');
    expect(page.data.map((n) => n.title)).toEqual(['First']);

    const second = all.data[1]!;
    const read = await send('POST', `/v1/notifications/${second.id}/read`, member);
    expect(read.statusCode).toBe(200);
    expect(read.json().data).toMatchObject({ id: second.id, read: true });
    const firstReadAt = read.json().data.readAt as string;
    expect((await send('POST', `/v1/notifications/${second.id}/read`, member)).json().data.readAt).toBe(
      firstReadAt,
    );
    expect((await inbox(member, '?read=false')).data.map((n) => n.title)).toEqual(['Third', 'First']);
    expect((await inbox(member, '?read=true')).data.map((n) => n.title)).toEqual(['Second']);

    // Nobody else can read it or mark it: another member, another store's admin.
    expect((await send('POST', `/v1/notifications/${second.id}/read`, employee)).statusCode).toBe(404);
    expect((await send('POST', `/v1/notifications/${second.id}/read`, otherAdmin)).statusCode).toBe(404);
    expect((await inbox(employee)).data.map((n) => n.id)).not.toContain(second.id);

    const readAll = await send('POST', '/v1/notifications/read-all', member);
    expect(readAll.json().data).toEqual({ updated: 2 });
    expect((await inbox(member, '?read=false')).meta.pagination.total).toBe(0);
    expect((await get('/v1/notifications?read=nope', member)).statusCode).toBe(400);
  });
});

describe('sending', () => {
  it('is for admins only', async () => {
    const response = await send('POST', '/v1/notifications/send', employee, {
      userId: employee.user.id,
      type: 'info',
      title: 'Hi',
      message: 'Hi',
    });
    expect(response.statusCode).toBe(403);
  });

  it('reaches only members of the admin’s own store: another store’s or an unknown id is 422, nothing sent', async () => {
    const unknown = randomUUID();
    const before = (await inbox(employee)).meta.pagination.total;
    for (const ids of [[otherAdmin.user.id], [employee.user.id, unknown]]) {
      const response = await send('POST', '/v1/notifications/send', admin, {
        userIds: ids,
        type: 'info',
        title: 'Leak?',
        message: 'This must not arrive',
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().error.code).toBe('UNKNOWN_RECIPIENT');
      expect(response.json().error.message).toContain(ids.at(-1));
      expect(response.json().error.details.userIds).toEqual([ids.at(-1)]);
    }
    expect((await inbox(otherAdmin)).data.map((n) => n.title)).not.toContain('Leak?');
    expect((await inbox(employee)).meta.pagination.total).toBe(before);
    // No recipient at all, or data too large: 400.
    expect(
      (await send('POST', '/v1/notifications/send', admin, { type: 'info', title: 'x', message: 'y' }))
        .statusCode,
    ).toBe(400);
    expect(
      (
        await send('POST', '/v1/notifications/send', admin, {
          userId: employee.user.id,
          type: 'info',
          title: 'x',
          message: 'y',
          data: { blob: 'x'.repeat(5000) },
        })
      ).statusCode,
    ).toBe(400);
  });
});
