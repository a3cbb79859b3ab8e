-- Each item's stock level against its low-stock line, kept on the row so that status filters can
-- use an index: 0 = out of stock, 1 = low (at or below the reorder point, or the store's
-- lowStockThreshold when the item has none), 2 = above it. `expiring` and `in_stock` split level 2
-- by earliest_expiry against "today + warning days", which moves with the calendar, so that part
-- stays a query-time comparison.
--
-- Why: the status filter was a condition on coalesce(reorder_point, <threshold>), which no index
-- can serve; at 100,000 items each status-filtered list request counted with a sequential scan
-- (28-32 ms) and walked the created_at index past non-matching rows (4-6 ms), against 0.4 ms for
-- an unfiltered page.
--
-- The rule mirrors statusOf() in inventory.service.ts; 10 is DEFAULT_SETTINGS.lowStockThreshold
-- (settings.schemas.ts), the value for a store that never saved its own.

create function item_stock_level(p_org uuid, p_stock numeric, p_reorder_point numeric) returns smallint
  language sql stable
as $$
  select case
    when p_stock <= 0 then 0
    when p_stock <= coalesce(
      p_reorder_point,
      (select coalesce((settings ->> 'lowStockThreshold')::numeric, 10) from organizations where id = p_org)
    ) then 1
    else 2
  end::smallint
$$;

alter table inventory_items add column stock_level smallint;
update inventory_items set stock_level = item_stock_level(org_id, remaining_stock, reorder_point);
alter table inventory_items alter column stock_level set not null;

create function inventory_items_set_stock_level() returns trigger
  language plpgsql as $$
begin
  new.stock_level := item_stock_level(new.org_id, new.remaining_stock, new.reorder_point);
  return new;
end
$$;

create trigger inventory_items_stock_level before insert or update of remaining_stock, reorder_point
  on inventory_items for each row execute function inventory_items_set_stock_level();

-- A store that changes its threshold moves the items that use it.
create function organizations_restate_stock_levels() returns trigger
  language plpgsql as $$
begin
  update inventory_items
     set stock_level = item_stock_level(org_id, remaining_stock, reorder_point)
   where org_id = new.id and reorder_point is null;
  return null;
end
$$;

create trigger organizations_stock_levels after update of settings on organizations
  for each row
  when ((old.settings ->> 'lowStockThreshold') is distinct from (new.settings ->> 'lowStockThreshold'))
  execute function organizations_restate_stock_levels();

-- Pages of one status in the default (newest first) order, and the out/low totals.
create index inventory_items_level_created_idx
  on inventory_items (org_id, stock_level, created_at desc, id) include (earliest_expiry)
  where deleted_at is null;
-- Expiring: the level-2 items by expiry date, for its total and its pages.
create index inventory_items_level_expiry_idx
  on inventory_items (org_id, stock_level, earliest_expiry) include (created_at, id)
  where deleted_at is null;

-- Statistics for the new column now, not when autovacuum gets to it: without them the planner
-- cannot tell a status from the whole store.
analyze inventory_items;
