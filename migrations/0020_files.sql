-- Uploaded files (POST /v1/files/upload): one row per file, its bytes in the storage driver
-- (DATA_DIR/files or an S3 bucket) under `storage_key`. Deleting is soft (`deleted_at`); the
-- bytes stay until the purge (FILE_RETENTION_DAYS later) removes them and sets `purged_at`.
-- Each row owns its object: two uploads of the same bytes are two objects, so purging one never
-- takes the other's bytes; `sha256` finds such duplicates.

create table files (
  -- Time-ordered, as items are (0013): new rows go to the right edge of the indexes holding
  -- their id. The service makes the id itself (timeOrderedId), because the storage key holds it
  -- and the bytes are stored before the row is written.
  id                uuid primary key default uuid_v7(),
  org_id            uuid not null references organizations (id),
  category          text not null check (category in ('invoice', 'product_image', 'document', 'report')),
  original_filename text not null check (length(original_filename) between 1 and 255),
  mime_type         text not null check (length(mime_type) between 1 and 100),
  size_bytes        bigint not null check (size_bytes >= 0),
  sha256            text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  storage_key       text not null unique check (length(storage_key) between 1 and 500),
  title             text check (length(title) <= 200),
  description       text check (length(description) <= 2000),
  tags              text[] not null default '{}' check (cardinality(tags) <= 20),
  -- The record this file belongs to (an invoice, an item…), whatever its kind.
  related_id        uuid,
  -- A derived image (processing jobs make it); null until there is one.
  thumbnail_key     text check (length(thumbnail_key) between 1 and 500),
  -- Null for files the service made itself (a scheduled report).
  uploaded_by       uuid references users (id),
  created_at        timestamptz not null default now(),
  deleted_at        timestamptz,
  purged_at         timestamptz,
  check (purged_at is null or deleted_at is not null)
);
-- The list, newest first (deleted files are listed to admins who ask, so not a partial index).
create index files_org_created_idx on files (org_id, created_at desc, id desc);
-- Finding files with the same bytes.
create index files_org_sha256_idx on files (org_id, sha256);
-- The files of one record (an invoice's scans).
create index files_org_related_idx on files (org_id, related_id, created_at desc) where related_id is not null;
-- The purge's work list: deleted, not yet purged, oldest deletion first.
create index files_purge_idx on files (deleted_at) where deleted_at is not null and purged_at is null;

grant select, insert, update on files to fresh_choice_app;

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['files']
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
