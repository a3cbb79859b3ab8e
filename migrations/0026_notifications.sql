-- Notifications: browsers' web-push subscriptions with what each wants pushed, the in-app inbox,
-- each member's e-mail digest preference, and the days a digest went out (so a digest job that
-- runs twice in a day, as at-least-once delivery allows, mails once).

-- One row per push endpoint in a store (the spec's NotificationSubscriptionRequest). The endpoint
-- is the browser's: subscribing it again (the same member, or another one signed in on that
-- browser) updates the row. Unique per store, not globally: under row-level security a store
-- cannot see, and so could not update, another store's row.
create table push_subscriptions (
  id              uuid primary key default uuid_v7(),
  org_id          uuid not null references organizations (id),
  user_id         uuid not null references users (id),
  endpoint        text not null check (endpoint like 'https://%' and length(endpoint) <= 2048),
  -- The browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url.
  p256dh          text not null check (p256dh ~ '^[A-Za-z0-9_-]{87}$'),
  auth            text not null check (auth ~ '^[A-Za-z0-9_-]{22}$'),
  low_stock       boolean not null,
  expiry          boolean not null,
  invoices        boolean not null,
  reports         boolean not null,
  user_agent      text check (length(user_agent) <= 500),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  last_pushed_at  timestamptz
);
create unique index push_subscriptions_endpoint_key on push_subscriptions (org_id, endpoint);
create index push_subscriptions_user_idx on push_subscriptions (org_id, user_id);

-- The in-app inbox: one row per recipient.
create table notifications (
  id         uuid primary key default uuid_v7(),
  org_id     uuid not null references organizations (id),
  user_id    uuid not null references users (id),
  category   text not null check (category in ('lowStock', 'expiry', 'invoices', 'reports', 'message')),
  type       text not null check (type in ('info', 'warning', 'error', 'success')),
  title      text not null check (length(title) between 1 and 200),
  message    text not null check (length(message) between 1 and 2000),
  data       jsonb,
  actions    jsonb not null default '[]'::jsonb check (jsonb_typeof(actions) = 'array'),
  created_by uuid references users (id),
  created_at timestamptz not null default now(),
  read_at    timestamptz
);
-- A member's inbox, newest first; and its unread part.
create index notifications_inbox_idx on notifications (org_id, user_id, created_at desc, id desc);
create index notifications_unread_idx on notifications (org_id, user_id, created_at desc, id desc)
  where read_at is null;

-- Per member: the daily e-mail digest of the store's live alerts (off until they turn it on).
create table notification_preferences (
  user_id      uuid primary key references users (id),
  org_id       uuid not null references organizations (id),
  email_digest boolean not null default false,
  updated_at   timestamptz not null default now()
);
create index notification_preferences_digest_idx on notification_preferences (org_id) where email_digest;

-- The store-local day each member's digest was queued for: one per member and day.
create table notification_digests (
  org_id    uuid not null references organizations (id),
  user_id   uuid not null references users (id),
  day       date not null,
  alerts    integer not null,
  queued_at timestamptz not null default now(),
  primary key (user_id, day)
);

grant select, insert, update, delete on push_subscriptions to fresh_choice_app;
grant select, insert, update on notifications to fresh_choice_app;
grant select, insert, update on notification_preferences to fresh_choice_app;
grant select, insert on notification_digests to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['push_subscriptions', 'notifications', 'notification_preferences',
                                       'notification_digests']
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
