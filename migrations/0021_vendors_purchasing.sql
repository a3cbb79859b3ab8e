-- Vendors and purchasing: the vendor record the spec describes, vendor catalogues (what a vendor
-- sells us, in which case pack, at which price breaks, delivered on which days), purchase orders
-- with their lines, and receipts (what really arrived, lot by lot, and what was refused).
-- Stock itself still only moves through stock_movements: a receipt line points at the ledger row
-- its units went in with.

-- An item's shelf life in days, when it has one: receiving it then needs an expiry date, and a
-- lot that arrives with less than a share of it left counts against the vendor's quality.
alter table inventory_items add column shelf_life_days integer check (shelf_life_days between 1 and 3650);

-- The vendor record (CreateVendorRequest). Deactivating keeps the row: orders and receipts point
-- at it for as long as the store keeps its history.
alter table vendors
  add column contact_info        text check (length(contact_info) <= 1000),
  add column address             text check (length(address) <= 300),
  add column city                text check (length(city) <= 100),
  add column state               text check (length(state) <= 100),
  add column zip                 text check (length(zip) <= 20),
  add column country             text check (country ~ '^[A-Z]{2}$'),
  add column phone               text check (length(phone) <= 40),
  add column email               text check (length(email) <= 254),
  add column website             text check (length(website) <= 500),
  add column contact_person      text check (length(contact_person) <= 200),
  add column payment_terms       text check (length(payment_terms) <= 200),
  add column tax_id              text check (length(tax_id) <= 50),
  add column notes               text check (length(notes) <= 5000),
  -- The smallest order the vendor takes, in money (null: none).
  add column minimum_order_value numeric(14, 2) check (minimum_order_value >= 0),
  add column status              text not null default 'active' check (status in ('active', 'inactive')),
  add column deactivated_at      timestamptz,
  add column search_text         text generated always as (
    lower(name || ' ' || coalesce(contact_person, '') || ' ' || coalesce(email, '') || ' ' || coalesce(city, ''))
  ) stored;
-- One vendor per name in a store, whatever the case or the spaces around it.
create unique index vendors_org_name_key on vendors (org_id, lower(btrim(name)));
-- Typo-tolerant search (trigram similarity, as for items).
create index vendors_search_trgm_idx on vendors using gin (search_text gin_trgm_ops);

-- The vendor's catalogue: one line per vendor and item.
create table vendor_products (
  id                     uuid primary key default uuid_v7(),
  org_id                 uuid not null references organizations (id),
  vendor_id              uuid not null references vendors (id),
  item_id                uuid not null references inventory_items (id),
  vendor_sku             text check (length(btrim(vendor_sku)) between 1 and 100),
  vendor_description     text check (length(vendor_description) <= 500),
  units_per_case         integer not null default 1 check (units_per_case between 1 and 100000),
  -- The smallest quantity per order, counted in `minimum_order_unit`s.
  minimum_order_quantity numeric(14, 3) not null default 0 check (minimum_order_quantity >= 0),
  minimum_order_unit     text not null default 'unit' check (minimum_order_unit in ('unit', 'case')),
  -- The cost of one unit (the stock unit, not the case) below the first price break.
  unit_cost              numeric(14, 4) not null check (unit_cost >= 0),
  -- [{minQuantity, unitCost}] ascending by minQuantity (in units): from minQuantity units on,
  -- each unit costs unitCost. The service keeps it sorted and strictly increasing.
  price_breaks           jsonb not null default '[]'::jsonb check (jsonb_typeof(price_breaks) = 'array'),
  lead_time_days         integer not null default 1 check (lead_time_days between 0 and 365),
  -- ISO weekdays (1 = Monday … 7 = Sunday) the vendor delivers on; empty: any day.
  delivery_days          smallint[] not null default '{}' check (delivery_days <@ array[1, 2, 3, 4, 5, 6, 7]::smallint[]),
  preferred              boolean not null default false,
  created_at             timestamptz not null default now(),
  updated_at             timestamptz not null default now()
);
create unique index vendor_products_vendor_item_key on vendor_products (vendor_id, item_id);
create unique index vendor_products_vendor_sku_key on vendor_products (vendor_id, lower(vendor_sku)) where vendor_sku is not null;
-- At most one preferred vendor per item.
create unique index vendor_products_preferred_key on vendor_products (org_id, item_id) where preferred;
create index vendor_products_item_idx on vendor_products (org_id, item_id);

-- Purchase-order numbers: one counter row per store, incremented in the transaction that creates
-- the order, so a rolled-back order gives its number back and concurrent orders queue on the row.
create table purchase_order_counters (
  org_id      uuid primary key references organizations (id),
  last_number integer not null default 0 check (last_number >= 0)
);

