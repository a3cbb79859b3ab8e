import { sql } from 'kysely';
import type { AnomalySeverity, AnomalyType, StoredForecastPoint } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/** Anomalies SQL: the figures the detectors judge, storing what they find, the alerts, the list. */

export interface DemandDayRow {
  item_id: string;
  description: string;
  day: string | Date;
  sold: string | number;
  stock_start: string | null;
  stock_end: string | null;
  forecast: StoredForecastPoint | null;
  same_weekday: Array<string | number>;
}

/**
 * Each item's units sold on each store day from `from` to `to`, whether it was out of stock at
 * the day's start or end, the stored forecast's point for the day when the forecast began before
 * it, and the units sold on the same weekday in the 8 weeks before (only weeks since the item's
 * first stock movement, so a new item is not compared with days it did not exist). Items without
 * a sale in the period and those 8 weeks are skipped: they have nothing to judge.
 */
export async function demandDays(db: Executor, orgId: string, from: string, to: string, timeZone: string) {
  const { rows } = await sql<DemandDayRow>`
    with days as (
      select d::date as day from generate_series(${from}::date, ${to}::date, interval '1 day') d
    ),
    sales as (
      select m.item_id, (m.occurred_at at time zone ${timeZone})::date as day, -sum(m.quantity) as sold
        from stock_movements m
       where m.org_id = ${orgId} and m.type = 'sale'
         and m.occurred_at >= ((${from}::date - 56)::timestamp at time zone ${timeZone})
         and m.occurred_at < ((${to}::date + 1)::timestamp at time zone ${timeZone})
       group by 1, 2
    ),
    active as (
      select i.id, i.description,
             (select (min(m.occurred_at) at time zone ${timeZone})::date from stock_movements m
               where m.item_id = i.id and m.org_id = ${orgId}) as first_day
        from inventory_items i
       where i.org_id = ${orgId} and i.deleted_at is null
         and exists (select 1 from sales s where s.item_id = i.id)
    )
    select a.id as item_id, a.description, d.day,
           coalesce(s.sold, 0) as sold,
           (select m.stock_after from stock_movements m
             where m.item_id = a.id and m.org_id = ${orgId}
               and m.occurred_at < (d.day::timestamp at time zone ${timeZone})
             order by m.occurred_at desc, m.seq desc limit 1) as stock_start,
           (select m.stock_after from stock_movements m
             where m.item_id = a.id and m.org_id = ${orgId}
               and m.occurred_at < ((d.day + 1)::timestamp at time zone ${timeZone})
             order by m.occurred_at desc, m.seq desc limit 1) as stock_end,
           (select p from item_forecasts f cross join jsonb_array_elements(f.points) p
             where f.org_id = ${orgId} and f.item_id = a.id and f.history_through < d.day
               and p ->> 'date' = to_char(d.day, 'YYYY-MM-DD')
             limit 1) as forecast,
           array(select coalesce((select s2.sold from sales s2 where s2.item_id = a.id and s2.day = d.day - 7 * w), 0)
                   from generate_series(1, 8) w
                  where d.day - 7 * w >= a.first_day
                  order by w) as same_weekday
      from active a
      cross join days d
      left join sales s on s.item_id = a.id and s.day = d.day
     order by a.id, d.day`.execute(db);
  return rows;
}

export interface ReceiptCostRow {
  receipt_line_id: string;
  item_id: string;
  description: string;
  vendor_id: string | null;
  vendor_name: string | null;
  received_date: string | Date;
  unit_cost: string;
  earlier_costs: Array<string | number>;
}

/**
 * Receipt lines with a unit cost dated from `from` on, each with the unit costs of the item's
 * 10 latest earlier receipt lines (received before it, within the year before).
 */
export async function receiptCosts(db: Executor, orgId: string, from: string) {
  const { rows } = await sql<ReceiptCostRow>`
    select rl.id as receipt_line_id, rl.item_id, i.description, r.vendor_id, v.name as vendor_name,
           r.received_date, rl.unit_cost,
           array(select e.unit_cost from receipt_lines e join receipts er on er.id = e.receipt_id
                  where e.org_id = ${orgId} and e.item_id = rl.item_id and e.unit_cost is not null
                    and e.id <> rl.id
                    and (er.received_at, e.id) < (r.received_at, rl.id)
                    and er.received_at >= r.received_at - interval '365 days'
                  order by er.received_at desc, e.id desc
                  limit 10) as earlier_costs
      from receipt_lines rl
      join receipts r on r.id = rl.receipt_id
      join inventory_items i on i.id = rl.item_id and i.deleted_at is null
      left join vendors v on v.id = r.vendor_id
     where rl.org_id = ${orgId} and rl.unit_cost is not null
       and r.received_date >= ${from}::date
     order by rl.id`.execute(db);
  return rows;
}

