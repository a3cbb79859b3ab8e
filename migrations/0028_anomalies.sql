-- Anomaly detection (src/modules/anomalies/): demand spikes and drops against the stored forecast
-- or a robust baseline, receipt costs above their history, damaged or spoiled waste above a
-- vendor's usual rate. Each anomaly is stored once (its dedupe key), read by GET /v1/ml/anomalies,
-- and a high one raises an alert of the new kind `anomaly`.

create table anomalies (
  id                uuid primary key default uuid_v7(),
  org_id            uuid not null references organizations (id),
  item_id           uuid not null references inventory_items (id),
  type              text not null check (type in ('demand_spike', 'demand_drop', 'cost_increase', 'quality_issue')),
  severity          text not null check (severity in ('low', 'medium', 'high')),
  -- What makes it the same anomaly again: the sales day (demand), the receipt line (cost), the
  -- vendor and ISO week (quality). A rerun of detection finds the same key and stores nothing.
  dedupe_key        text not null check (length(dedupe_key) between 1 and 200),
  -- The store day the anomaly is about (the sales day, the receipt's date, the detection day).
  observed_on       date not null,
  vendor_id         uuid references vendors (id),
  description       text not null check (length(description) between 1 and 1000),
  suggested_actions jsonb not null default '[]'::jsonb check (jsonb_typeof(suggested_actions) = 'array'),
  -- The figures behind it: observed value, expected value or band, history, threshold.
  details           jsonb not null default '{}'::jsonb,
  state             text not null default 'open' check (state in ('open', 'dismissed')),
  detected_at       timestamptz not null default now(),
  -- The alert a high anomaly raised (alerts.kind = 'anomaly'), if any.
  alert_id          uuid references alerts (id),
  unique (org_id, type, item_id, dedupe_key)
);
create index anomalies_list_idx on anomalies (org_id, detected_at desc, id desc);
create index anomalies_item_idx on anomalies (org_id, item_id, detected_at desc);

-- When detection last ran per store: GET /v1/ml/anomalies runs it first when older than a day.
create table anomaly_detection_runs (
  org_id      uuid primary key references organizations (id),
  last_run_at timestamptz not null,
  summary     jsonb not null default '{}'::jsonb
);

grant select, insert, update on anomalies, anomaly_detection_runs to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['anomalies', 'anomaly_detection_runs']
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

-- Alerts gain the kind `anomaly`: one live alert per item for its high anomalies, resolved by
-- the detection job once the item has had no high anomaly for ANOMALY_ALERT_DAYS days.
alter table alerts drop constraint alerts_kind_check;
alter table alerts add constraint alerts_kind_check check (kind in ('low_stock', 'expiry', 'anomaly'));
