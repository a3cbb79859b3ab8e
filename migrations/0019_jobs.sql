-- Jobs: what the store sees of the queue (progress of running jobs) and each store's schedules.
-- The jobs themselves live in pg-boss's tables (0018); requests enqueue in their own transaction,
-- as the app role, so that role may read the queue definitions and insert jobs.

grant usage on schema pgboss to fresh_choice_app;
grant select, insert on all tables in schema pgboss to fresh_choice_app;

-- Progress (0-100) of long jobs, written by the job while it runs; pg-boss keeps no such field.
create table job_progress (
  job_id     uuid primary key,
  org_id     uuid references organizations (id),
  progress   smallint not null check (progress between 0 and 100),
  updated_at timestamptz not null default now()
);

-- A store's recurring jobs: the spec's daily and weekly tasks (builtin, one per type, created for
-- every store by the scheduler) and schedules an admin added through POST /v1/jobs. `cron` is read
-- in the store's time zone, remembered in `time_zone` so a change of the store's zone is noticed
-- and `next_run_at` computed again. The scheduler claims a due row with FOR UPDATE SKIP LOCKED and
-- moves next_run_at past now in the same transaction as the job it enqueues: each slot fires once
-- whatever the number of instances, and slots missed while nothing ran collapse into one run.
create table job_schedules (
  id          uuid primary key default gen_random_uuid(),
  org_id      uuid not null references organizations (id),
  job_type    text not null check (length(job_type) between 1 and 100),
  name        text not null check (length(btrim(name)) between 1 and 200),
  cron        text not null check (length(cron) between 1 and 100),
  payload     jsonb not null default '{}',
  priority    text not null default 'normal' check (priority in ('low', 'normal', 'high', 'critical')),
  enabled     boolean not null default true,
  builtin     boolean not null default false,
  time_zone   text,
  next_run_at timestamptz,
  last_run_at timestamptz,
  last_job_id uuid,
  created_by  uuid references users (id),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create unique index job_schedules_builtin_idx on job_schedules (org_id, job_type) where builtin;
create index job_schedules_due_idx on job_schedules (next_run_at) where enabled;
create index job_schedules_org_idx on job_schedules (org_id, created_at);

grant select, insert, update, delete on job_schedules to fresh_choice_app;
grant select, insert, update on job_progress to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['job_progress', 'job_schedules']
  loop
    execute format('alter table %I enable row level security', tenant_table);
    execute format('alter table %I force row level security', tenant_table);
    execute format(
      'create policy tenant_isolation on %I to fresh_choice_app using (org_id = app_current_org()) with check (org_id = app_current_org())',
      tenant_table);
    execute format('create policy system_access on %I to %I using (true) with check (true)', tenant_table, current_user);
  end loop;
end
$$;
