import type { Kysely } from 'kysely';
import { Value } from 'typebox/value';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { errors } from '../../platform/http/errors.ts';
import { paginate } from '../../platform/http/envelope.ts';
import {
  type JobDefinition,
  type JobQueue,
  priorityOf,
  queueNameOf,
  typeOfQueue,
} from '../../platform/queue/queue.ts';
import type { AuthContext } from '../auth/guard.ts';
import type { Permission } from '../auth/permissions.ts';
import { checkCron, CronError, nextRun } from './cron.ts';
import * as jobsRepo from './jobs.repository.ts';
import type {
  JobListQuery,
  JobSchedule,
  JobStatus,
  ScheduleJobRequest,
  ScheduleUpdate,
} from './jobs.schemas.ts';
import * as schedulesRepo from './schedules.repository.ts';

type ScheduleRow = NonNullable<Awaited<ReturnType<typeof schedulesRepo.findSchedule>>>;

export class JobsService {
  readonly #db: Kysely<DB>;
  readonly #queue: JobQueue;

  constructor(db: Kysely<DB>, queue: JobQueue) {
    this.#db = db;
    this.#queue = queue;
  }

  definitions() {
    return this.#queue.definitions;
  }

  types() {
    return this.#queue.definitions.map((definition) => ({
      type: definition.type,
      description: definition.description,
      startPermission: definition.startPermission ?? null,
      payload: definition.payloadSchema ?? { type: 'object', additionalProperties: false },
      defaultSchedule: definition.defaultSchedule ?? null,
    }));
  }

  /** POST /v1/jobs: run now, after a delay, repeatedly, or (with a cron) on a schedule. */
  async submit(auth: AuthContext, request: ScheduleJobRequest) {
    const definition = this.#startable(auth, request.type);
    const payload = checkPayload(definition, request.payload ?? {});
    const priority = request.priority ?? 'normal';
    const schedule = request.schedule ?? {};
    if (schedule.cron !== undefined) {
      if (schedule.delay !== undefined || schedule.repeat !== undefined) {
        throw errors.validation('schedule.cron cannot be combined with delay or repeat', [
          { field: 'body.schedule', message: 'give either cron, or delay and/or repeat' },
        ]);
      }
      const cron = validCron(schedule.cron, 'body.schedule.cron');
      const created = await withTenant(this.#db, auth.orgId, async (trx) => {
        const timeZone = await schedulesRepo.storeTimeZone(trx, auth.orgId);
        return schedulesRepo.insertSchedule(trx, {
          orgId: auth.orgId,
          type: definition.type,
          name: definition.description,
          cron,
          payload,
          priority,
          timeZone,
          nextRunAt: nextRun(cron, timeZone, new Date()),
          createdBy: auth.userId,
        });
      });
      return { schedule: scheduleOut(created) };
    }
    const id = await withTenant(this.#db, auth.orgId, (trx) =>
      this.#queue.enqueue(trx, definition.type, payload, {
        orgId: auth.orgId,
        priority,
        requestedBy: auth.userId,
        ...(schedule.delay ? { startAfter: new Date(Date.now() + schedule.delay) } : {}),
        ...(schedule.repeat
          ? {
              repeat: {
                everyMs: schedule.repeat.every,
                remaining: schedule.repeat.limit === undefined ? null : schedule.repeat.limit - 1,
              },
            }
          : {}),
      }),
    );
    return { job: await this.get(auth, id!) };
  }

  async list(auth: AuthContext, query: JobListQuery) {
    const names = this.#queueNames(query.type);
    const { rows, total } = await jobsRepo.listJobs(
      this.#db,
      auth.orgId,
      names,
      query.status,
      query.page,
      query.limit,
    );
    return { jobs: rows.map(jobOut), pagination: paginate(query.page, query.limit, total) };
  }

  async get(auth: AuthContext, id: string): Promise<JobStatus> {
    const row = await jobsRepo.findJob(this.#db, auth.orgId, this.#queueNames(), id);
    if (!row) throw errors.notFound('Job');
    return jobOut(row);
  }

  async cancel(auth: AuthContext, id: string): Promise<JobStatus> {
    const job = await this.get(auth, id);
    this.#startable(auth, job.type);
    if (job.status !== 'pending' || !(await this.#queue.cancel(job.type, id))) {
      throw errors.conflict(`Only a pending job can be cancelled; this one is ${job.status}`, {
        status: job.status,
      });
    }
    return this.get(auth, id);
  }

  async retry(auth: AuthContext, id: string): Promise<JobStatus> {
    const job = await this.get(auth, id);
    this.#startable(auth, job.type);
    if (job.status !== 'failed' || !(await this.#queue.retry(job.type, id))) {
      throw errors.conflict(`Only a failed job can be retried; this one is ${job.status}`, {
        status: job.status,
      });
    }
    return this.get(auth, id);
  }

  async schedules(auth: AuthContext): Promise<JobSchedule[]> {
    const rows = await withTenant(this.#db, auth.orgId, (trx) =>
      schedulesRepo.listSchedules(trx, auth.orgId),
    );
    return rows.map(scheduleOut);
  }

  async updateSchedule(auth: AuthContext, id: string, changes: ScheduleUpdate): Promise<JobSchedule> {
    const cron = changes.cron === undefined ? undefined : validCron(changes.cron, 'body.cron');
    const updated = await withTenant(this.#db, auth.orgId, async (trx) => {
      const current = await schedulesRepo.findSchedule(trx, auth.orgId, id);
      if (!current) throw errors.notFound('Schedule');
      const timeZone = await schedulesRepo.storeTimeZone(trx, auth.orgId);
      const enabled = changes.enabled ?? current.enabled;
      // Re-timed or re-enabled: the next run counts from now, so no slot missed while it was off fires.
      const nextRunAt = enabled ? nextRun(cron ?? current.cron, timeZone, new Date()) : null;
      return schedulesRepo.updateSchedule(trx, auth.orgId, id, {
        ...(cron !== undefined ? { cron } : {}),
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.enabled !== undefined ? { enabled: changes.enabled } : {}),
        ...(changes.priority !== undefined ? { priority: changes.priority } : {}),
        nextRunAt,
        timeZone,
      });
    });
    return scheduleOut(updated!);
  }

  async deleteSchedule(auth: AuthContext, id: string): Promise<void> {
    await withTenant(this.#db, auth.orgId, async (trx) => {
      const current = await schedulesRepo.findSchedule(trx, auth.orgId, id);
      if (!current) throw errors.notFound('Schedule');
      if (current.builtin) {
        throw errors.conflict(
          "A store's built-in schedule cannot be deleted; disable it instead (enabled: false)",
        );
      }
      await schedulesRepo.deleteSchedule(trx, auth.orgId, id);
    });
  }

  /** The definition of a type this caller may start; 400 for a type that is not, 403 without the permission. */
  #startable(auth: AuthContext, type: string): JobDefinition<never> {
    const definition = this.#queue.definition(type);
    if (!definition) {
      const startable = this.#queue.definitions.filter((d) => d.startPermission).map((d) => d.type);
      throw errors.validation(`Unknown job type '${type}'`, [
        { field: 'body.type', message: `must be one of ${startable.join(', ')}` },
      ]);
    }
    if (!definition.startPermission) {
      throw errors.validation(`Jobs of type '${type}' are started by the system, not through the API`, [
        { field: 'body.type', message: 'is not a type that can be started through the API' },
      ]);
    }
    if (!auth.permissions.has(definition.startPermission as Permission)) {
      throw errors.forbidden(`Starting '${type}' needs the '${definition.startPermission}' permission`);
    }
    return definition;
  }

  #queueNames(type?: string): string[] {
    if (type !== undefined) return this.#queue.has(type) ? [queueNameOf(type)] : [];
    return this.#queue.types.map(queueNameOf);
  }
}

