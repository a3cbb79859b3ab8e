import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  TEST_JWT_SECRET,
  TEST_RATE_LIMIT_KEY_PREFIX,
  type TestApp,
} from '../../../test/helpers/app.ts';
import { registerStore, type Session } from '../../../test/helpers/auth.ts';
import { ON_POSTGRES } from '../../../test/helpers/database.ts';
import { tempDir } from '../../../test/helpers/files.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';
import { settledSeq, subscribed, type WsMessage, wsUrl } from '../../../test/helpers/ws.ts';
import { buildApp } from '../../app.ts';
import { configWith } from '../../config.ts';

/**
 * Two app instances on one PostgreSQL database, each with its own pool, relay and LISTEN
 * connection: a change made through one reaches the clients of both, once each, in one order.
 */
describe.runIf(ON_POSTGRES)('two instances on one PostgreSQL', () => {
  let t: TestApp;
  let second: FastifyInstance;
  let admin: Session;
  let itemId: string;

  beforeAll(async () => {
    t = await createTestApp();
    second = await buildApp(
      configWith({
        nodeEnv: 'test',
        logLevel: 'silent',
        dataDir: await tempDir(),
        redisUrl: process.env.REDIS_URL || undefined,
        databaseUrl: t.testDatabase.url,
        jwtSecret: TEST_JWT_SECRET,
        rateLimitEnabled: false,
        workerMode: 'api',
      }),
      { platform: { rateLimitKeyPrefix: TEST_RATE_LIMIT_KEY_PREFIX } },
    );
    await second.ready();
    admin = await registerStore(t.app);
    itemId = (
      await createItem(t.app, admin, { description: 'Pears', remainingStock: 1000, qtyShipped: 1000 })
    ).id;
  });

  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  const stock = (messages: WsMessage[]) =>
    messages.filter((message) => message.type === 'inventory:stock_updated');

  it('delivers a change made through one instance to a client of the other', async () => {
    const from = await settledSeq(t.testDatabase.database);
    const client = await subscribed(await wsUrl(second), admin.accessToken, ['inventory:changes'], from);
    const response = await adjust(t.app, admin, itemId, { adjustment: -1, reason: 'sold' });
    expect(response.statusCode).toBe(200);
    const [event] = stock(await client.until((all) => stock(all).length === 1));
    expect(event!.payload).toMatchObject({ itemId, reason: 'sold' });
    await client.close();
  });

  it('gives clients of both instances every event of concurrent changes through both, once, in the same order', async () => {
    const from = await settledSeq(t.testDatabase.database);
    const one = await subscribed(await wsUrl(t.app), admin.accessToken, ['inventory:changes'], from);
    const two = await subscribed(await wsUrl(second), admin.accessToken, ['inventory:changes'], from);
    const work = Array.from({ length: 60 }, (_, i) =>
      adjust(i % 2 ? second : t.app, admin, itemId, { adjustment: -1, reason: 'sold' }).then((response) =>
        expect(response.statusCode).toBe(200),
      ),
    );
    await Promise.all(work);
    await one.until((all) => stock(all).length === 60);
    await two.until((all) => stock(all).length === 60);
    const ids = (messages: WsMessage[]) => stock(messages).map((event) => event.id);
    expect(ids(two.messages)).toEqual(ids(one.messages));
    expect(new Set(ids(one.messages)).size).toBe(60);
    const events = stock(one.messages);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.id).toBeGreaterThan(events[i - 1]!.id!);
      expect(events[i]!.payload.oldStock).toBe(events[i - 1]!.payload.newStock);
    }
    await one.close();
    await two.close();
  });

  it('resumes on the other instance from an id the first one sent, with what was missed and nothing twice', async () => {
    const from = await settledSeq(t.testDatabase.database);
    const one = await subscribed(await wsUrl(t.app), admin.accessToken, ['inventory:changes'], from);
    await adjust(t.app, admin, itemId, { adjustment: -1, reason: 'sold' });
    const [seen] = stock(await one.until((all) => stock(all).length === 1));
    await one.close();
    for (let i = 0; i < 3; i++) await adjust(t.app, admin, itemId, { adjustment: -1, reason: 'sold' });
    const two = await subscribed(await wsUrl(second), admin.accessToken, ['inventory:changes'], seen!.id);
    const events = stock(await two.until((all) => stock(all).length === 3));
    expect(events.map((event) => event.id)).toEqual([seen!.id! + 1, seen!.id! + 2, seen!.id! + 3]);
    expect(events[0]!.payload.oldStock).toBe(seen!.payload.newStock);
    await two.close();
  });
});
