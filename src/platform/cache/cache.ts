import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.ts';

/** A small cache interface with two implementations: in-process (LRU) and shared (Redis). */
export interface Cache {
  readonly kind: 'memory' | 'redis';
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

const KEY_PREFIX = 'fc:cache:';

export function createMemoryCache(maxEntries = 10_000): Cache {
  const store = new LRUCache<string, { value: unknown }>({ max: maxEntries, ttlAutopurge: false });
  return {
    kind: 'memory',
    async get<T>(key: string) {
      return store.get(key)?.value as T | undefined;
    },
    async set(key, value, ttlSeconds) {
      store.set(key, { value }, { ttl: ttlSeconds * 1000 });
    },
    async delete(key) {
      store.delete(key);
    },
  };
}

/**
 * Redis-backed cache. A cache outage must not fail the request that wanted the cache: errors are
 * logged and read as a miss.
 */
export function createRedisCache(redis: Redis, logger: Logger): Cache {
  return {
    kind: 'redis',
    async get<T>(key: string) {
      try {
        const raw = await redis.get(KEY_PREFIX + key);
        return raw === null ? undefined : (JSON.parse(raw) as T);
      } catch (error) {
        logger.debug({ err: error, key }, 'cache read failed; treating as miss');
        return undefined;
      }
    },
    async set(key, value, ttlSeconds) {
      try {
        await redis.set(KEY_PREFIX + key, JSON.stringify(value), 'EX', Math.max(1, Math.ceil(ttlSeconds)));
      } catch (error) {
        logger.debug({ err: error, key }, 'cache write failed');
      }
    },
    async delete(key) {
      try {
        await redis.del(KEY_PREFIX + key);
      } catch (error) {
        logger.warn({ err: error, key }, 'cache delete failed; entry will expire by TTL');
      }
    },
  };
}
