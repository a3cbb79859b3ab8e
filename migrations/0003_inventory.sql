-- Inventory: items, lots with expiry, the stock ledger, field-level history, the event outbox and
-- idempotency keys. Stock is never edited in place by hand: every change is a stock_movements row
-- written in the same transaction as the lots and the item's cached totals.

create extension if not exists pg_trgm;

-- Suppliers. The vendors feature extends this table; inventory only needs to reference one.
create table vendors (
  id         uuid primary key default gen_random_uuid(),
  org_id     uuid not null references organizations (id),
  name       text not null check (length(btrim(name)) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index vendors_org_idx on vendors (org_id, name);

create table inventory_items (
  id               uuid primary key default gen_random_uuid(),
  org_id           uuid not null references organizations (id),
  description      text not null check (length(btrim(description)) between 1 and 500),
  category         text not null check (length(btrim(category)) between 1 and 100),
  brand            text,
  department       text,
  item_sku         text,
  item_upc         text,
  -- The barcode as a GTIN-14 (UPC-A, UPC-E, EAN-8 and EAN-13 normalised), so every form of one
  -- code finds the same item.
  gtin             text check (gtin ~ '^[0-9]{14}$'),
  pack_size        text,
  qty_shipped      numeric(14, 3) not null default 0,
  -- Sum of the lots' quantities and earliest expiry among lots with stock: caches maintained by the
  -- service in the transaction that changes the lots, so lists can filter and sort on them.
  remaining_stock  numeric(14, 3) not null default 0 check (remaining_stock >= 0),
  earliest_expiry  date,
  sales_weekly     numeric(14, 3),
  location         text,
  aisle            text,
  "row"            text,
  bin              text,
  unit_cost        numeric(14, 4) check (unit_cost >= 0),
  vendor_cost      numeric(14, 4) check (vendor_cost >= 0),
  cust_cost_each   numeric(14, 4) check (cust_cost_each >= 0),
  unit_retail      numeric(14, 4) check (unit_retail >= 0),
  advertising_flag boolean not null default false,
  order_type       text,
  vendor_id        uuid references vendors (id),
  reorder_point    numeric(14, 3) check (reorder_point >= 0),
  search_text      text generated always as (
    lower(description || ' ' || coalesce(brand, '') || ' ' || coalesce(item_sku, '') || ' ' || coalesce(item_upc, ''))
  ) stored,
  search_vector    tsvector generated always as (
    to_tsvector('simple', description || ' ' || coalesce(brand, '') || ' ' || coalesce(item_sku, '') || ' ' || coalesce(item_upc, ''))
  ) stored,
  deleted_at       timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);
-- Live items only: a deleted item keeps its history but frees its SKU and barcode.
create unique index inventory_items_sku_key on inventory_items (org_id, item_sku) where deleted_at is null and item_sku is not null;
create unique index inventory_items_gtin_key on inventory_items (org_id, gtin) where deleted_at is null and gtin is not null;
create index inventory_items_created_idx on inventory_items (org_id, created_at desc, id) where deleted_at is null;
create index inventory_items_name_idx on inventory_items (org_id, description, id) where deleted_at is null;
create index inventory_items_stock_idx on inventory_items (org_id, remaining_stock, id) where deleted_at is null;
create index inventory_items_expiry_idx on inventory_items (org_id, earliest_expiry, id) where deleted_at is null;
create index inventory_items_category_idx on inventory_items (org_id, category, created_at desc) where deleted_at is null;
create index inventory_items_vendor_idx on inventory_items (org_id, vendor_id) where deleted_at is null;
create index inventory_items_upc_idx on inventory_items (org_id, item_upc) where deleted_at is null;
create index inventory_items_search_idx on inventory_items using gin (search_vector);
create index inventory_items_trgm_idx on inventory_items using gin (search_text gin_trgm_ops);

create table inventory_lots (
  id               uuid primary key default gen_random_uuid(),
  org_id           uuid not null references organizations (id),
  item_id          uuid not null references inventory_items (id),
  lot_code         text,
  quantity         numeric(14, 3) not null check (quantity >= 0),
  initial_quantity numeric(14, 3) not null check (initial_quantity >= 0),
  expiration_date  date,
  received_date    date not null default current_date,
  unit_cost        numeric(14, 4) check (unit_cost >= 0),
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);
-- FEFO: the lot that expires first (no expiry last) is consumed first.
create index inventory_lots_fefo_idx on inventory_lots (item_id, expiration_date nulls last, received_date, id) where quantity > 0;
create index inventory_lots_org_expiry_idx on inventory_lots (org_id, expiration_date) where quantity > 0;

create table stock_movements (
  id           uuid primary key default gen_random_uuid(),
  org_id       uuid not null references organizations (id),
  item_id      uuid not null references inventory_items (id),
  type         text not null check (type in ('receipt', 'sale', 'adjustment', 'waste', 'count', 'transfer')),
  reason       text not null,
  quantity     numeric(14, 3) not null check (quantity <> 0),
  stock_before numeric(14, 3) not null,
  stock_after  numeric(14, 3) not null check (stock_after >= 0),
  -- [{lotId, quantity}] — which lots the change touched, signed like `quantity`.
  lots         jsonb not null default '[]'::jsonb,
  unit_cost    numeric(14, 4),
  notes        text,
  user_id      uuid references users (id),
  occurred_at  timestamptz not null default now()
);
create index stock_movements_item_idx on stock_movements (item_id, occurred_at desc);
create index stock_movements_type_idx on stock_movements (org_id, type, occurred_at, item_id);

-- Field-level history of an item, for edits and stock changes alike.
create table item_changes (
  id          uuid primary key default gen_random_uuid(),
  org_id      uuid not null references organizations (id),
  item_id     uuid not null references inventory_items (id),
  field       text not null,
  old_value   jsonb,
  new_value   jsonb,
  reason      text,
  movement_id uuid references stock_movements (id),
  changed_by  uuid references users (id),
  changed_at  timestamptz not null default now()
);
create index item_changes_item_idx on item_changes (item_id, changed_at desc, id desc);

-- Transactional outbox: events are written with the change that caused them; the realtime
-- feature publishes them (NOTIFY, WebSocket) and marks them published.
create table outbox_events (
  id           bigint generated always as identity primary key,
  org_id       uuid not null references organizations (id),
  type         text not null,
  payload      jsonb not null,
  created_at   timestamptz not null default now(),
  published_at timestamptz
);
create index outbox_events_unpublished_idx on outbox_events (id) where published_at is null;

-- Idempotency-Key: the first answer to a key is stored with the change it made, in the same
-- transaction, and replayed for retries.
create table idempotency_keys (
  org_id       uuid not null references organizations (id),
  key          text not null check (length(key) between 1 and 200),
  user_id      uuid references users (id),
  request_hash text not null,
  status_code  integer,
  response     jsonb,
  created_at   timestamptz not null default now(),
  primary key (org_id, key)
);

grant select, insert, update on vendors, inventory_items, inventory_lots to fresh_choice_app;
grant select, insert on stock_movements, item_changes, outbox_events to fresh_choice_app;
grant select, insert, update on idempotency_keys to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['vendors', 'inventory_items', 'inventory_lots', 'stock_movements',
                                      'item_changes', 'outbox_events', 'idempotency_keys']
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
