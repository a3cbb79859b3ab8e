import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';
import type { JobState } from './jobs.schemas.ts';

/**
 * A store's view of the queue. Jobs live in pg-boss's table (pgboss.job, one row per job, kept for
 * pg-boss's retention after they end); the store is `data->>'orgId'`, which every query here
 * filters on, since pg-boss's tables have no row-level security. Queue names are the job types with
 * `.` for `:` (queue.ts).
 */

export interface JobRow {
  id: string;
  name: string;
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  priority: number;
  retry_count: number;
  retry_limit: number;
  start_after: Date;
  created_on: Date;
  started_on: Date | null;
  completed_on: Date | null;
  output: Record<string, unknown> | null;
  progress: number | null;
}

const STATES: Record<JobState, string[]> = {
  pending: ['created', 'retry'],
  processing: ['active'],
  completed: ['completed'],
  failed: ['failed'],
  cancelled: ['cancelled'],
};

const columns = sql`j.id, j.name, j.state::text as state, j.priority, j.retry_count, j.retry_limit, j.start_after,
  j.created_on, j.started_on, j.completed_on, j.output, p.progress`;

export async function findJob(db: Executor, orgId: string, queueNames: string[], id: string) {
  const { rows } = await sql<JobRow>`
    select ${columns}
      from pgboss.job j
      left join job_progress p on p.job_id = j.id
     where j.name = any(${queueNames}::text[]) and j.id = ${id} and j.data->>'orgId' = ${orgId}`.execute(db);
  return rows[0];
}

export async function listJobs(
  db: Kysely<DB>,
  orgId: string,
  queueNames: string[],
  status: JobState | undefined,
  page: number,
  limit: number,
) {
  const states = status ? STATES[status] : null;
  const where = sql`j.name = any(${queueNames}::text[]) and j.data->>'orgId' = ${orgId}
    and (${states}::text[] is null or j.state::text = any(${states}::text[]))`;
  const [{ rows }, { rows: counted }] = await Promise.all([
    sql<JobRow>`
      select ${columns}
        from pgboss.job j
        left join job_progress p on p.job_id = j.id
       where ${where}
       order by j.created_on desc, j.id desc
       limit ${limit} offset ${(page - 1) * limit}`.execute(db),
    sql<{ total: number }>`select count(*)::int as total from pgboss.job j where ${where}`.execute(db),
  ]);
  return { rows, total: counted[0]?.total ?? 0 };
}

/** Jobs per type and state, for /metrics. */
export async function queueDepth(db: Kysely<DB>) {
  const { rows } = await sql<{ name: string; state: string; jobs: number }>`
    select name, state::text as state, count(*)::int as jobs from pgboss.job group by name, state`.execute(
    db,
  );
  return rows;
}
