-- Items say their shelf life (inventory_items.shelf_life_days, 0021) in the wire format:
-- `shelfLifeDays`, null when the item keeps. Receiving needs an expiry date for an item that has
-- one, and a lot arriving with too little of it left counts against the vendor's quality.
-- Same signature as 0017, so the function is replaced in place; only the added field differs.
create or replace function tenant_api_items(
  p_org uuid,
  p_ids uuid[],
  p_low_threshold numeric,
  p_expiring_by date,
  p_today date default current_date
)
  returns json
  language plpgsql
  set role = fresh_choice_app
  -- One generic plan, kept for the session (see 0010).
  set plan_cache_mode = force_generic_plan
as $$
begin
  perform set_config('app.org_id', p_org::text, true);
  return (
    select coalesce(json_agg(api.item order by page.position), '[]'::json)
      from unnest(p_ids) with ordinality as page (id, position)
      join inventory_items i on i.id = page.id and i.org_id = p_org and i.deleted_at is null
      left join lateral (
        -- FEFO order: first to expire first, lots without expiry last.
        select json_agg(row_to_json(lot) order by lot."expirationDate" asc nulls last, lot."receivedDate", lot."id") as list,
               -- Summed as numeric: the float8 quantities are the exact numeric(14,3) values, which
               -- a float8 sum could turn into 0.30000000000000004.
               sum(lot."quantity"::numeric) filter (where lot."expired") as expired_stock
          from (
            select l.id as "id", l.lot_code as "lotCode", l.quantity::float8 as "quantity",
                   l.expiration_date as "expirationDate", l.received_date as "receivedDate",
                   l.unit_cost::float8 as "unitCost",
                   coalesce(l.expiration_date < p_today, false) as "expired"
              from inventory_lots l
             where l.org_id = p_org and l.item_id = page.id and l.quantity > 0
          ) lot
      ) lots on true
      cross join lateral (
        select row_to_json(fields) as item
          from (
            select i.id as "id", i.description as "description", i.category as "category",
                   i.brand as "brand", i.department as "department", i.item_sku as "itemSku",
                   i.item_upc as "itemUpc", i.pack_size as "packSize",
                   i.qty_shipped::float8 as "qtyShipped", i.remaining_stock::float8 as "remainingStock",
                   coalesce(lots.expired_stock, 0)::float8 as "expiredStock",
                   i.sales_weekly::float8 as "salesWeekly", i.location as "location", i.aisle as "aisle",
                   i.row as "row", i.bin as "bin", i.earliest_expiry as "expirationDate",
                   i.unit_cost::float8 as "unitCost", i.vendor_cost::float8 as "vendorCost",
                   i.cust_cost_each::float8 as "custCostEach", i.unit_retail::float8 as "unitRetail",
                   i.advertising_flag as "advertisingFlag", i.order_type as "orderType",
                   i.vendor_id as "vendorId", i.reorder_point::float8 as "reorderPoint",
                   i.shelf_life_days as "shelfLifeDays",
                   -- As in 0010: out of stock > low stock > expiring (which includes expired) > in stock.
                   case
                     when i.remaining_stock <= 0 then 'out_of_stock'
                     when i.remaining_stock <= coalesce(i.reorder_point, p_low_threshold) then 'low_stock'
                     when i.earliest_expiry <= p_expiring_by then 'expiring'
                     else 'in_stock'
                   end as "status",
                   coalesce(lots.list, '[]'::json) as "lots",
                   to_char(i.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt",
                   to_char(i.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
          ) fields
      ) api
  );
end
$$;
