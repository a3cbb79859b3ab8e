-- Alerts as rows: one open alert per item and kind (a hundred sales below the threshold do not
-- make a hundred alerts), updated when it gets worse, resolved by itself when stock is
-- replenished or the expiring lot is gone, acknowledged by staff. Opening, worsening and
-- resolving are outbox events on the alert channels.
create table alerts (
  id              uuid primary key default uuid_v7(),
  org_id          uuid not null references organizations (id),
  item_id         uuid not null references inventory_items (id),
  kind            text not null check (kind in ('low_stock', 'expiry')),
  severity        text not null check (severity in ('info', 'warning', 'critical')),
  state           text not null default 'open' check (state in ('open', 'acknowledged', 'resolved')),
  -- What the alert says now (the spec's LowStockAlert / ExpiryWarning payload), updated as it worsens.
  details         jsonb not null,
  opened_at       timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  acknowledged_at timestamptz,
  acknowledged_by uuid references users (id),
  resolved_at     timestamptz,
  -- Why it resolved: 'replenished', 'expired_stock_gone', 'item_deleted', …
  resolution      text check (length(resolution) <= 100),
  check ((state = 'resolved') = (resolved_at is not null)),
  check ((state = 'acknowledged') <= (acknowledged_at is not null))
);
-- The one live (open or acknowledged) alert per item and kind.
create unique index alerts_live_key on alerts (org_id, item_id, kind) where state <> 'resolved';
create index alerts_list_idx on alerts (org_id, state, opened_at desc, id desc);

grant select, insert, update on alerts to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['alerts']
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
