import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Logger } from '../logger.ts';
import { errors } from './errors.ts';

/**
 * Every limit in one table. The spec's figures are the defaults: auth 5 per 15 min, inventory
 * 100/min, reports 10/min, uploads 20/min. How each is keyed is decided where it is used:
 *   authAccount  — login / forgot / reset, per e-mail: one account cannot be brute-forced;
 *   authIp       — the same routes and registration, per client IP, twenty times looser, so a store
 *                  whose staff share one office IP is not locked out by its own logins;
 *   register     — registration, per IP (a new store signs up once; members are invited);
 *   session      — refresh and logout, per IP: frequent by design, kept out of the strict bucket;
 *   inventory, reports, uploads, api — authenticated routes, per user.
 */
export const RATE_LIMITS = {
  authAccount: { points: 5, durationSeconds: 15 * 60 },
  authIp: { points: 100, durationSeconds: 15 * 60 },
  register: { points: 5, durationSeconds: 15 * 60 },
  session: { points: 300, durationSeconds: 15 * 60 },
  inventory: { points: 100, durationSeconds: 60 },
  reports: { points: 10, durationSeconds: 60 },
  uploads: { points: 20, durationSeconds: 60 },
  api: { points: 600, durationSeconds: 60 },
} as const;

export type RateLimitBucket = keyof typeof RATE_LIMITS;

/** The Redis keys of the counters start with this, then the bucket: `fc:rl:login:<key>`. */
export const RATE_LIMIT_KEY_PREFIX = 'fc:rl';

export interface RateLimiter {
  /**
   * Counts one request against `bucket` for `key`; sets the RateLimit-* headers, and throws 429
   * (with Retry-After) once the window's allowance is spent.
   */
  hit(bucket: RateLimitBucket, key: string, reply: FastifyReply): Promise<void>;
}

/**
 * rate-limiter-flexible counters: in Redis when configured, so every instance shares them (with an
 * in-memory fallback while Redis is unreachable: limits stay on, per instance), else in memory.
 */
export function createRateLimiter(options: {
  enabled: boolean;
  redis?: Redis | undefined;
  logger: Logger;
  /**
   * Where the counters live: `<keyPrefix>:<bucket>:<key>`, `fc:rl` unless given. Tests give their
   * own, so that runs sharing one Redis do not spend each other's allowance (see test/helpers/app.ts).
   */
  keyPrefix?: string | undefined;
}): RateLimiter {
  if (!options.enabled) return { hit: async () => {} };
  const prefix = options.keyPrefix ?? RATE_LIMIT_KEY_PREFIX;
  const limiters = new Map<RateLimitBucket, RateLimiterAbstract>();
  for (const [bucket, limit] of Object.entries(RATE_LIMITS) as Array<
    [RateLimitBucket, (typeof RATE_LIMITS)[RateLimitBucket]]
  >) {
    const common = {
      points: limit.points,
      duration: limit.durationSeconds,
      keyPrefix: `${prefix}:${bucket}`,
    };
    limiters.set(
      bucket,
      options.redis
        ? new RateLimiterRedis({
            ...common,
            storeClient: options.redis,
            insuranceLimiter: new RateLimiterMemory(common),
          })
        : new RateLimiterMemory(common),
    );
  }

  return {
    async hit(bucket, key, reply) {
      const limiter = limiters.get(bucket)!;
      const limit = RATE_LIMITS[bucket].points;
      let result: RateLimiterRes;
      try {
        result = await limiter.consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) {
          // The store failed and so did the fallback: let the request through rather than fail it.
          options.logger.error({ err: rejection, bucket }, 'rate limiter unavailable');
          return;
        }
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        setHeaders(reply, limit, 0, retryAfter);
        reply.header('retry-after', String(retryAfter));
        throw errors.tooManyRequests(retryAfter);
      }
      setHeaders(reply, limit, result.remainingPoints, Math.ceil(result.msBeforeNext / 1000));
    },
  };
}

/**
 * Standard RateLimit-* headers. With several buckets on one request (IP and account), the
 * tightest one is shown.
 */
function setHeaders(reply: FastifyReply, limit: number, remaining: number, resetSeconds: number) {
  const current = reply.getHeader('ratelimit-remaining');
  if (current !== undefined && Number(current) <= remaining) return;
  reply.header('ratelimit-limit', String(limit));
  reply.header('ratelimit-remaining', String(Math.max(0, remaining)));
  reply.header('ratelimit-reset', String(Math.max(0, resetSeconds)));
}
