import { fromKysely, PgBoss, type JobResult, type JobWithMetadata } from 'pg-boss';
import { sql } from 'kysely';
import type { TSchema } from 'typebox';
import type { Database } from '../db/database.ts';
import { type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { type Executor, withTenantRetry } from '../db/tenant.ts';
import { JOB_QUEUE_SCHEMA } from './schema.ts';
import type { Logger } from '../logger.ts';
import { pgliteQueueAdapter } from './pglite-adapter.ts';

/**
 * The durable job queue: pg-boss on the application's own database, PostgreSQL or the embedded
 * PGlite, with one semantics on both (ARCHITECTURE.md, "Jobs"):
 * - a job is a row written by `enqueue` in the caller's transaction, so a rolled-back write leaves
 *   no job, and a committed one always has its job;
 * - at least once: handlers must be idempotent; a failed attempt is retried with exponential
 *   backoff up to the type's limit, then the job is `failed` with the error kept;
 * - workers send heartbeats while a job runs; a job whose worker stopped sending them (killed,
 *   frozen, cut off) is released and runs again, while a long job whose worker is alive is never
 *   taken from it;
 * - on stop, a worker lets running jobs finish within the shutdown timeout and hands back the rest.
 */

export const JOB_PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type JobPriority = (typeof JOB_PRIORITIES)[number];

/** pg-boss fetches higher numbers first. */
const PRIORITY_RANK: Record<JobPriority, number> = { low: 0, normal: 10, high: 20, critical: 30 };

export function priorityOf(rank: number): JobPriority {
  if (rank >= PRIORITY_RANK.critical) return 'critical';
  if (rank >= PRIORITY_RANK.high) return 'high';
  if (rank >= PRIORITY_RANK.normal) return 'normal';
  return 'low';
}

/** What a handler receives. */
export interface RunningJob<P> {
  id: string;
  type: string;
  /** The store the job works for; null for work that belongs to no store (maintenance). */
  orgId: string | null;
  payload: P;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the job is cancelled or its worker is stopping: long work should check it. */
  signal: AbortSignal;
  /** Records progress (0–100), readable through GET /v1/jobs/:id while the job runs. */
  progress(percent: number): Promise<void>;
  logger: Logger;
}

export interface JobDefinition<P = Record<string, unknown>> {
  type: string;
  /** One line for people: listed with the job types and the schedules. */
  description: string;
  /** Stores may start it through POST /v1/jobs, holding this permission; unset = internal only. */
  startPermission?: string;
  /** The payload a user may send through the API (TypeBox; unknown keys are refused). */
  payloadSchema?: TSchema;
  /** One of the spec's scheduled tasks: every store gets this schedule, in its own time zone. */
  defaultSchedule?: { name: string; cron: string };
  /** Retries after the first attempt before the job is failed (default 3). */
  retryLimit?: number;
  /** First retry delay in seconds, doubled (with jitter) on each further retry (default 5). */
  retryDelaySeconds?: number;
  /** The longest backoff between two attempts, in seconds (default 600). */
  retryDelayMaxSeconds?: number;
  /** The longest one attempt may run, in seconds, however alive its worker is (default 3600). */
  expireInSeconds?: number;
  /** Jobs fetched at once by one worker; a batch settles together, so long jobs keep 1 (default). */
  batchSize?: number;
  /**
   * Errors no retry can cure (a corrupt file, a bad payload): the job fails at once, without
   * waiting out its retries. Default: PermanentJobError.
   */
  permanent?: (error: unknown) => boolean;
  run(job: RunningJob<P>): Promise<unknown>;
}

/** What is stored as the job's data: the payload with the store it belongs to. */
export interface JobData {
  orgId: string | null;
  payload: Record<string, unknown>;
  requestedBy?: string | null;
  /** A repeating job: the next run is enqueued when this one completes, `remaining` times more. */
  repeat?: { everyMs: number; remaining: number | null };
}

export interface EnqueueOptions {
  orgId: string | null;
  priority?: JobPriority;
  startAfter?: Date;
  /** At most one queued job with this key per type (a second enqueue returns null). */
  singletonKey?: string;
  requestedBy?: string | null;
  repeat?: JobData['repeat'];
}

export interface QueueOptions {
  /** Seconds between a running job's heartbeats (pg-boss's minimum is 10). */
  heartbeatSeconds: number;
  /** Jobs one worker process runs at once, per type. */
  concurrency: number;
  /** How long `stop` lets running jobs finish before handing them back. */
  stopTimeoutMs: number;
  logger: Logger;
}

export interface SettledAttempt {
  type: string;
  state: 'completed' | 'failed';
  seconds: number;
}

export class UnknownJobTypeError extends Error {}

/** Thrown by a handler for a failure that retrying cannot change: the job fails at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** pg-boss queue names allow letters, digits, `_ . - /`; our types use `:` (the spec's names). */
export const queueNameOf = (type: string) => type.replaceAll(':', '.');
export const typeOfQueue = (name: string) => name.replaceAll('.', ':');

export class JobQueue {
  readonly #database: Database;
  readonly #options: QueueOptions;
  readonly #definitions = new Map<string, JobDefinition<never>>();
  #boss: PgBoss | undefined;
  #working = false;
  readonly #settledListeners: Array<(attempt: SettledAttempt) => void> = [];

  constructor(database: Database, options: QueueOptions) {
    this.#database = database;
    this.#options = options;
  }

  /** Registers a job type. Every process that enqueues or works a type defines it. */
  define<P>(definition: JobDefinition<P>): void {
    if (this.#definitions.has(definition.type)) throw new Error(`job type ${definition.type} defined twice`);
    this.#definitions.set(definition.type, definition);
  }

  /** Called after each attempt this process ran (metrics). */
  onSettled(listener: (attempt: SettledAttempt) => void): void {
    this.#settledListeners.push(listener);
  }

  has(type: string): boolean {
    return this.#definitions.has(type);
  }

  definition(type: string): JobDefinition<never> | undefined {
    return this.#definitions.get(type);
  }

  get definitions(): JobDefinition<never>[] {
    return [...this.#definitions.values()];
  }

  get types(): string[] {
    return [...this.#definitions.keys()];
  }

  get working(): boolean {
    return this.#working;
  }

  /**
   * Installs or upgrades pg-boss's schema (its own, versioned by pg-boss), creates a queue per
   * defined type and, with `work`, starts this process's workers.
   */
  async start({ work }: { work: boolean }): Promise<void> {
    const { heartbeatSeconds, logger } = this.#options;
    const common = {
      schema: JOB_QUEUE_SCHEMA,
      // Installed by the migrations (0018_job_queue.sql), never by whichever process starts first.
      migrate: false,
      // A dead worker's jobs are found by the supervisor's pass: checking at the heartbeat
      // interval bounds recovery at about two heartbeats.
      superviseIntervalSeconds: heartbeatSeconds,
      monitorIntervalSeconds: heartbeatSeconds,
      useListenNotify: true,
      openTelemetry: { enabled: false },
      instanceName: work ? 'worker' : 'api',
    };
    const boss = this.#database.embedded
      ? new PgBoss({ ...common, backend: 'pglite', db: pgliteQueueAdapter(this.#database.embedded) })
      : new PgBoss({
          ...common,
          connectionString: this.#database.url!,
          max: 4,
          application_name: 'fresh-choice-queue',
        });
    boss.on('error', (error) => logger.error({ err: error }, 'job queue error'));
    boss.on('warning', (warning) => logger.warn({ warning }, 'job queue warning'));
    await boss.start();
    this.#boss = boss;
    for (const definition of this.#definitions.values()) {
      const name = queueNameOf(definition.type);
      const options = {
        retryLimit: definition.retryLimit ?? 3,
        retryDelay: definition.retryDelaySeconds ?? 5,
        retryBackoff: true,
        retryDelayMax: definition.retryDelayMaxSeconds ?? 600,
        expireInSeconds: definition.expireInSeconds ?? 3600,
        heartbeatSeconds,
        notify: true,
      };
      // Each process brings its definitions: a changed retry policy applies from its next start.
      const existing = (await boss.getQueue(name)) as Record<string, unknown> | null;
      if (!existing) await boss.createQueue(name, options);
      // Written only when a setting changed: on the embedded database every statement of a start
      // is start-up time.
      else if (Object.entries(options).some(([key, value]) => existing[key] !== value))
        await boss.updateQueue(name, options);
    }
    if (work) {
      for (const definition of this.#definitions.values()) await this.#work(definition);
      this.#working = true;
    }
  }

  async #work(definition: JobDefinition<never>) {
    const boss = this.#boss!;
    const { logger, concurrency } = this.#options;
    const settled = (attempt: SettledAttempt) => {
      for (const listener of this.#settledListeners) listener(attempt);
    };
    const batchSize = definition.batchSize ?? 1;
    await boss.work(
      queueNameOf(definition.type),
      {
        batchSize,
        localConcurrency: concurrency,
        includeMetadata: true,
        perJobResults: true,
        // NOTIFY wakes an idle worker at once; polling catches what it cannot: retries and delayed
        // jobs coming due (nothing notifies then), and a NOTIFY that arrived while the worker was
        // busy. pg-boss's default backstop with NOTIFY on is 30 s: a retry due in 1 s waited 30.
        pollingIntervalSeconds: 2,
        notifyPollingIntervalSeconds: 2,
        // A full batch means more is waiting: fetch again at once (ignored for batches of one).
        burstWhenBatchFull: true,
      },
      async (jobs: JobWithMetadata<JobData>[]): Promise<JobResult[]> =>
        Promise.all(
          jobs.map(async (job): Promise<JobResult> => {
            const started = performance.now();
            const jobLogger = logger.child({ jobId: job.id, jobType: definition.type });
            try {
              const output = await definition.run({
                id: job.id,
                type: definition.type,
                orgId: job.data.orgId,
                payload: job.data.payload as never,
                attempt: job.retryCount + 1,
                signal: job.signal,
                progress: (percent) => this.#progress(job.id, job.data.orgId, percent),
                logger: jobLogger,
              });
              if (job.data.repeat) await this.#repeat(definition.type, job.data, job.priority);
              settled({
                type: definition.type,
                state: 'completed',
                seconds: (performance.now() - started) / 1000,
              });
              return { id: job.id, status: 'completed', output: resultObject(output) };
            } catch (error) {
              const permanent = (definition.permanent ?? ((e) => e instanceof PermanentJobError))(error);
              const final = permanent || job.retryCount >= job.retryLimit;
              jobLogger[final ? 'error' : 'warn'](
                { err: error, attempt: job.retryCount + 1 },
                'job attempt failed',
              );
              settled({
                type: definition.type,
                state: 'failed',
                seconds: (performance.now() - started) / 1000,
              });
              return {
                id: job.id,
                // pg-boss's `deadletter` fails a job without its remaining retries.
                status: permanent ? 'deadletter' : 'failed',
                output: { message: errorMessage(error), ...errorCode(error) },
              };
            }
          }),
        ),
    );
  }

  #progress(jobId: string, orgId: string | null, percent: number) {
    return recordProgress(this.#database.db, jobId, orgId, percent);
  }

  async #repeat(type: string, data: JobData, priority: number) {
    const repeat = data.repeat!;
    if (repeat.remaining !== null && repeat.remaining <= 0) return;
    const next: JobData = {
      ...data,
      repeat: { everyMs: repeat.everyMs, remaining: repeat.remaining === null ? null : repeat.remaining - 1 },
    };
    await this.#boss!.send(queueNameOf(type), next, {
      priority,
      startAfter: new Date(Date.now() + repeat.everyMs),
    });
  }

  /**
   * Writes the job in the caller's transaction (or on its own when given the plain database).
   * Returns the job id, or null when a singleton key already has a queued job.
   */
  async enqueue(executor: Executor, type: string, payload: Record<string, unknown>, options: EnqueueOptions) {
    if (!this.#definitions.has(type)) throw new UnknownJobTypeError(`unknown job type ${type}`);
    const data: JobData = {
      orgId: options.orgId,
      payload,
      ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
      ...(options.repeat ? { repeat: options.repeat } : {}),
    };
    return this.#started().send(queueNameOf(type), data, {
      priority: PRIORITY_RANK[options.priority ?? 'normal'],
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
      db: fromKysely(executor),
    });
  }

  /** Writes many jobs of one type with one statement, in the caller's transaction. */
  async enqueueMany(
    executor: Executor,
    type: string,
    payloads: Array<Record<string, unknown>>,
    options: Pick<EnqueueOptions, 'orgId' | 'priority' | 'requestedBy'>,
  ): Promise<number> {
    if (!this.#definitions.has(type)) throw new UnknownJobTypeError(`unknown job type ${type}`);
    const priority = PRIORITY_RANK[options.priority ?? 'normal'];
    const jobs = payloads.map((payload) => ({
      priority,
      data: {
        orgId: options.orgId,
        payload,
        ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
      } satisfies JobData,
    }));
    await this.#started().insert(queueNameOf(type), jobs, { db: fromKysely(executor) });
    return jobs.length;
  }

  /** Cancels a job that has not started; false when it had already started or ended. */
  async cancel(type: string, id: string): Promise<boolean> {
    return affected(await this.#started().cancel(queueNameOf(type), id)) > 0;
  }

  /** Puts a failed job back in the queue; false when it was not failed. */
  async retry(type: string, id: string): Promise<boolean> {
    return affected(await this.#started().retry(queueNameOf(type), id)) > 0;
  }

  /** Instances (API or worker processes) heard from within three heartbeats. */
  async liveWorkers(): Promise<number> {
    const instances = await this.#started().getInstances();
    return instances.filter((instance) => instance.live && instance.name === 'worker').length;
  }

  async stop(): Promise<void> {
    const boss = this.#boss;
    if (!boss) return;
    this.#boss = undefined;
    this.#working = false;
    // Running jobs get the shutdown timeout to finish; what is still running then is failed back
    // to the queue (retried by the next worker), not left to wait for its heartbeat to go stale.
    await boss.stop({ graceful: true, timeout: this.#options.stopTimeoutMs, close: true });
  }

  #started(): PgBoss {
    if (!this.#boss) throw new Error('the job queue is not started');
    return this.#boss;
  }
}

/**
 * Writes a job's progress (0-100, rounded and clamped) to job_progress, through `executor`: a
 * handler that must mark itself done with its own writes passes its transaction.
 */
export async function recordProgress(
  executor: Executor,
  jobId: string,
  orgId: string | null,
  percent: number,
) {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  await executor
    .insertInto('job_progress')
    .values({ job_id: jobId, org_id: orgId, progress: value })
    .onConflict((oc) => oc.column('job_id').doUpdateSet({ progress: value, updated_at: sql`now()` }))
    .execute();
}

/**
 * Runs a store job's `work` in the store's tenant transaction once: the work and the job's done
 * mark (progress 100) commit together, so a rerun under at-least-once delivery (the worker died
 * after committing, before pg-boss heard) finds the mark and writes nothing again.
 */
export async function oncePerJob<R extends Record<string, unknown>>(
  db: Kysely<DB>,
  job: RunningJob<unknown>,
  work: (trx: Kysely<DB>, orgId: string) => Promise<R>,
): Promise<R | { alreadyDone: true }> {
  const orgId = job.orgId;
  if (!orgId) throw new Error(`${job.type} needs a store`);
  return withTenantRetry(db, orgId, async (trx) => {
    const done = await trx
      .selectFrom('job_progress')
      .select('progress')
      .where('job_id', '=', job.id)
      .executeTakeFirst();
    if (done?.progress === 100) return { alreadyDone: true as const };
    const result = await work(trx, orgId);
    await recordProgress(trx, job.id, orgId, 100);
    return result;
  });
}

/** pg-boss answers commands with {requested, affected}; its type declaration omits the fields. */
function affected(response: object): number {
  return (response as { affected?: number }).affected ?? 0;
}

function resultObject(output: unknown): object {
  if (output === undefined || output === null) return {};
  if (typeof output === 'object' && !Array.isArray(output)) return output;
  return { value: output };
}

/** A stable code where the error has one (AppError's), for clients to switch on. */
function errorCode(error: unknown): { code?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { code } : {};
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
