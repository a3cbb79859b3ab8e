-- Shopping lists (src/modules/shopping-lists/): what to buy, made by hand or generated from the
-- forecasts, optimised across the vendors that carry each line, and turned into draft purchase
-- orders. A line is an inventory item or free text (bought at the market, not tracked in stock).

create table shopping_lists (
  id             uuid primary key default uuid_v7(),
  org_id         uuid not null references organizations (id),
  name           text not null check (length(btrim(name)) between 1 and 200),
  status         text not null default 'pending' check (status in ('pending', 'completed')),
  -- The most pressing line's priority for a generated list; chosen by hand otherwise.
  priority       text not null default 'medium' check (priority in ('low', 'medium', 'high', 'urgent')),
  auto_generated boolean not null default false,
  -- The store day the daily job generated the list for: one per day, so a retried job run
  -- finds the list it already made instead of making a second one.
  generated_for  date,
  -- The generation criteria and the last optimisation's summary, as the API answered them.
  criteria       jsonb,
  optimization   jsonb,
  notes          text check (length(notes) <= 5000),
  created_by     uuid references users (id),
  completed_at   timestamptz,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);
create index shopping_lists_org_idx on shopping_lists (org_id, created_at desc, id desc);
create unique index shopping_lists_daily_key on shopping_lists (org_id, generated_for) where auto_generated;

create table shopping_list_items (
  id                 uuid primary key default uuid_v7(),
  org_id             uuid not null references organizations (id),
  list_id            uuid not null references shopping_lists (id) on delete cascade,
  position           integer not null check (position > 0),
  -- Null: a free-text line.
  item_id            uuid references inventory_items (id),
  name               text not null check (length(btrim(name)) between 1 and 200),
  -- In the item's stock unit.
  quantity           numeric(14, 3) not null check (quantity > 0),
  -- What generation suggested (null on lines added by hand), with why and how pressing.
  suggested_quantity numeric(14, 3),
  priority           text check (priority in ('low', 'medium', 'high', 'urgent')),
  reason             text check (length(reason) <= 2000),
  estimated_cost     numeric(14, 2) check (estimated_cost >= 0),
  -- The vendor the line is bought from: the catalogue's preference at generation, the
  -- optimiser's choice after it, or the user's.
  vendor_id          uuid references vendors (id),
  -- The day the shelf is expected to run empty (generated lines with a forecast); an urgent
  -- line may only go to a vendor delivering before it.
  empties_on         date,
  -- The most that sells before it expires (items with a shelf life), in units.
  max_quantity       numeric(14, 3),
  purchased          boolean not null default false,
  actual_cost        numeric(14, 2) check (actual_cost >= 0),
  notes              text check (length(notes) <= 2000),
  -- Set when the line went into a draft purchase order: converting again skips it.
  purchase_order_id  uuid references purchase_orders (id),
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  unique (list_id, position)
);
create index shopping_list_items_list_idx on shopping_list_items (list_id, position);
create index shopping_list_items_item_idx on shopping_list_items (org_id, item_id) where item_id is not null;

grant select, insert, update, delete on shopping_lists, shopping_list_items to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['shopping_lists', 'shopping_list_items']
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
