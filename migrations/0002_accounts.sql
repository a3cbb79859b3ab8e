-- Accounts: users, sessions, one-time tokens, the audit trail and outgoing mail, with tenant
-- isolation enforced by PostgreSQL row-level security.
--
-- Two roles take part:
--   * the migrating role (whoever runs this: owns the tables, need not be a superuser). Auth flows
--     that must look across organisations before one is known (login by e-mail, refresh by token)
--     run as this role, through the `system_access` policies below.
--   * fresh_choice_app: a NOLOGIN role that request handling switches to (SET LOCAL ROLE) with the
--     organisation in the `app.org_id` setting. It is not the owner, so with RLS forced it sees
--     only the current organisation's rows, whatever a query forgets to filter.

do $$
begin
  create role fresh_choice_app nologin;
exception
  -- Roles are cluster-wide: another database on this server may have made it already.
  when duplicate_object or unique_violation then null;
end
$$;

-- The owner must be able to SET ROLE to it.
do $$
begin
  execute format('grant fresh_choice_app to %I', current_user);
exception
  when duplicate_object or unique_violation then null;
end
$$;

grant usage on schema public to fresh_choice_app;

-- The organisation of the current transaction; NULL when none is set (so policies match nothing).
create function app_current_org() returns uuid
  language sql stable
  as $$ select nullif(current_setting('app.org_id', true), '')::uuid $$;

alter table organizations add column settings jsonb not null default '{}'::jsonb;

create table users (
  id              uuid primary key default gen_random_uuid(),
  org_id          uuid not null references organizations (id),
  email           text not null check (email = lower(email) and length(email) between 3 and 254),
  username        text not null check (length(btrim(username)) between 1 and 100),
  -- NULL until an invited member sets a password.
  password_hash   text,
  role            text not null check (role in ('admin', 'manager', 'employee', 'viewer')),
  active          boolean not null default true,
  -- Bumped when sessions must end at once (deactivation, password reset, role change): access
  -- tokens carry the version they were issued under.
  session_version integer not null default 1,
  last_login_at   timestamptz,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
create unique index users_email_key on users (email);
create index users_org_idx on users (org_id, created_at);

create table refresh_tokens (
  id          uuid primary key default gen_random_uuid(),
  org_id      uuid not null references organizations (id),
  user_id     uuid not null references users (id),
  -- Every token rotated from one login shares a family; reuse of a spent token revokes the family.
  family_id   uuid not null,
  token_hash  text not null unique,
  remember_me boolean not null default false,
  expires_at  timestamptz not null,
  used_at     timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz not null default now()
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_user_idx on refresh_tokens (user_id) where revoked_at is null;

create table one_time_tokens (
  id         uuid primary key default gen_random_uuid(),
  org_id     uuid not null references organizations (id),
  user_id    uuid not null references users (id),
  purpose    text not null check (purpose in ('password_reset', 'invitation')),
  token_hash text not null unique,
  expires_at timestamptz not null,
  used_at    timestamptz,
  created_at timestamptz not null default now()
);
create index one_time_tokens_user_idx on one_time_tokens (user_id, purpose) where used_at is null;

create table audit_events (
  id              uuid primary key default gen_random_uuid(),
  org_id          uuid not null references organizations (id),
  actor_id        uuid references users (id),
  subject_user_id uuid references users (id),
  action          text not null,
  details         jsonb not null default '{}'::jsonb,
  ip              text,
  created_at      timestamptz not null default now()
);
create index audit_events_org_time_idx on audit_events (org_id, created_at desc, id desc);

-- Mail that was sent, or, without SMTP, only recorded here (and in the log).
create table mail_outbox (
  id         uuid primary key default gen_random_uuid(),
  org_id     uuid references organizations (id),
  to_address text not null,
  subject    text not null,
  body       text not null,
  transport  text not null check (transport in ('smtp', 'log')),
  created_at timestamptz not null default now()
);

grant select, update on organizations to fresh_choice_app;
grant select, insert, update on users, refresh_tokens, one_time_tokens to fresh_choice_app;
grant select, insert on audit_events, mail_outbox to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['users', 'refresh_tokens', 'one_time_tokens', 'audit_events', 'mail_outbox']
  loop
    execute format('alter table %I enable row level security', tenant_table);
    execute format('alter table %I force row level security', tenant_table);
    execute format(
      'create policy tenant_isolation on %I to fresh_choice_app using (org_id = app_current_org()) with check (org_id = app_current_org())',
      tenant_table);
    execute format('create policy system_access on %I to %I using (true) with check (true)', tenant_table, current_user);
  end loop;

  alter table organizations enable row level security;
  alter table organizations force row level security;
  create policy tenant_isolation on organizations to fresh_choice_app
    using (id = app_current_org()) with check (id = app_current_org());
  execute format('create policy system_access on organizations to %I using (true) with check (true)', current_user);
end
$$;
