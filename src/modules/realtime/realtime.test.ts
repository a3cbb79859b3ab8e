import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';
import {
  connectWs,
  settledSeq,
  subscribed,
  tokenExpiringAt,
  type WsMessage,
  wsUrl,
} from '../../../test/helpers/ws.ts';
import { CLOSE } from './protocol.ts';

/**
 * The WebSocket end to end: a listening server, real `ws` clients, adjustments through the HTTP
 * API, on PGlite and (with DATABASE_URL) PostgreSQL.
 */
let t: TestApp;
let url: string;
let storeA: Session;
let storeB: Session;
let itemA: string;
let itemB: string;

beforeAll(async () => {
  t = await createTestApp({ wsAuthTimeoutSeconds: 1 });
  url = await wsUrl(t.app);
  storeA = await registerStore(t.app, 'Store A');
  storeB = await registerStore(t.app, 'Store B');
  itemA = (await createItem(t.app, storeA, { description: 'Apples', remainingStock: 1000, qtyShipped: 1000 }))
    .id;
  itemB = (
    await createItem(t.app, storeB, { description: 'Bananas', remainingStock: 1000, qtyShipped: 1000 })
  ).id;
});

afterAll(async () => {
  await t?.close();
});

const stockEvents = (messages: WsMessage[], itemId?: string) =>
  messages.filter(
    (message) =>
      message.type === 'inventory:stock_updated' &&
      (itemId === undefined || message.payload.itemId === itemId),
  );

async function sell(session: Session, itemId: string, quantity = 1) {
  const response = await adjust(t.app, session, itemId, { adjustment: -quantity, reason: 'sold' });
  expect(response.statusCode, response.body).toBe(200);
}

/** Published sequence numbers of a store's stock events after `after`, from the database. */
async function storeSeqs(orgId: string, after: number): Promise<number[]> {
  const rows = await t.testDatabase.database.db
    .selectFrom('outbox_events')
    .select('seq')
    .where('org_id', '=', orgId)
    .where('type', '=', 'inventory:stock_updated')
    .where('seq', '>', after)
    .orderBy('seq')
    .execute();
  return rows.map((row) => Number(row.seq));
}

