import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Platform } from '../../platform/platform.ts';

export type ServiceStatus = 'healthy' | 'unhealthy';

/**
 * What /health says about a failing check: only these words. The check's own error (a driver's
 * message can name hosts, ports, users or files) goes to the log and, as a bounded reason, to
 * /metrics; /health answers anyone who asks.
 */
export type FailureKind = 'timeout' | 'failed';

export interface ServiceHealth {
  status: ServiceStatus;
  latencyMs: number;
  mode: string;
  error?: FailureKind;
}

export interface HealthObserver {
  log: FastifyBaseLogger;
  metrics: HealthMetrics;
}

/** `health_check_up{component}` (1/0) and `health_check_failures_total{component, reason}`. */
export class HealthMetrics {
  readonly #up: Gauge<'component'>;
  readonly #failures: Counter<'component' | 'reason'>;

  constructor(registry: Registry) {
    this.#up = new Gauge({
      name: 'health_check_up',
      help: 'Whether the last /health check of a component passed (1) or failed (0)',
      labelNames: ['component'] as const,
      registers: [registry],
    });
    this.#failures = new Counter({
      name: 'health_check_failures_total',
      help: 'Failed /health checks by component and reason (timeout, or the error code such as ECONNREFUSED)',
      labelNames: ['component', 'reason'] as const,
      registers: [registry],
    });
  }

  record(component: string, failure?: unknown): void {
    this.#up.set({ component }, failure === undefined ? 1 : 0);
    if (failure !== undefined) this.#failures.inc({ component, reason: reasonOf(failure) });
  }
}

class CheckTimeout extends Error {
  override name = 'CheckTimeout';
}

class NoLiveWorkers extends Error {
  override name = 'NoLiveWorkers';
}

/** A label value of bounded cardinality: the error's code or class, never its message. */
function reasonOf(failure: unknown): string {
  if (failure instanceof CheckTimeout) return 'timeout';
  const code = (failure as { code?: unknown } | null)?.code;
  const raw = typeof code === 'string' && code ? code : ((failure as Error | null)?.name ?? 'error');
  return raw.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40) || 'error';
}

export interface HealthReport {
  status: 'healthy' | 'degraded';
  version: string;
  uptimeSeconds: number;
  services: { database: ServiceHealth; redis: ServiceHealth; storage: ServiceHealth; workers: ServiceHealth };
}

const CHECK_TIMEOUT_MS = 2_000;

async function timed(
  component: string,
  mode: string,
  check: () => Promise<unknown>,
  observer: HealthObserver,
): Promise<ServiceHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new CheckTimeout(`timed out after ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    observer.metrics.record(component);
    return { status: 'healthy', latencyMs: elapsed(started), mode };
  } catch (error) {
    observer.metrics.record(component, error);
    observer.log.warn({ component, mode, err: error }, 'health check failed');
    return {
      status: 'unhealthy',
      latencyMs: elapsed(started),
      mode,
      error: error instanceof CheckTimeout ? 'timeout' : 'failed',
    };
  } finally {
    clearTimeout(timer);
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;

/**
 * Database and storage are required: without them the service cannot do its job, so the instance
 * answers 503 and a load balancer takes it out of rotation. Redis and the job workers are not:
 * their loss marks the instance `degraded` (jobs wait; nothing is lost). Redis is an accelerator: its loss
 * marks the instance `degraded` but keeps it in service (answering 200), since every instance
 * would lose it together and taking them all out would turn a slowdown into an outage.
 */
export async function checkHealth(
  platform: Platform,
  version: string,
  observer: HealthObserver,
): Promise<{ report: HealthReport; httpStatus: 200 | 503 }> {
  const { database, redis, storage, queue } = platform;
  const [db, cache, files, workers] = await Promise.all([
    timed('database', database.kind, () => database.ping(), observer),
    redis
      ? timed('redis', 'redis', () => redis.ping(), observer)
      : Promise.resolve<ServiceHealth>({ status: 'healthy', latencyMs: 0, mode: 'in-process' }),
    timed('storage', storage.kind, () => storage.check(), observer),
    // Workers in this process, or (WORKER_MODE=api) at least one worker process heard from within
    // three of its heartbeats. Without workers requests are still served, jobs only wait.
    queue.working
      ? Promise.resolve<ServiceHealth>({ status: 'healthy', latencyMs: 0, mode: 'in-process' })
      : timed(
          'workers',
          'separate',
          async () => {
            if ((await queue.liveWorkers()) === 0) throw new NoLiveWorkers('no worker process is alive');
          },
          observer,
        ),
  ]);
  const requiredOk = db.status === 'healthy' && files.status === 'healthy';
  const allOk = requiredOk && cache.status === 'healthy' && workers.status === 'healthy';
  return {
    report: {
      status: allOk ? 'healthy' : 'degraded',
      version,
      uptimeSeconds: Math.round(process.uptime()),
      services: { database: db, redis: cache, storage: files, workers },
    },
    httpStatus: requiredOk ? 200 : 503,
  };
}
