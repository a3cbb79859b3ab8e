import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { type Cache, createMemoryCache, createRedisCache } from './cache/cache.ts';
import { createMemoryPubSub, createRedisPubSub, type PubSub } from './cache/pubsub.ts';
import { createDatabase, type Database } from './db/database.ts';
import type { Logger } from './logger.ts';
import { createRateLimiter, type RateLimiter } from './http/rate-limit.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { createLocalStorage, type Storage } from './storage/local-storage.ts';
import { openScratch, type Scratch } from './storage/scratch.ts';

/** The shared infrastructure every feature module receives. */
export interface Platform {
  database: Database;
  /** Present only when REDIS_URL is set. */
  redis: Redis | undefined;
  cache: Cache;
  pubsub: PubSub;
  storage: Storage;
  /** Temporary files (DATA_DIR/tmp, a folder per process; see scratch.ts). */
  scratch: Scratch;
  mailer: Mailer;
  rateLimiter: RateLimiter;
  close(): Promise<void>;
}

export interface PlatformOverrides {
  /** Use this database instead of opening one from config (tests share one across app restarts). */
  database?: Database;
  /** Rate-limit counters under this prefix instead of `fc:rl` (tests: one per run, see createRateLimiter). */
  rateLimitKeyPrefix?: string;
}

export async function createPlatform(
  config: Config,
  logger: Logger,
  overrides: PlatformOverrides = {},
): Promise<Platform> {
  // Before the database: a start-up sweep that fails leaves nothing open.
  const scratch = await openScratch(path.join(config.dataDir, 'tmp'), logger);
  const ownsDatabase = !overrides.database;
  const database =
    overrides.database ??
    (await createDatabase({
      url: config.databaseUrl,
      pgliteDir: path.join(config.dataDir, 'pglite'),
      poolMax: config.databasePoolMax,
      poolTimeoutMs: config.databasePoolTimeoutMs,
      preparedStatements: config.databasePreparedStatements,
      logger,
    }).catch(async (error: unknown) => {
      await scratch.close();
      throw error;
    }));
  // ioredis (13 MB resident) is loaded only when Redis is configured.
  const redisClient = config.redisUrl ? await import('./cache/redis.ts') : undefined;
  const redis = redisClient?.createRedis(config.redisUrl!, logger);
  const cache = redis ? createRedisCache(redis, logger) : createMemoryCache();
  const pubsub = redis ? createRedisPubSub(redis, logger) : createMemoryPubSub();
  const storage = createLocalStorage(path.join(config.dataDir, 'files'));
  const mailer = createMailer(config, database, logger);
  const rateLimiter = createRateLimiter({
    enabled: config.rateLimitEnabled,
    redis,
    logger,
    keyPrefix: overrides.rateLimitKeyPrefix,
  });
  return {
    database,
    redis,
    cache,
    pubsub,
    storage,
    scratch,
    mailer,
    rateLimiter,
    async close() {
      mailer.close();
      await scratch.close();
      await pubsub.close();
      if (redis) await redisClient!.closeRedis(redis);
      if (ownsDatabase) await database.close();
    },
  };
}
