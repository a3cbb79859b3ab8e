import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/** The store's time zone as the scheduler reads it (settings.timeZone, UTC when unset). */
const storeZone = sql<string>`coalesce(o.settings->>'timeZone', 'UTC')`;

export interface DueSchedule {
  id: string;
  org_id: string;
  job_type: string;
  cron: string;
  payload: Record<string, unknown>;
  priority: 'low' | 'normal' | 'high' | 'critical';
  next_run_at: Date;
  time_zone: string;
}

/**
 * Gives every store the builtin schedules it lacks (the spec's daily and weekly tasks), disabled
 * rows included: a store that turned one off keeps it off. Returns how many were added.
 */
export async function addMissingBuiltins(
  db: Kysely<DB>,
  builtins: Array<{ type: string; name: string; cron: string }>,
): Promise<number> {
  if (builtins.length === 0) return 0;
  const result = await sql`
    insert into job_schedules (org_id, job_type, name, cron, builtin)
    select o.id, b.type, b.name, b.cron, true
      from organizations o
     cross join json_to_recordset(${JSON.stringify(builtins)}::json) as b(type text, name text, cron text)
    on conflict (org_id, job_type) where builtin do nothing`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Enabled schedules with no next run yet, or whose store changed its time zone since. */
export async function schedulesToTime(db: Kysely<DB>, limit: number) {
  const { rows } = await sql<{ id: string; cron: string; time_zone: string }>`
    select s.id, s.cron, ${storeZone} as time_zone
      from job_schedules s
      join organizations o on o.id = s.org_id
     where s.enabled
       and (s.next_run_at is null or s.time_zone is distinct from ${storeZone})
     limit ${limit}`.execute(db);
  return rows;
}

export async function setNextRuns(
  db: Executor,
  runs: Array<{ id: string; next: string | null; timeZone: string }>,
): Promise<void> {
  if (runs.length === 0) return;
  await sql`
    update job_schedules s
       set next_run_at = r.next, time_zone = r."timeZone"
      from json_to_recordset(${JSON.stringify(runs)}::json) as r(id uuid, next timestamptz, "timeZone" text)
     where s.id = r.id`.execute(db);
}

/**
 * Locks the schedules due at `now` that no other instance holds (SKIP LOCKED): the caller enqueues
 * their jobs and moves next_run_at past now before its transaction commits.
 */
export async function claimDue(trx: Executor, now: Date, limit: number): Promise<DueSchedule[]> {
  const { rows } = await sql<DueSchedule>`
    select s.id, s.org_id, s.job_type, s.cron, s.payload, s.priority, s.next_run_at, ${storeZone} as time_zone
      from job_schedules s
      join organizations o on o.id = s.org_id
     where s.enabled and s.next_run_at <= ${now}
     order by s.next_run_at
     limit ${limit}
       for update of s skip locked`.execute(trx);
  return rows;
}

export async function markFired(
  trx: Executor,
  fired: { id: string; slot: Date; next: Date | null; timeZone: string; jobId: string | null },
): Promise<void> {
  await trx
    .updateTable('job_schedules')
    .set({
      last_run_at: fired.slot,
      next_run_at: fired.next,
      time_zone: fired.timeZone,
      ...(fired.jobId ? { last_job_id: fired.jobId } : {}),
    })
    .where('id', '=', fired.id)
    .execute();
}

// A store's own schedules, read and changed inside its tenant transaction (row-level security).

const scheduleColumns = [
  'id',
  'job_type',
  'name',
  'cron',
  'payload',
  'priority',
  'enabled',
  'builtin',
  'time_zone',
  'next_run_at',
  'last_run_at',
  'last_job_id',
] as const;

export async function listSchedules(trx: Executor, orgId: string) {
  return trx
    .selectFrom('job_schedules')
    .select(scheduleColumns)
    .where('org_id', '=', orgId)
    .orderBy('builtin', 'desc')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function findSchedule(trx: Executor, orgId: string, id: string) {
  return trx
    .selectFrom('job_schedules')
    .select(scheduleColumns)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function insertSchedule(
  trx: Executor,
  row: {
    orgId: string;
    type: string;
    name: string;
    cron: string;
    payload: Record<string, unknown>;
    priority: 'low' | 'normal' | 'high' | 'critical';
    timeZone: string;
    nextRunAt: Date;
    createdBy: string;
  },
) {
  return trx
    .insertInto('job_schedules')
    .values({
      org_id: row.orgId,
      job_type: row.type,
      name: row.name,
      cron: row.cron,
      payload: JSON.stringify(row.payload),
      priority: row.priority,
      time_zone: row.timeZone,
      next_run_at: row.nextRunAt,
      created_by: row.createdBy,
    })
    .returning(scheduleColumns)
    .executeTakeFirstOrThrow();
}

export async function updateSchedule(
  trx: Executor,
  orgId: string,
  id: string,
  changes: {
    cron?: string;
    name?: string;
    enabled?: boolean;
    priority?: 'low' | 'normal' | 'high' | 'critical';
    nextRunAt: Date | null;
    timeZone: string;
  },
) {
  return trx
    .updateTable('job_schedules')
    .set({
      ...(changes.cron !== undefined ? { cron: changes.cron } : {}),
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.enabled !== undefined ? { enabled: changes.enabled } : {}),
      ...(changes.priority !== undefined ? { priority: changes.priority } : {}),
      next_run_at: changes.nextRunAt,
      time_zone: changes.timeZone,
      updated_at: sql`now()`,
    })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning(scheduleColumns)
    .executeTakeFirst();
}

export async function deleteSchedule(trx: Executor, orgId: string, id: string) {
  const result = await trx
    .deleteFrom('job_schedules')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('builtin', '=', false)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function storeTimeZone(trx: Executor, orgId: string): Promise<string> {
  const row = await trx
    .selectFrom('organizations as o')
    .select(storeZone.as('time_zone'))
    .where('o.id', '=', orgId)
    .executeTakeFirst();
  return row?.time_zone ?? 'UTC';
}