function checkPayload(definition: JobDefinition<never>, payload: Record<string, unknown>) {
  const schema = definition.payloadSchema;
  if (!schema) {
    const keys = Object.keys(payload);
    if (keys.length > 0) {
      throw errors.validation(`'${definition.type}' takes no payload`, [
        { field: `body.payload.${keys[0]}`, message: 'is not a payload key of this job type' },
      ]);
    }
    return {};
  }
  // additionalProperties: false reports an unknown key twice (as `false` schema and by name).
  const problems = [...Value.Errors(schema, payload)].filter((problem) => problem.keyword !== 'boolean');
  if (problems.length > 0) {
    throw errors.validation(
      `The payload does not fit '${definition.type}'`,
      problems.slice(0, 10).map(payloadProblem),
    );
  }
  return payload;
}

function payloadProblem(problem: { instancePath: string; message: string; params: Record<string, unknown> }) {
  const extra = problem.params.additionalProperties;
  if (Array.isArray(extra)) {
    return { field: `body.payload.${String(extra[0])}`, message: 'is not a payload key of this job type' };
  }
  const path = problem.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return { field: path ? `body.payload.${path}` : 'body.payload', message: problem.message };
}

function validCron(cron: string, field: string): string {
  try {
    checkCron(cron);
  } catch (error) {
    if (error instanceof CronError)
      throw errors.validation(error.message, [{ field, message: error.message }]);
    throw error;
  }
  return cron.trim();
}

function iso(date: Date | null): string | undefined {
  return date ? new Date(date).toISOString() : undefined;
}

export function jobOut(row: jobsRepo.JobRow): JobStatus {
  const status =
    row.state === 'created' || row.state === 'retry'
      ? 'pending'
      : row.state === 'active'
        ? 'processing'
        : row.state;
  const output = row.output ?? undefined;
  const failed = row.state === 'failed' || row.state === 'retry';
  return {
    id: row.id,
    type: typeOfQueue(row.name),
    status,
    progress: row.state === 'completed' ? 100 : (row.progress ?? 0),
    ...(row.state === 'completed' && output !== undefined ? { result: output } : {}),
    ...(failed && output !== undefined ? { error: errorText(output) } : {}),
    priority: priorityOf(row.priority),
    attempts: row.started_on ? row.retry_count + 1 : 0,
    maxAttempts: row.retry_limit + 1,
    runAfter: iso(row.start_after)!,
    createdAt: iso(row.created_on)!,
    ...(row.started_on ? { startedAt: iso(row.started_on)! } : {}),
    ...(row.completed_on ? { completedAt: iso(row.completed_on)! } : {}),
  };
}

function errorText(output: Record<string, unknown>): string {
  if (typeof output.message === 'string') return output.message;
  return JSON.stringify(output).slice(0, 2000);
}

function scheduleOut(row: ScheduleRow): JobSchedule {
  return {
    id: row.id,
    type: row.job_type,
    name: row.name,
    cron: row.cron,
    timeZone: row.time_zone ?? 'UTC',
    payload: row.payload,
    priority: row.priority,
    enabled: row.enabled,
    builtin: row.builtin,
    nextRunAt: iso(row.next_run_at) ?? null,
    lastRunAt: iso(row.last_run_at) ?? null,
    lastJobId: row.last_job_id,
  };
}
