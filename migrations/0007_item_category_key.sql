-- Category filters compare case-insensitively. As an index on lower(category) the filtered page
-- could not be walked in order (PostgreSQL sorted the whole category: 11.6 ms for page 20 of
-- 'Dairy' at 100,000 items) nor read index-only; a stored lower-cased column can (0.2 ms).
alter table inventory_items add column category_key text generated always as (lower(category)) stored;

drop index inventory_items_category_idx;
create index inventory_items_category_idx
  on inventory_items (org_id, category_key, created_at desc, id)
  where deleted_at is null;

analyze inventory_items;
