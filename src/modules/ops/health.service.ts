import type { Platform } from '../../platform/platform.ts';

export type ServiceStatus = 'healthy' | 'unhealthy';

export interface ServiceHealth {
  status: ServiceStatus;
  latencyMs: number;
  mode: string;
  error?: string;
}

export interface HealthReport {
  status: 'healthy' | 'degraded';
  version: string;
  uptimeSeconds: number;
  services: { database: ServiceHealth; redis: ServiceHealth; storage: ServiceHealth };
}

const CHECK_TIMEOUT_MS = 2_000;

async function timed(mode: string, check: () => Promise<unknown>): Promise<ServiceHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { status: 'healthy', latencyMs: elapsed(started), mode };
  } catch (error) {
    return { status: 'unhealthy', latencyMs: elapsed(started), mode, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;

/**
 * Database and storage are required: without them the service cannot do its job, so the instance
 * answers 503 and a load balancer takes it out of rotation. Redis is an accelerator: its loss
 * marks the instance `degraded` but keeps it in service (answering 200), since every instance
 * would lose it together and taking them all out would turn a slowdown into an outage.
 */
export async function checkHealth(
  platform: Platform,
  version: string,
): Promise<{ report: HealthReport; httpStatus: 200 | 503 }> {
  const { database, redis, storage } = platform;
  const [db, cache, files] = await Promise.all([
    timed(database.kind, () => database.ping()),
    redis
      ? timed('redis', () => redis.ping())
      : Promise.resolve<ServiceHealth>({ status: 'healthy', latencyMs: 0, mode: 'in-process' }),
    timed(storage.kind, () => storage.check()),
  ]);
  const requiredOk = db.status === 'healthy' && files.status === 'healthy';
  const allOk = requiredOk && cache.status === 'healthy';
  return {
    report: {
      status: allOk ? 'healthy' : 'degraded',
      version,
      uptimeSeconds: Math.round(process.uptime()),
      services: { database: db, redis: cache, storage: files },
    },
    httpStatus: requiredOk ? 200 : 503,
  };
}
