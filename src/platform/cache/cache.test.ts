import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { type Cache, createMemoryCache, createRedisCache } from './cache.ts';
import { createMemoryPubSub, createRedisPubSub, type PubSub } from './pubsub.ts';
import { closeRedis, createRedis } from './redis.ts';

const logger = createLogger({ logLevel: 'silent' });
const redisUrl = process.env.REDIS_URL;
const redis = redisUrl ? createRedis(redisUrl, logger, 'test') : undefined;
afterAll(async () => {
  if (redis) await closeRedis(redis);
});

const caches: Array<[string, () => Cache]> = [['memory', () => createMemoryCache()]];
const pubsubs: Array<[string, () => PubSub]> = [['memory', () => createMemoryPubSub()]];
if (redis) {
  caches.push(['redis', () => createRedisCache(redis, logger)]);
  pubsubs.push(['redis', () => createRedisPubSub(redis, logger)]);
}

describe.each(caches)('%s cache', (_kind, make) => {
  it('stores, returns and deletes JSON values', async () => {
    const cache = make();
    const key = `test:${Math.random()}`;
    expect(await cache.get(key)).toBeUndefined();
    await cache.set(key, { sku: 'MILK-1', qty: 12 }, 60);
    expect(await cache.get(key)).toEqual({ sku: 'MILK-1', qty: 12 });
    await cache.delete(key);
    expect(await cache.get(key)).toBeUndefined();
  });

  it('writes with setIfUnchanged only over the value the caller read, so a late stale write loses', async () => {
    const cache = make();
    const key = `cas:${Math.random()}`;
    // Absent, as expected: written.
    expect(await cache.setIfUnchanged(key, undefined, { state: 1 }, 60)).toBe(true);
    expect(await cache.get(key)).toEqual({ state: 1 });
    // A reader saw { state: 1 }; meanwhile a change replaced it; the reader's write must lose.
    const seen = await cache.get(key);
    await cache.set(key, { replacedBy: 'change' }, 60);
    expect(await cache.setIfUnchanged(key, seen, { state: 'stale' }, 60)).toBe(false);
    expect(await cache.get(key)).toEqual({ replacedBy: 'change' });
    // Expecting absence when there is an entry loses too; expecting what is there wins.
    expect(await cache.setIfUnchanged(key, undefined, { state: 'stale' }, 60)).toBe(false);
    expect(await cache.setIfUnchanged(key, { replacedBy: 'change' }, { state: 2 }, 60)).toBe(true);
    expect(await cache.get(key)).toEqual({ state: 2 });
    await cache.delete(key);
  });

  it('expires entries after their TTL', async () => {
    const cache = make();
    const key = `ttl:${Math.random()}`;
    await cache.set(key, 'short-lived', 1);
    expect(await cache.get(key)).toBe('short-lived');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await cache.get(key)).toBeUndefined();
  });
});

describe.each(pubsubs)('%s pub/sub', (_kind, make) => {
  it('delivers a published message to subscribers until they unsubscribe', async () => {
    const pubsub = make();
    try {
      const channel = `ch-${Math.random()}`;
      const received: string[] = [];
      let arrived!: () => void;
      const firstArrival = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const unsubscribe = await pubsub.subscribe(channel, (message) => {
        received.push(message);
        arrived();
      });
      await pubsub.publish(channel, 'stock-updated');
      await firstArrival;
      await unsubscribe();
      await pubsub.publish(channel, 'after-unsubscribe');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(received).toEqual(['stock-updated']);
    } finally {
      await pubsub.close();
    }
  });
});

describe('redis cache when Redis is unreachable', () => {
  it('reads as a miss and swallows writes instead of failing the caller', async () => {
    const down = createRedis('redis://127.0.0.1:1', logger, 'down');
    try {
      const cache = createRedisCache(down, logger);
      await expect(cache.set('k', 1, 10)).resolves.toBeUndefined();
      await expect(cache.get('k')).resolves.toBeUndefined();
      await expect(cache.setIfUnchanged('k', undefined, 1, 10)).resolves.toBe(false);
    } finally {
      await closeRedis(down);
    }
  });
});
