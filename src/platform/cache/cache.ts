import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.ts';

/** A small cache interface with two implementations: in-process (LRU) and shared (Redis). */
export interface Cache {
  readonly kind: 'memory' | 'redis';
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Writes `value` only if the entry still holds `expected` (compared as JSON; undefined = no
   * entry), in one atomic step; true if it wrote. For a value computed from a read that a
   * concurrent change may have overtaken: the change replaces the entry first (never only
   * deletes it), so the late write of the stale value loses instead of outliving the change.
   */
  setIfUnchanged(key: string, expected: unknown, value: unknown, ttlSeconds: number): Promise<boolean>;
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
    async setIfUnchanged(key, expected, value, ttlSeconds) {
      // Synchronous between the read and the write, so nothing can come between them.
      if (JSON.stringify(store.get(key)?.value) !== JSON.stringify(expected)) return false;
      store.set(key, { value }, { ttl: ttlSeconds * 1000 });
      return true;
    },
  };
}

/** SET only if the key still holds ARGV[1] ('' = absent); stored values are JSON, never ''. */
const SET_IF_UNCHANGED = `
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;

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
    async setIfUnchanged(key, expected, value, ttlSeconds) {
      try {
        // `expected` was parsed from what get() read; JSON.stringify gives back the same text
        // for the plain data this cache holds.
        const written = await redis.eval(
          SET_IF_UNCHANGED,
          1,
          KEY_PREFIX + key,
          expected === undefined ? '' : JSON.stringify(expected),
          JSON.stringify(value),
          Math.max(1, Math.ceil(ttlSeconds)),
        );
        return written === 1;
      } catch (error) {
        logger.debug({ err: error, key }, 'cache write failed');
        return false;
      }
    },
  };
}