export interface QualityRow {
  item_id: string;
  description: string;
  vendor_id: string;
  vendor_name: string;
  recent_waste: string | number;
  recent_events: string | number;
  recent_received: string | number;
  earlier_waste: string | number;
  earlier_received: string | number;
}

/**
 * Per item and vendor: units of the vendor's lots (a lot's receipt line names its receipt and so
 * its vendor) wasted as damaged or spoiled, and units received from it, in the 30 days to
 * `today` (recent) and the 90 before (earlier). Only pairs with damaged/spoiled waste recently.
 */
export async function qualityFigures(db: Executor, orgId: string, today: string, timeZone: string) {
  const recentFrom = sql`((${today}::date - 29)::timestamp at time zone ${timeZone})`;
  const earlierFrom = sql`((${today}::date - 119)::timestamp at time zone ${timeZone})`;
  const { rows } = await sql<QualityRow>`
    with wasted as (
      select m.id as movement_id, m.item_id, r.vendor_id, -(lot.value ->> 'quantity')::numeric as units,
             m.occurred_at >= ${recentFrom} as recent
        from stock_movements m
        cross join lateral jsonb_array_elements(m.lots) lot
        join receipt_lines rl on rl.lot_id = (lot.value ->> 'lotId')::uuid and rl.org_id = ${orgId}
        join receipts r on r.id = rl.receipt_id and r.vendor_id is not null
       where m.org_id = ${orgId} and m.type = 'waste' and m.reason in ('damaged', 'spoiled')
         and m.occurred_at >= ${earlierFrom}
    ),
    waste as (
      select item_id, vendor_id,
             coalesce(sum(units) filter (where recent), 0) as recent_waste,
             count(distinct movement_id) filter (where recent) as recent_events,
             coalesce(sum(units) filter (where not recent), 0) as earlier_waste
        from wasted
       group by item_id, vendor_id
      having count(*) filter (where recent) > 0
    )
    select w.item_id, i.description, w.vendor_id, v.name as vendor_name,
           w.recent_waste, w.recent_events, w.earlier_waste,
           coalesce(rc.recent_received, 0) as recent_received,
           coalesce(rc.earlier_received, 0) as earlier_received
      from waste w
      join inventory_items i on i.id = w.item_id and i.deleted_at is null
      join vendors v on v.id = w.vendor_id
      left join lateral (
        select sum(rl.quantity_received) filter (where r.received_at >= ${recentFrom}) as recent_received,
               sum(rl.quantity_received) filter (where r.received_at < ${recentFrom}) as earlier_received
          from receipt_lines rl
          join receipts r on r.id = rl.receipt_id
         where rl.org_id = ${orgId} and rl.item_id = w.item_id and r.vendor_id = w.vendor_id
           and r.received_at >= ${earlierFrom}
      ) rc on true
     order by w.item_id, w.vendor_id`.execute(db);
  return rows;
}

export interface NewAnomaly {
  itemId: string;
  type: AnomalyType;
  severity: AnomalySeverity;
  dedupeKey: string;
  observedOn: string;
  vendorId: string | null;
  description: string;
  suggestedActions: string[];
  details: Record<string, unknown>;
}

/** Stores the anomalies not stored before (by type, item and dedupe key); returns those it stored. */
export async function storeAnomalies(db: Executor, orgId: string, anomalies: readonly NewAnomaly[]) {
  if (anomalies.length === 0) return [];
  return db
    .insertInto('anomalies')
    .values(
      anomalies.map((anomaly) => ({
        org_id: orgId,
        item_id: anomaly.itemId,
        type: anomaly.type,
        severity: anomaly.severity,
        dedupe_key: anomaly.dedupeKey,
        observed_on: anomaly.observedOn,
        vendor_id: anomaly.vendorId,
        description: anomaly.description,
        suggested_actions: JSON.stringify(anomaly.suggestedActions),
        details: JSON.stringify(anomaly.details),
      })),
    )
    .onConflict((conflict) => conflict.columns(['org_id', 'type', 'item_id', 'dedupe_key']).doNothing())
    .returning(['id', 'item_id', 'type', 'severity', 'description', 'detected_at'])
    .execute();
}

