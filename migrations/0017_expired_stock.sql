-- Stock past its expiry date, told apart from stock about to expire, in the item's wire format
-- (tenant_api_items, 0010): each lot says whether it has `expired`, and the item says how much of
-- its stock has (`expiredStock`). "Expired" is an expiry date before the store's today, which the
-- caller now passes (`p_today`, computed in the store's time zone by loadContext, the same date
-- `p_expiring_by` is counted from), so the two can never disagree about which day it is.
--
-- `status` keeps the spec's four values (ARCHITECTURE.md says why): stock past its date is still
-- within "on or before p_expiring_by", so an item above its low-stock line stays `expiring`, and
-- `expiredStock` > 0 says that some or all of it has already expired.
--
-- Cost on the list path: the flag is one comparison per lot and `expiredStock` one more aggregate
-- over the lot rows the function already reads for the item; nothing else is read.
--
-- The signature gains a parameter, so the old function is dropped and the new one created
-- (CREATE OR REPLACE cannot add one, and two overloads would make every 4-argument call
-- ambiguous). `p_today` defaults to current_date so that an instance of the previous release
-- still running during a rolling start keeps reading items (with the database's date, which can
-- differ from the store's by a day near midnight) until it is replaced; this release always
-- passes it.
drop function tenant_api_items(uuid, uuid[], numeric, date);

create function tenant_api_items(
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
