import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

/**
 * One ioredis client, set to fail fast: with Redis down a command errors at once (no offline
 * queue, one retry) instead of holding a request hostage, while the client keeps reconnecting in
 * the background. Callers treat Redis as an accelerator: the cache misses, the health check reports.
 */
export function createRedis(url: string, logger: Logger, name = 'main'): Redis {
  const client = new Redis(url, {
    connectionName: `fresh-choice:${name}`,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  // ioredis emits 'error' on every failed reconnect: log the transition, not each attempt.
  let healthy = true;
  client.on('error', (error) => {
    if (!healthy) return;
    healthy = false;
    logger.warn({ err: error, redis: name }, 'Redis unavailable; continuing without it');
  });
  client.on('ready', () => {
    if (healthy) return;
    healthy = true;
    logger.info({ redis: name }, 'Redis connection restored');
  });
  return client;
}

export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
