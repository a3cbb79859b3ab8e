import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tenant.ts';
import { PLACED } from './vendors.repository.ts';

/**
 * Vendor performance, computed from what happened: purchase orders (placed: sent, partly or wholly
 * received; never drafts or cancelled ones) and receipts. The definitions are the API's
 * (performance.schemas.ts describes each figure); this file is the only place that computes them.
 *
 * - An order is *due* once it is received (wholly or closed short) or its expected date has passed.
 * - It is *on time* when every line came in full (received ≥ ordered units) and the receipt that
 *   completed it is dated on or before the expected date.
 * - Fill rate: units received (at most the ordered units per line) ÷ units ordered, on due orders.
 * - Quality: 1 − (units refused + units received in short-dated lots) ÷ (units received + refused),
 *   over the vendor's receipt lines in the period, PO-based and direct.
 * - Response time: hours from sending to the vendor's acknowledgement, or to the first receipt
 *   when it never acknowledged.
 */

export interface PerformanceFigures {
  totalOrders: number;
  totalValue: number;
  averageOrderValue: number;
  onTimeDeliveryRate: number | null;
  fillRate: number | null;
  qualityScore: number | null;
  responseTime: number | null;
  dueOrders: number;
  unitsReceived: number;
  unitsRejected: number;
  unitsShortDated: number;
}

export interface MonthTrend {
  month: string;
  orders: number;
  value: number;
  deliveryScore: number | null;
  fillRate: number | null;
}

interface Row {
  vendor_id: string;
  metrics: PerformanceFigures;
  trends: MonthTrend[];
}

/**
 * Figures per vendor over orders placed from `from` to `to` (store days, inclusive) and receipts
 * dated in that span; `today` decides which orders are due. Months from `from`'s month to `to`'s
 * are all listed, empty ones with zeros and null rates.
 */
export async function vendorPerformance(
  db: Executor,
  orgId: string,
  vendorIds: readonly string[],
  period: { from: string; to: string; today: string },
): Promise<Map<string, { metrics: PerformanceFigures; trends: MonthTrend[] }>> {
  const { rows } = await sql<Row>`
    with vendor as (
      select unnest(${vendorIds}::uuid[]) as id
    ),
    placed as (
      select po.id, po.vendor_id, po.order_date, po.expected_date, po.subtotal, po.sent_at,
             coalesce(po.acknowledged_at, po.first_received_at) as answered_at,
             (po.status = 'received' or po.expected_date < ${period.today}::date) as due,
             lines.in_full, lines.ordered_units, lines.filled_units,
             done.completed_on
        from purchase_orders po
        cross join lateral (
          select coalesce(bool_and(l.received_units >= l.quantity_units), false) as in_full,
                 coalesce(sum(l.quantity_units), 0) as ordered_units,
                 coalesce(sum(least(l.received_units, l.quantity_units)), 0) as filled_units
            from purchase_order_lines l
           where l.purchase_order_id = po.id
        ) lines
        cross join lateral (
          select max(r.received_date) as completed_on from receipts r where r.purchase_order_id = po.id
        ) done
       where po.org_id = ${orgId}
         and po.vendor_id in (select id from vendor)
         and po.status = any(${[...PLACED]}::text[])
         and po.order_date between ${period.from}::date and ${period.to}::date
    ),
    graded as (
      select p.*, (p.due and p.in_full and p.completed_on <= p.expected_date) as on_time from placed p
    ),
    received as (
      select r.vendor_id,
             sum(rl.quantity_received) as units_received,
             sum(rl.quantity_rejected) as units_rejected,
             coalesce(sum(rl.quantity_received) filter (where rl.short_dated), 0) as units_short_dated
        from receipts r
        join receipt_lines rl on rl.receipt_id = r.id
       where r.org_id = ${orgId}
         and r.vendor_id in (select id from vendor)
         and r.received_date between ${period.from}::date and ${period.to}::date
       group by r.vendor_id
    ),
    months as (
      select to_char(month, 'YYYY-MM') as month
        from generate_series(date_trunc('month', ${period.from}::date), date_trunc('month', ${period.to}::date),
                             interval '1 month') as month
    )
    select v.id as vendor_id,
           jsonb_build_object(
             'totalOrders', coalesce(o.orders, 0),
             'totalValue', coalesce(o.value, 0),
             'averageOrderValue', coalesce(round(o.value / nullif(o.orders, 0), 2), 0),
             'onTimeDeliveryRate', round(100.0 * o.on_time / nullif(o.due, 0), 1),
             'fillRate', round(100.0 * o.filled_units / nullif(o.due_units, 0), 1),
             'qualityScore', round(100.0 * (1 - (rc.units_rejected + rc.units_short_dated)
                                                / nullif(rc.units_received + rc.units_rejected, 0)), 1),
             'responseTime', round(o.response_hours, 1),
             'dueOrders', coalesce(o.due, 0),
             'unitsReceived', coalesce(rc.units_received, 0),
             'unitsRejected', coalesce(rc.units_rejected, 0),
             'unitsShortDated', coalesce(rc.units_short_dated, 0)
           ) as metrics,
           (select jsonb_agg(jsonb_build_object(
                     'month', m.month,
                     'orders', coalesce(t.orders, 0),
                     'value', coalesce(t.value, 0),
                     'deliveryScore', round(100.0 * t.on_time / nullif(t.due, 0), 1),
                     'fillRate', round(100.0 * t.filled_units / nullif(t.due_units, 0), 1))
                   order by m.month)
              from months m
              left join lateral (
                select count(*) as orders, sum(g.subtotal) as value,
                       count(*) filter (where g.due) as due,
                       count(*) filter (where g.on_time) as on_time,
                       sum(g.filled_units) filter (where g.due) as filled_units,
                       sum(g.ordered_units) filter (where g.due) as due_units
                  from graded g
                 where g.vendor_id = v.id and to_char(g.order_date, 'YYYY-MM') = m.month
              ) t on true
           ) as trends
      from vendor v
      left join lateral (
        select count(*) as orders, sum(g.subtotal) as value,
               count(*) filter (where g.due) as due,
               count(*) filter (where g.on_time) as on_time,
               sum(g.filled_units) filter (where g.due) as filled_units,
               sum(g.ordered_units) filter (where g.due) as due_units,
               avg(extract(epoch from g.answered_at - g.sent_at) / 3600)
                 filter (where g.sent_at is not null and g.answered_at is not null) as response_hours
          from graded g
         where g.vendor_id = v.id
      ) o on true
      left join received rc on rc.vendor_id = v.id`.execute(db);
  return new Map(
    rows.map((row) => [
      row.vendor_id,
      // jsonb numbers arrive as JavaScript numbers (numeric(14,3) 12.000 as 12).
      { metrics: row.metrics, trends: row.trends ?? [] },
    ]),
  );
}
