-- Items with their lots, read as the tenant and returned in the API's own shape (the `Item` of
-- inventory.schemas.ts: camelCase keys, numbers, ISO dates, the derived status), in place of
-- tenant_items_with_lots (0005), which returned table rows for the service to map.
--
-- Why: a CPU profile of the list benchmark put a third of the API's time in handling the page
-- three times over: parsing the function's JSON into row objects (pg's JSON.parse), mapping them
-- to API items (toItem), serialising those again, and the garbage of all three (17% in GC). With
-- the API shape built here, a list page is sent on as the text PostgreSQL produced, and every
-- other read parses it once. This function is now the one place an item's wire format is made;
-- inventory.test.ts checks it against the `Item` schema and field by field.
--
-- How it stays a tenant read: as in 0005, `set role = fresh_choice_app` runs the body as the app
-- role under the tenant_isolation policies, with `app.org_id` set (transaction-local) first. Rows
-- of another organisation are filtered out by RLS even if a caller passes their ids; deleted
-- items are left out too.
--
-- The status rule mirrors statusCondition (inventory.repository.ts), with the store's settings
-- passed in: out of stock > low stock (at or under the reorder point, else the store threshold) >
-- expiring (earliest expiry on or before p_expiring_by) > in stock.
-- Numerics go out as float8, so 10.000 is written 10 and 1.2500 is 1.25, as JavaScript writes
-- them; timestamps as UTC with milliseconds ("2026-11-24T08:05:15.811Z"), as Date#toISOString.
-- Objects are row_to_json of aliased columns, which writes compact JSON: json_build_object puts
-- " : " and ", " between keys and values, 13% more bytes on a 50-item page (46,067 against 40,820).
create function tenant_api_items(p_org uuid, p_ids uuid[], p_low_threshold numeric, p_expiring_by date)
  returns json
  language plpgsql
  set role = fresh_choice_app
  -- One plan for the body, kept for the session. Left to choose, PostgreSQL planned the body
  -- afresh on every call (a custom plan per id array): 0.43 ms for a one-item read, 0.20 ms with
  -- the generic plan, which is the same nested loop of index probes whatever the ids
  -- (pgbench, one client). Single-item reads (get, create, update, adjust, lookup) paid it each time.
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
        select json_agg(row_to_json(lot) order by lot."expirationDate" asc nulls last, lot."receivedDate", lot."id") as list
          from (
            select l.id as "id", l.lot_code as "lotCode", l.quantity::float8 as "quantity",
                   l.expiration_date as "expirationDate", l.received_date as "receivedDate",
                   l.unit_cost::float8 as "unitCost"
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
                   i.sales_weekly::float8 as "salesWeekly", i.location as "location", i.aisle as "aisle",
                   i.row as "row", i.bin as "bin", i.earliest_expiry as "expirationDate",
                   i.unit_cost::float8 as "unitCost", i.vendor_cost::float8 as "vendorCost",
                   i.cust_cost_each::float8 as "custCostEach", i.unit_retail::float8 as "unitRetail",
                   i.advertising_flag as "advertisingFlag", i.order_type as "orderType",
                   i.vendor_id as "vendorId", i.reorder_point::float8 as "reorderPoint",
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

drop function tenant_items_with_lots(uuid, uuid[]);
