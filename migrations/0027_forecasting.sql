-- Demand forecasting (src/modules/forecasting/): the store's promotion calendar, each item's
-- stored forecast with the backtest that chose its model, and the reorder policy computed from it.

-- A promotion on one item or on a whole category, for a range of store-local days. Forecasts
-- learn each promotion's lift from history and apply it to the days ahead.
create table promotions (
  id               uuid primary key default uuid_v7(),
  org_id           uuid not null references organizations (id),
  name             text not null check (length(btrim(name)) between 1 and 200),
  item_id          uuid references inventory_items (id),
  category         text check (length(btrim(category)) between 1 and 100),
  starts_on        date not null,
  ends_on          date not null,
  -- Price reduction as a percentage of the regular price (0 < discount <= 100).
  discount_percent numeric(5, 2) not null check (discount_percent > 0 and discount_percent <= 100),
  notes            text check (length(notes) <= 1000),
  created_by       uuid references users (id),
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  check ((item_id is null) <> (category is null)),
  check (ends_on >= starts_on),
  check (ends_on - starts_on <= 366)
);
create index promotions_item_idx on promotions (org_id, item_id, starts_on) where item_id is not null;
create index promotions_category_idx on promotions (org_id, category, starts_on) where category is not null;
create index promotions_dates_idx on promotions (org_id, starts_on, ends_on);

-- One stored forecast per item: the daily forecast from the day after `history_through`, the
-- method the rolling-origin backtest chose and its accuracy, and the reorder policy derived
-- from it. Replaced by the nightly forecast:update_predictions job; `history_fingerprint` lets
-- the job skip an item whose sales history has not changed since.
create table item_forecasts (
  org_id              uuid not null references organizations (id),
  item_id             uuid not null references inventory_items (id),
  computed_at         timestamptz not null default now(),
  -- The last store-local day of history used (yesterday when the job ran).
  history_through     date not null,
  history_days        integer not null check (history_days >= 0),
  history_fingerprint text not null,
  method              text not null check (length(method) between 1 and 50),
  method_reason       text not null check (length(method_reason) <= 1000),
  insufficient_history boolean not null,
  horizon             integer not null check (horizon between 1 and 366),
  -- [{date, mean, sd, lo80, hi80, lo95, hi95, factors: [{name, impact}]}], one per day.
  points              jsonb not null check (jsonb_typeof(points) = 'array'),
  -- {mape, rmse, mase, bias, origins, horizon, points} from the backtest; null without one.
  accuracy            jsonb,
  -- Every candidate model's backtest scores: [{method, mase, rmse}].
  candidates          jsonb not null default '[]'::jsonb,
  -- The reorder policy (policy.ts): {reorderPoint, orderUpTo, safetyStock, serviceLevel,
  -- leadTimeDays, reviewPeriodDays, shelfLifeDays, cappedByShelfLife, …}.
  reorder_policy      jsonb,
  primary key (org_id, item_id)
);

grant select, insert, update, delete on promotions, item_forecasts to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['promotions', 'item_forecasts']
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