/** storeSeqs once `count` of them are published (publishing follows the commit by a notification). */
async function publishedSeqs(orgId: string, after: number, count: number): Promise<number[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const seqs = await storeSeqs(orgId, after);
    if (seqs.length >= count || Date.now() > deadline) return seqs;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('GET /ws', () => {
  it("delivers an adjustment's event to a subscribed client, as the spec's WebSocketMessage with an id", async () => {
    const from = await settledSeq(t.testDatabase.database);
    const client = await subscribed(url, storeA.accessToken, ['inventory:changes'], from);
    await sell(storeA, itemA, 2);
    const [event] = stockEvents(await client.until((all) => stockEvents(all).length === 1));
    expect(event).toMatchObject({
      type: 'inventory:stock_updated',
      channel: 'inventory:changes',
      userId: storeA.user.id,
      payload: { itemId: itemA, newStock: expect.any(Number), oldStock: expect.any(Number), reason: 'sold' },
    });
    expect(Number.isInteger(event!.id)).toBe(true);
    expect(new Date(event!.timestamp).toString()).not.toBe('Invalid Date');
    expect(event!.payload.oldStock as number).toBe((event!.payload.newStock as number) + 2);
    await client.close();
  });

  it('accepts the token as a subprotocol and echoes access_token', async () => {
    const client = await connectWs(url, { protocolToken: storeA.accessToken });
    expect(client.socket.protocol).toBe('access_token');
    await client.next((message) => message.type === 'auth:ok');
    client.send('subscribe', { channels: ['inventory:changes'] });
    await client.next((message) => message.type === 'subscribed');
    await sell(storeA, itemA);
    await client.until((all) => stockEvents(all).length === 1);
    await client.close();
  });

  it('resumes from the last event id with exactly the missed events, then live ones, in order', async () => {
    const first = await subscribed(
      url,
      storeA.accessToken,
      ['inventory:changes'],
      await settledSeq(t.testDatabase.database),
    );
    for (let i = 0; i < 3; i++) await sell(storeA, itemA);
    const seen = stockEvents(await first.until((all) => stockEvents(all).length === 3));
    const lastId = seen.at(-1)!.id!;
    await first.close();

    for (let i = 0; i < 5; i++) await sell(storeA, itemA);
    const missed = await publishedSeqs(storeA.user.organization.id, lastId, 5);
    expect(missed).toHaveLength(5);

    const resumed = await subscribed(url, storeA.accessToken, ['inventory:changes'], lastId);
    await resumed.until((all) => stockEvents(all).length === 5);
    await sell(storeA, itemA);
    const all = stockEvents(await resumed.until((messages) => stockEvents(messages).length === 6));
    expect(all.slice(0, 5).map((event) => event.id)).toEqual(missed);
    const ids = all.map((event) => event.id!);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    // The stock chains from event to event: nothing missed, nothing twice, in apply order.
    for (let i = 1; i < all.length; i++) expect(all[i]!.payload.oldStock).toBe(all[i - 1]!.payload.newStock);
    await resumed.close();
  });

  it('resumes with the lastEventId given in the auth message', async () => {
    const [before] = (await publishedSeqs(storeA.user.organization.id, 0, 1)).slice(-1);
    await sell(storeA, itemA);
    const client = await connectWs(url);
    client.send('auth', { token: storeA.accessToken, lastEventId: before });
    await client.next((message) => message.type === 'auth:ok');
    client.send('subscribe', { channels: ['inventory:changes'] });
    const events = stockEvents(await client.until((all) => stockEvents(all).length === 1));
    expect(events[0]!.id).toBeGreaterThan(before!);
    await client.close();
  });

  it("never sends store A's events to store B: 200 adjustments across both, counted, in order, once each", async () => {
    const from = await settledSeq(t.testDatabase.database);
    const a = await subscribed(url, storeA.accessToken, ['inventory:changes', 'alerts:low_stock'], from);
    const b = await subscribed(url, storeB.accessToken, ['inventory:changes', 'alerts:low_stock'], from);
    // Concurrent adjustments of each store's item (ten at a time: the test pool has five
    // connections): they queue on the item's row lock.
    for (let round = 0; round < 20; round++) {
      const work: Array<Promise<void>> = [];
      for (let i = 0; i < 5; i++) work.push(sell(storeA, itemA), sell(storeB, itemB));
      await Promise.all(work);
    }
    await a.until((all) => stockEvents(all).length >= 100);
    await b.until((all) => stockEvents(all).length >= 100);
    // Anything still on its way would arrive before a marker event sent after all of them.
    await sell(storeA, itemA);
    await sell(storeB, itemB);
    await a.until((all) => stockEvents(all).length >= 101);
    await b.until((all) => stockEvents(all).length >= 101);

    for (const [client, itemId, orgId] of [
      [a, itemA, storeA.user.organization.id],
      [b, itemB, storeB.user.organization.id],
    ] as const) {
      const events = client.events();
      expect(events.every((event) => event.payload.itemId === itemId)).toBe(true);
      const stock = stockEvents(events);
      expect(stock).toHaveLength(101);
      const ids = events.map((event) => event.id!);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      // Commit order per item: each event's old stock is the previous one's new stock.
      for (let i = 1; i < stock.length; i++)
        expect(stock[i]!.payload.oldStock).toBe(stock[i - 1]!.payload.newStock);
      // Exactly the store's published events, all of them.
      expect(stock.map((event) => event.id)).toEqual(await storeSeqs(orgId, stock[0]!.id! - 1));
    }
    await a.close();
    await b.close();
  });

  it('refuses user:activity to a non-admin with an error naming the channel, and an unknown channel', async () => {
    const employee = await addMember(t.app, t.testDatabase.database, storeA, 'employee');
    const client = await subscribed(url, employee.accessToken, [
      'user:activity',
      'inventory:changes',
      'nope:nothing',
    ]);
    const errors = client.messages.filter((message) => message.type === 'error');
    expect(errors.map((error) => error.payload)).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN_CHANNEL', channel: 'user:activity' }),
      expect.objectContaining({ code: 'UNKNOWN_CHANNEL', channel: 'nope:nothing' }),
    ]);
    const ack = client.messages.find((message) => message.type === 'subscribed')!;
    expect(ack.payload).toEqual({ channels: ['inventory:changes'], active: ['inventory:changes'] });
    await client.close();

    const admin = await subscribed(url, storeA.accessToken, ['user:activity']);
    expect(admin.messages.find((message) => message.type === 'subscribed')!.payload).toMatchObject({
      channels: ['user:activity'],
    });
    expect(admin.messages.some((message) => message.type === 'error')).toBe(false);
    await admin.close();
  });

  it('closes a bad token with 4401, an expired one with 4001, and a silent client with 4408', async () => {
    const bad = await connectWs(url);
    bad.send('auth', { token: 'not.a.jwt' });
    expect((await bad.closed).code).toBe(CLOSE.unauthorized);

    const badProtocol = await connectWs(url, { protocolToken: `${storeA.accessToken}x` });
    expect((await badProtocol.closed).code).toBe(CLOSE.unauthorized);

    const expired = await connectWs(url);
    expired.send('auth', {
      token: await tokenExpiringAt(storeA.accessToken, Math.floor(Date.now() / 1000) - 10),
    });
    expect((await expired.closed).code).toBe(CLOSE.tokenExpired);

    const silent = await connectWs(url);
    expect((await silent.closed).code).toBe(CLOSE.authTimeout);

    const early = await connectWs(url);
    early.send('subscribe', { channels: ['inventory:changes'] });
    await early.next((message) => message.type === 'error' && message.payload.code === 'NOT_AUTHENTICATED');
    await early.close();
  });

  it('asks for a fresh token before expiry, keeps a connection that sends one, closes one that does not', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3;
    const shortLived = await tokenExpiringAt(storeA.accessToken, exp);

    const lapsing = await subscribed(url, shortLived, ['inventory:changes']);
    const refreshed = await subscribed(url, shortLived, ['inventory:changes']);
    await lapsing.next((message) => message.type === 'auth:expiring');
    await refreshed.next((message) => message.type === 'auth:expiring');
    refreshed.send('auth', { token: storeA.accessToken });
    await refreshed.until((all) => all.filter((message) => message.type === 'auth:ok').length === 2);

    expect((await lapsing.closed).code).toBe(CLOSE.tokenExpired);
    // Past the first token's expiry the refreshed connection still delivers.
    await sell(storeA, itemA);
    await refreshed.until((all) => stockEvents(all).length === 1);
    expect(refreshed.socket.readyState).toBe(refreshed.socket.OPEN);
    await refreshed.close();
  });

  it('tells a client resuming from before the pruned events to resync; the job prunes only old published rows', async () => {
    await sell(storeB, itemB);
    const db = t.testDatabase.database.db;
    // Nothing old yet: pruning deletes nothing.
    const definition = t.app.platform.queue.definition('outbox:prune')!;
    expect(await definition.run({} as never)).toMatchObject({ deleted: 0 });
    const [oldest] = await storeSeqs(storeB.user.organization.id, 0);
    await sql`update outbox_events set published_at = now() - interval '25 hours' where seq <= ${oldest}`.execute(
      db,
    );
    const pruned = (await definition.run({} as never)) as { deleted: number };
    expect(pruned.deleted).toBeGreaterThan(0);
    const left = await db.selectFrom('outbox_events').select('seq').where('seq', '<=', oldest!).execute();
    expect(left).toEqual([]);

    const client = await subscribed(url, storeB.accessToken, ['inventory:changes'], oldest! - 1);
    const resync = await client.next((message) => message.type === 'resync');
    expect(resync.payload).toMatchObject({ reason: 'retention_exceeded', lastEventId: oldest! - 1 });
    // Then live.
    await sell(storeB, itemB);
    await client.until((all) => stockEvents(all).length === 1);
    await client.close();

    const bogus = await subscribed(url, storeB.accessToken, ['inventory:changes'], 10_000_000);
    expect((await bogus.next((message) => message.type === 'resync')).payload).toMatchObject({
      reason: 'unknown_event_id',
    });
    await bogus.close();
  });

  it('counts connections and messages in /metrics', async () => {
    const client = await subscribed(url, storeA.accessToken, ['inventory:changes']);
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(Number(/^ws_connections (\d+)$/m.exec(response.body)?.[1])).toBeGreaterThanOrEqual(1);
    const sent = Number(/^ws_messages_sent_total (\d+)/m.exec(response.body)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(response.body).toContain('ws_messages_dropped_total');
    await client.close();
  });
});

describe('heartbeats and shutdown', () => {
  it('drops a client that does not answer pings, keeps one that does, and closes with 1001 on shutdown', async () => {
    const other = await createTestApp({ wsHeartbeatSeconds: 1, workerMode: 'api' });
    try {
      const otherUrl = await wsUrl(other.app);
      const admin = await registerStore(other.app);
      const deaf = await connectWs(otherUrl, { autoPong: false });
      deaf.send('auth', { token: admin.accessToken });
      const answering = await subscribed(otherUrl, admin.accessToken, ['inventory:changes']);
      expect((await deaf.closed).code).toBe(1006);
      expect(answering.socket.readyState).toBe(answering.socket.OPEN);
      const closing = other.app.close();
      expect(await answering.closed).toEqual({ code: CLOSE.goingAway, reason: 'server going away' });
      await closing;
    } finally {
      await other.close();
    }
  });
});
