-- item_stock_level (0006) was a SQL function. Called from the stock-level trigger it was planned
-- again for every row written: 0.07 ms of PostgreSQL CPU per stock adjustment and per imported
-- item (pg_stat_statements: 7,197 plans in 7,197 calls). As plpgsql its query's plan is kept for
-- the session. Same rule, same signature. The store's threshold is read by a query of its own,
-- only for an item with stock and no reorder point: inside one expression with the reorder
-- point, a custom plan (which folds the query away when the item has one) looked cheaper than
-- the generic one, so it was planned again on every call.
create or replace function item_stock_level(p_org uuid, p_stock numeric, p_reorder_point numeric) returns smallint
  language plpgsql stable
as $$
declare
  threshold numeric := p_reorder_point;
begin
  if p_stock <= 0 then
    return 0;
  end if;
  if threshold is null then
    select coalesce((settings ->> 'lowStockThreshold')::numeric, 10) into threshold
      from organizations where id = p_org;
  end if;
  return case when p_stock <= threshold then 1 else 2 end;
end
$$;
