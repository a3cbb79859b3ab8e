import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { type Cache, createMemoryCache, createRedisCache } from './cache/cache.ts';
import { createMemoryPubSub, createRedisPubSub, type PubSub } from './cache/pubsub.ts';
import { createDatabase, type Database } from './db/database.ts';
import type { Logger } from './logger.ts';
import { createRateLimiter, type RateLimiter } from './http/rate-limit.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { createLocalStorage } from './storage/local-storage.ts';
import type { Storage } from './storage/storage.ts';
import { openScratch, type Scratch } from './storage/scratch.ts';
import { JobQueue } from './queue/queue.ts';

/** The shared infrastructure every feature module receives. */
export interface Platform {
  /** The configuration the platform was opened with (jobs read their settings from it). */
  config: Readonly<Config>;
  database: Database;
  /** Present only when REDIS_URL is set. */
  redis: Redis | undefined;
  cache: Cache;
  pubsub: PubSub;
  /** Uploaded files: DATA_DIR/files, or an S3-compatible bucket (STORAGE_DRIVER). */
  storage: Storage;
  /** Temporary files (DATA_DIR/tmp, a folder per process; see scratch.ts). */
  scratch: Scratch;
  mailer: Mailer;
  rateLimiter: RateLimiter;
  /** The durable job queue; modules define their job types, buildApp starts it. */
  queue: JobQueue;
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
  /** The JWT secret: queued mail is sealed with a key derived from it. */
  secret: Uint8Array,
): Promise<Platform> {
  // Opens no connection until used.
  const storage = await openStorage(config);
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
  const queue = new JobQueue(database, {
    heartbeatSeconds: config.jobHeartbeatSeconds,
    concurrency: config.jobConcurrency,
    stopTimeoutMs: config.shutdownTimeoutMs,
    logger,
  });
  const mailer = createMailer(config, database, queue, logger, secret);
  const rateLimiter = createRateLimiter({
    enabled: config.rateLimitEnabled,
    redis,
    logger,
    keyPrefix: overrides.rateLimitKeyPrefix,
  });
  return {
    config,
    database,
    redis,
    cache,
    pubsub,
    storage,
    scratch,
    mailer,
    rateLimiter,
    queue,
    async close() {
      // First: running jobs finish (or are handed back) while the database is still open.
      await queue.stop();
      mailer.close();
      storage.close?.();
      await scratch.close();
      await pubsub.close();
      if (redis) await redisClient!.closeRedis(redis);
      if (ownsDatabase) await database.close();
    },
  };
}

/** The AWS SDK (37 MB of RSS once loaded, measured) is loaded only when the S3 driver is configured. */
async function openStorage(config: Config): Promise<Storage> {
  if (config.storageDriver === 'local') return createLocalStorage(path.join(config.dataDir, 'files'));
  const { createS3Storage } = await import('./storage/s3-storage.ts');
  return createS3Storage({
    bucket: config.s3Bucket!,
    region: config.s3Region,
    endpoint: config.s3Endpoint,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    forcePathStyle: config.s3ForcePathStyle,
  });
}
