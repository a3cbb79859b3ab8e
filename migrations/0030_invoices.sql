-- Vendor invoices (src/modules/invoices/): an uploaded file, read by the invoice:process job
-- (src/modules/invoices/extraction/), matched to items, purchase orders and receipts, reviewed,
-- approved into stock and costs, reconciled and paid.
--
-- Two states side by side, because they answer different questions:
-- - `status`, the processing/review state: processing → review → approved, or failed (with
--   `failure_code` and a message a person can act on). Only `review` can be corrected; only
--   `approved` has moved stock and costs.
-- - `payment_status`, what is owed: pending → paid, or overdue (set nightly once `due_date` has
--   passed unpaid). It is the spec's `status` filter of GET /v1/invoices.

create table invoices (
  id               uuid primary key default uuid_v7(),
  org_id           uuid not null references organizations (id),
  file_id          uuid not null references files (id),
  -- The file's SHA-256: the same bytes uploaded again are refused (409). A spreadsheet holding
  -- several invoices gives one row each, told apart by their position in it.
  file_sha256      text not null check (file_sha256 ~ '^[0-9a-f]{64}$'),
  source_index     integer not null default 0 check (source_index >= 0),
  vendor_id        uuid references vendors (id),
  status           text not null default 'processing'
                   check (status in ('processing', 'review', 'approved', 'failed')),
  payment_status   text not null default 'pending' check (payment_status in ('pending', 'paid', 'overdue')),
  failure_code     text check (length(failure_code) <= 50),
  failure_message  text check (length(failure_message) <= 2000),
  invoice_number   text check (length(invoice_number) between 1 and 100),
  invoice_date     date,
  due_date         date,
  currency         text check (currency ~ '^[A-Z]{3}$'),
  subtotal         numeric(14, 2),
  tax              numeric(14, 2),
  total            numeric(14, 2),
  -- As printed, for a person to check the vendor match against.
  vendor_name      text check (length(vendor_name) <= 300),
  vendor_tax_id    text check (length(vendor_tax_id) <= 100),
  format           text check (length(format) <= 20),
  -- The extraction result (fields with confidence, checks, page layout), kept until approval:
  -- learning from a correction needs the layout the value was printed in.
  extraction       jsonb,
  -- Header corrections made in review, field → value (what learnHints was given).
  corrections      jsonb not null default '{}'::jsonb,
  -- Three-way-match and matching problems, the spec's `conflicts`.
  conflicts        jsonb not null default '[]'::jsonb check (jsonb_typeof(conflicts) = 'array'),
  -- What reconciliation found short: the amount to claim back from the vendor.
  credit_amount    numeric(14, 2) not null default 0 check (credit_amount >= 0),
  paid_date        date,
  payment_method   text check (length(payment_method) <= 100),
  payment_notes    text check (length(payment_notes) <= 2000),
  uploaded_by      uuid references users (id),
  approved_by      uuid references users (id),
  approved_at      timestamptz,
  processed_at     timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  check ((status = 'failed') = (failure_code is not null)),
  check ((status = 'approved') = (approved_at is not null)),
  check ((payment_status = 'paid') = (paid_date is not null))
);
create unique index invoices_org_file_key on invoices (org_id, file_sha256, source_index);
-- One invoice per vendor and number (failed rows hold no number claim: they can be uploaded again).
create unique index invoices_vendor_number_key on invoices (org_id, vendor_id, lower(invoice_number))
  where vendor_id is not null and invoice_number is not null and status <> 'failed';
create index invoices_list_idx on invoices (org_id, created_at desc, id desc);
create index invoices_vendor_idx on invoices (org_id, vendor_id, invoice_date);
-- The nightly overdue job's work list.
create index invoices_unpaid_due_idx on invoices (org_id, due_date) where payment_status = 'pending';

create table invoice_lines (
  id                uuid primary key default uuid_v7(),
  org_id            uuid not null references organizations (id),
  invoice_id        uuid not null references invoices (id),
  line_number       integer not null check (line_number > 0),
  description       text not null default '' check (length(description) <= 1000),
  quantity          numeric(14, 3) check (quantity >= 0),
  unit              text check (length(unit) <= 20),
  unit_cost         numeric(14, 4) check (unit_cost >= 0),
  line_total        numeric(14, 2),
  gtin              text check (length(gtin) <= 20),
  vendor_sku        text check (length(vendor_sku) <= 100),
  tax_rate          numeric(6, 3),
  -- The item the line is for, and how it was found.
  item_id           uuid references inventory_items (id),
  match_method      text check (match_method in ('gtin', 'learned_sku', 'catalogue_sku', 'description', 'manual')),
  match_score       numeric(4, 3),
  -- Ranked candidates when the match is unsure: [{itemId, description, score}].
  suggestions       jsonb not null default '[]'::jsonb check (jsonb_typeof(suggestions) = 'array'),
  -- A line a person marked as not stock (freight, deposit): skipped by approval.
  ignored           boolean not null default false,
  -- The purchase-order line it was matched to (three-way match), with what that line said.
  po_line_id        uuid references purchase_order_lines (id),
  ordered_quantity  numeric(14, 3),
  received_quantity numeric(14, 3),
  po_unit_cost      numeric(14, 4),
  -- Given in review: the lot approval receives.
  expiration_date   date,
  lot_code          text check (length(lot_code) <= 100),
  -- Written by approval: the ledger row of the units it received (null when a receipt had them).
  movement_id       uuid references stock_movements (id),
  unique (invoice_id, line_number)
);
create index invoice_lines_item_idx on invoice_lines (org_id, item_id) where item_id is not null;

-- What a vendor's invoices look like and which of its SKUs are which items (learned from review).
create table vendor_invoice_hints (
  org_id     uuid not null references organizations (id),
  vendor_id  uuid not null references vendors (id),
  hints      jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now(),
  primary key (org_id, vendor_id)
);

-- Reconciliation: what arrived against what was invoiced, each difference a ledger adjustment and
-- a credit to claim.
create table invoice_adjustments (
  id                 uuid primary key default uuid_v7(),
  org_id             uuid not null references organizations (id),
  invoice_id         uuid not null references invoices (id),
  item_id            uuid not null references inventory_items (id),
  expected_quantity  numeric(14, 3) not null check (expected_quantity >= 0),
  actual_quantity    numeric(14, 3) not null check (actual_quantity >= 0),
  reason             text not null check (length(reason) between 1 and 500),
  unit_cost          numeric(14, 4),
  credit_amount      numeric(14, 2) not null default 0,
  movement_id        uuid references stock_movements (id),
  created_by         uuid references users (id),
  created_at         timestamptz not null default now()
);
create index invoice_adjustments_invoice_idx on invoice_adjustments (invoice_id);

grant select, insert, update on invoices, invoice_lines, vendor_invoice_hints, invoice_adjustments
  to fresh_choice_app;

select app_enable_tenant_rls('invoices');
select app_enable_tenant_rls('invoice_lines');
select app_enable_tenant_rls('vendor_invoice_hints');
select app_enable_tenant_rls('invoice_adjustments');