export type StoredAnomaly = Awaited<ReturnType<typeof storeAnomalies>>[number];

/**
 * Opens (or updates) the item's live `anomaly` alert for a high anomaly and links the anomaly to
 * it. Returns the alert and whether it was opened now (an open one only takes the new details).
 */
export async function raiseAnomalyAlert(
  db: Executor,
  orgId: string,
  anomaly: StoredAnomaly,
  details: Record<string, unknown>,
) {
  // xmax = 0: the row was inserted by this statement, not updated.
  const { rows } = await sql<{ id: string; state: string; opened: boolean }>`
    insert into alerts as a (org_id, item_id, kind, severity, details)
    values (${orgId}, ${anomaly.item_id}, 'anomaly', 'critical', ${JSON.stringify(details)}::jsonb)
    on conflict (org_id, item_id, kind) where state <> 'resolved' do update
       set details = excluded.details, updated_at = now()
    returning a.id, a.state, (a.xmax = 0) as opened`.execute(db);
  const alert = rows[0]!;
  await db
    .updateTable('anomalies')
    .set({ alert_id: alert.id })
    .where('org_id', '=', orgId)
    .where('id', '=', anomaly.id)
    .execute();
  return alert;
}

/** Resolves live `anomaly` alerts whose item has had no high anomaly detected since `since`. */
export async function resolveQuietAnomalyAlerts(db: Executor, orgId: string, since: Date) {
  const { rows } = await sql<{ id: string; item_id: string; details: Record<string, unknown> }>`
    update alerts a
       set state = 'resolved', resolved_at = now(), updated_at = now(), resolution = 'anomaly_passed'
     where a.org_id = ${orgId} and a.kind = 'anomaly' and a.state <> 'resolved'
       and not exists (
         select 1 from anomalies n
          where n.org_id = ${orgId} and n.item_id = a.item_id and n.severity = 'high'
            and n.detected_at >= ${since}
       )
    returning a.id, a.item_id, a.details`.execute(db);
  return rows;
}

export async function itemStock(db: Executor, orgId: string, itemIds: readonly string[]) {
  if (itemIds.length === 0) return new Map<string, number>();
  const rows = await db
    .selectFrom('inventory_items')
    .select(['id', 'remaining_stock'])
    .where('org_id', '=', orgId)
    .where('id', 'in', [...itemIds])
    .execute();
  return new Map(rows.map((row) => [row.id, Number(row.remaining_stock)]));
}

export async function lastRun(db: Executor, orgId: string) {
  const row = await db
    .selectFrom('anomaly_detection_runs')
    .select('last_run_at')
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return row ? new Date(row.last_run_at) : null;
}

export async function recordRun(db: Executor, orgId: string, summary: Record<string, unknown>) {
  await db
    .insertInto('anomaly_detection_runs')
    .values({ org_id: orgId, last_run_at: new Date(), summary: JSON.stringify(summary) })
    .onConflict((conflict) =>
      conflict.column('org_id').doUpdateSet({ last_run_at: new Date(), summary: JSON.stringify(summary) }),
    )
    .execute();
}

export interface AnomalyFilters {
  type?: AnomalyType | undefined;
  severity?: AnomalySeverity | undefined;
  itemId?: string | undefined;
  since?: string | undefined;
  page: number;
  limit: number;
}

export async function listAnomalies(db: Executor, orgId: string, filters: AnomalyFilters) {
  let query = db
    .selectFrom('anomalies as n')
    .innerJoin('inventory_items as i', 'i.id', 'n.item_id')
    .where('n.org_id', '=', orgId);
  if (filters.type) query = query.where('n.type', '=', filters.type);
  if (filters.severity) query = query.where('n.severity', '=', filters.severity);
  if (filters.itemId) query = query.where('n.item_id', '=', filters.itemId);
  if (filters.since) query = query.where('n.detected_at', '>=', new Date(filters.since));
  const [rows, count] = await Promise.all([
    query
      .select([
        'n.id',
        'n.type',
        'n.item_id',
        'i.description as item_name',
        'n.severity',
        'n.description',
        'n.detected_at',
        'n.observed_on',
        'n.vendor_id',
        'n.suggested_actions',
        'n.details',
        'n.state',
        'n.alert_id',
      ])
      .orderBy('n.detected_at', 'desc')
      .orderBy('n.id', 'desc')
      .limit(filters.limit)
      .offset((filters.page - 1) * filters.limit)
      .execute(),
    query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.count) };
}
