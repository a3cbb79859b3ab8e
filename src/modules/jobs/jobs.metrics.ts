import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DB } from '../../platform/db/schema.ts';
import { typeOfQueue, type JobQueue } from '../../platform/queue/queue.ts';
import { queueDepth } from './jobs.repository.ts';

/**
 * `jobs{type, state}`: jobs in the queue table by type and pg-boss state, read when scraped;
 * `job_duration_seconds{type, outcome}` and `job_failures_total{type}`: attempts this process ran.
 */
export function registerJobMetrics(registry: Registry, queue: JobQueue, db: Kysely<DB>): void {
  new Gauge({
    name: 'jobs',
    help: 'Jobs in the queue by type and state (created, retry, active, completed, cancelled, failed)',
    labelNames: ['type', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await queueDepth(db))
        this.set({ type: typeOfQueue(row.name), state: row.state }, row.jobs);
    },
  });
  const duration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Time one attempt of a job ran in this process, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'job_failures_total',
    help: 'Failed job attempts in this process by type (each retry counts)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  queue.onSettled((attempt) => {
    duration.observe({ type: attempt.type, outcome: attempt.state }, attempt.seconds);
    if (attempt.state === 'failed') failures.inc({ type: attempt.type });
  });
}