create table purchase_orders (
  id              uuid primary key default uuid_v7(),
  org_id          uuid not null references organizations (id),
  vendor_id       uuid not null references vendors (id),
  number          integer not null check (number > 0),
  status          text not null default 'draft'
                  check (status in ('draft', 'sent', 'partially_received', 'received', 'cancelled')),
  -- The day the order was placed (sent), in the store's zone; the draft's creation day before.
  order_date      date not null,
  expected_date   date not null,
  notes           text check (length(notes) <= 5000),
  currency        text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  -- Computed from the lines by the service on every change (never taken from the client).
  subtotal        numeric(14, 2) not null default 0 check (subtotal >= 0),
  created_by      uuid references users (id),
  sent_at         timestamptz,
  acknowledged_at timestamptz,
  -- The first receipt and the one that completed the order.
  first_received_at timestamptz,
  received_at     timestamptz,
  cancelled_at    timestamptz,
  cancel_reason   text check (length(cancel_reason) <= 1000),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  unique (org_id, number)
);
create index purchase_orders_list_idx on purchase_orders (org_id, created_at desc, id desc);
create index purchase_orders_vendor_idx on purchase_orders (org_id, vendor_id, order_date);
create index purchase_orders_status_idx on purchase_orders (org_id, status, expected_date);

create table purchase_order_lines (
  id               uuid primary key default uuid_v7(),
  org_id           uuid not null references organizations (id),
  purchase_order_id uuid not null references purchase_orders (id) on delete cascade,
  line_number      integer not null check (line_number > 0),
  item_id          uuid not null references inventory_items (id),
  vendor_sku       text,
  description      text not null,
  -- Ordered in units or in cases; stock moves in units (quantity × units_per_case).
  order_unit       text not null default 'unit' check (order_unit in ('unit', 'case')),
  quantity         numeric(14, 3) not null check (quantity > 0),
  units_per_case   integer not null default 1 check (units_per_case >= 1),
  quantity_units   numeric(14, 3) generated always as (
    case when order_unit = 'case' then quantity * units_per_case else quantity end
  ) stored,
  -- Per unit (the stock unit).
  unit_cost        numeric(14, 4) not null check (unit_cost >= 0),
  line_total       numeric(14, 2) generated always as (
    round(case when order_unit = 'case' then quantity * units_per_case else quantity end * unit_cost, 2)
  ) stored,
  received_units   numeric(14, 3) not null default 0 check (received_units >= 0),
  rejected_units   numeric(14, 3) not null default 0 check (rejected_units >= 0),
  unique (purchase_order_id, line_number),
  unique (purchase_order_id, item_id)
);
create index purchase_order_lines_item_idx on purchase_order_lines (org_id, item_id);

-- What arrived: against a purchase order, or directly (bought at the market) with or without a
-- vendor. Kept as records for the three-way match with invoices.
create table receipts (
  id                uuid primary key default uuid_v7(),
  org_id            uuid not null references organizations (id),
  purchase_order_id uuid references purchase_orders (id),
  vendor_id         uuid references vendors (id),
  -- A direct receipt from a supplier that is not a vendor record (a market stall).
  supplier_name     text check (length(supplier_name) <= 200),
  received_at       timestamptz not null default now(),
  -- The store-zone day of received_at, for on-time and trends.
  received_date     date not null,
  received_by       uuid references users (id),
  notes             text check (length(notes) <= 5000),
  delivery_reference text check (length(delivery_reference) <= 100),
  created_at        timestamptz not null default now()
);
create index receipts_org_idx on receipts (org_id, received_at desc, id desc);
create index receipts_po_idx on receipts (purchase_order_id) where purchase_order_id is not null;
create index receipts_vendor_idx on receipts (org_id, vendor_id, received_date);

create table receipt_lines (
  id                     uuid primary key default uuid_v7(),
  org_id                 uuid not null references organizations (id),
  receipt_id             uuid not null references receipts (id),
  purchase_order_line_id uuid references purchase_order_lines (id),
  item_id                uuid not null references inventory_items (id),
  quantity_received      numeric(14, 3) not null default 0 check (quantity_received >= 0),
  quantity_rejected      numeric(14, 3) not null default 0 check (quantity_rejected >= 0),
  rejection_reason       text check (rejection_reason in ('damaged', 'short_dated', 'wrong_item', 'quality')),
  lot_code               text check (length(lot_code) <= 100),
  expiration_date        date,
  unit_cost              numeric(14, 4) check (unit_cost >= 0),
  -- Whether the lot arrived with less than the store's share of its shelf life left.
  short_dated            boolean not null default false,
  lot_id                 uuid references inventory_lots (id),
  movement_id            uuid references stock_movements (id),
  check (quantity_received > 0 or quantity_rejected > 0),
  check ((quantity_rejected = 0) = (rejection_reason is null)),
  check ((quantity_received > 0) = (movement_id is not null))
);
create index receipt_lines_receipt_idx on receipt_lines (receipt_id);
create index receipt_lines_po_line_idx on receipt_lines (purchase_order_line_id) where purchase_order_line_id is not null;
create index receipt_lines_item_idx on receipt_lines (org_id, item_id);

-- The weekly vendor:performance_analysis job's results, one row per vendor and week.
create table vendor_performance_snapshots (
  org_id      uuid not null references organizations (id),
  vendor_id   uuid not null references vendors (id),
  week_start  date not null,
  metrics     jsonb not null,
  computed_at timestamptz not null default now(),
  primary key (org_id, vendor_id, week_start)
);

grant select, insert, update on vendors, vendor_products, purchase_order_counters, purchase_orders,
  purchase_order_lines, receipts, receipt_lines, vendor_performance_snapshots to fresh_choice_app;
grant delete on vendor_products, purchase_order_lines to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['vendor_products', 'purchase_order_counters', 'purchase_orders',
                                      'purchase_order_lines', 'receipts', 'receipt_lines',
                                      'vendor_performance_snapshots']
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
