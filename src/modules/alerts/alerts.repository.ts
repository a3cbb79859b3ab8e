import { type RawBuilder, sql } from 'kysely';
import type { AlertKind, AlertSeverity, AlertState } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/** Alerts SQL. Runs in tenant transactions; every query also filters by org_id. */

/** What decides whether an item is low or expiring: the store's settings as of today. */
export interface AlertRules {
  /** The store's today (its time zone), YYYY-MM-DD. */
  today: string;
  /** Stock expiring on or before this date is expiring: today + the store's expiryWarningDays. */
  expiringBy: string;
  /** The store's low stock threshold, for items without a reorder point. */
  lowStockThreshold: number;
}

export interface SyncScope {
  kinds: readonly AlertKind[];
  /** Only these items (the stock-change path, the job's locked set); all the store's without it. */
  itemIds?: readonly string[];
  /** Merged into every event's payload (a job's `source` and `jobId`). */
  extra?: Record<string, unknown>;
}

const ALERT_COLUMNS = [
  'id',
  'item_id',
  'kind',
  'severity',
  'state',
  'details',
  'opened_at',
  'updated_at',
  'acknowledged_at',
  'acknowledged_by',
  'resolved_at',
  'resolution',
] as const;

/** Severity order: an alert "gets worse" when its rank rises. */
const rank = (severity: RawBuilder<unknown>) =>
  sql`array_position(array['info', 'warning', 'critical']::text[], ${severity})`;

/**
 * The alerts each item should have now (one row per item and kind that qualifies), and the live
 * alerts it has: the CTEs `wanted`, `live`, `changes` (wanted rows that are new or differ from
 * the live one) and `gone` (live alerts nothing wants any more). Severity:
 * - low_stock: `critical` at or below 0, else `warning` (at or below the reorder point, else the
 *   store's threshold);
 * - expiry: `critical` when the earliest expiry with stock is before today, `warning` when it is
 *   today or tomorrow, else `info` (within the store's warning days).
 */
function desiredState(orgId: string, rules: AlertRules, scope: SyncScope) {
  const threshold = sql`coalesce(i.reorder_point, ${rules.lowStockThreshold}::numeric)`;
  const branches: Array<RawBuilder<unknown>> = [];
  if (scope.kinds.includes('low_stock')) {
    branches.push(sql`
      select 'low_stock'::text as kind,
             case when i.remaining_stock <= 0 then 'critical' else 'warning' end::text as severity,
             jsonb_build_object(
               'itemId', i.id, 'itemName', i.description, 'currentStock', i.remaining_stock,
               'threshold', ${threshold}, 'category', i.category, 'location', i.location) as details
       where i.remaining_stock <= ${threshold}`);
  }
  if (scope.kinds.includes('expiry')) {
    branches.push(sql`
      select 'expiry'::text as kind,
             case when i.earliest_expiry < ${rules.today}::date then 'critical'
                  when i.earliest_expiry <= ${rules.today}::date + 1 then 'warning'
                  else 'info' end::text as severity,
             jsonb_build_object(
               'itemId', i.id, 'itemName', i.description, 'expiryDate', i.earliest_expiry,
               'daysUntilExpiry', i.earliest_expiry - ${rules.today}::date,
               'currentStock', i.remaining_stock) as details
       where i.remaining_stock > 0 and i.earliest_expiry <= ${rules.expiringBy}::date`);
  }
  const itemFilter = (column: string) =>
    scope.itemIds ? sql`and ${sql.ref(column)} = any(${[...scope.itemIds]}::uuid[])` : sql``;
  return sql`
    wanted as (
      select i.id as item_id, k.kind, k.severity, k.details
        from inventory_items i
        cross join lateral (${sql.join(branches, sql` union all `)}) k
       where i.org_id = ${orgId} and i.deleted_at is null ${itemFilter('i.id')}
    ),
    live as (
      select a.id, a.item_id, a.kind, a.severity, a.details
        from alerts a
       where a.org_id = ${orgId} and a.state <> 'resolved'
         and a.kind = any(${[...scope.kinds]}::text[]) ${itemFilter('a.item_id')}
    ),
    changes as (
      select w.item_id, w.kind, w.severity, w.details, l.id as live_id, l.severity as old_severity
        from wanted w
        left join live l on l.item_id = w.item_id and l.kind = w.kind
       where l.id is null or l.severity <> w.severity or l.details <> w.details
    ),
    gone as (
      select l.id, l.item_id, l.kind
        from live l
       where not exists (select 1 from wanted w where w.item_id = l.item_id and w.kind = l.kind)
    )`;
}

/**
 * What a store-wide run would change, without changing it: the items whose alerts would open,
 * change or resolve (for the caller to lock), and how many items qualify now.
 */
export async function pendingAlertChanges(db: Executor, orgId: string, rules: AlertRules, scope: SyncScope) {
  const { rows } = await sql<{ item_ids: string[] | null; qualifying: string | number }>`
    with ${desiredState(orgId, rules, scope)}
    select (select array_agg(distinct d.item_id order by d.item_id)
              from (select item_id from changes union all select item_id from gone) d) as item_ids,
           (select count(*) from wanted) as qualifying`.execute(db);
  const row = rows[0]!;
  return { itemIds: row.item_ids ?? [], qualifying: Number(row.qualifying) };
}

/** Locks items (FOR UPDATE, id order, deleted ones too) so no stock change runs while their alerts are set. */
export async function lockItems(db: Executor, orgId: string, itemIds: readonly string[]) {
  await sql`
    select id from inventory_items
     where org_id = ${orgId} and id = any(${[...itemIds]}::uuid[])
     order by id
       for update`.execute(db);
}

/**
 * One statement: opens the alerts items now qualify for, updates live ones whose severity or
 * details changed (an acknowledged one whose severity rises goes back to open), resolves those
 * no longer qualifying (`replenished`, `expiring_stock_gone`, `item_deleted`), and writes an
 * outbox event for each alert opened, escalated or resolved — not for other changes. The callers
 * hold the items' row locks, so what it reads as live is what it writes over.
 */
export async function syncAlerts(db: Executor, orgId: string, rules: AlertRules, scope: SyncScope) {
  const extra = JSON.stringify(scope.extra ?? {});
  const { rows } = await sql<{
    opened: string | number;
    escalated: string | number;
    resolved: string | number;
  }>`
    with ${desiredState(orgId, rules, scope)},
    upserted as (
      insert into alerts as a (org_id, item_id, kind, severity, details)
      select ${orgId}, c.item_id, c.kind, c.severity, c.details from changes c
      on conflict (org_id, item_id, kind) where state <> 'resolved' do update
         set severity = excluded.severity,
             details = excluded.details,
             updated_at = now(),
             state = case when ${rank(sql`excluded.severity`)} > ${rank(sql`a.severity`)} then 'open' else a.state end,
             acknowledged_at = case when ${rank(sql`excluded.severity`)} > ${rank(sql`a.severity`)} then null else a.acknowledged_at end,
             acknowledged_by = case when ${rank(sql`excluded.severity`)} > ${rank(sql`a.severity`)} then null else a.acknowledged_by end
      returning a.id, a.item_id, a.kind, a.severity, a.state, a.details
    ),
    outcome as (
      select u.id, u.item_id, u.kind, u.severity, u.state, u.details, c.old_severity,
             c.live_id is null as opened,
             c.live_id is not null and ${rank(sql`u.severity`)} > ${rank(sql`c.old_severity`)} as escalated
        from upserted u
        join changes c on c.item_id = u.item_id and c.kind = u.kind
    ),
    resolved as (
      update alerts a
         set state = 'resolved', resolved_at = now(), updated_at = now(),
             resolution = case when i.deleted_at is not null then 'item_deleted'
                               when a.kind = 'low_stock' then 'replenished'
                               else 'expiring_stock_gone' end
        from gone g
        join inventory_items i on i.id = g.item_id and i.org_id = ${orgId}
       where a.id = g.id and a.org_id = ${orgId}
      returning a.id, a.item_id, a.kind, a.resolution, a.details
    ),
    events as (
      insert into outbox_events (org_id, type, payload)
      select ${orgId}, e.type, e.payload
        from (
          select 1 as step, r.item_id, r.kind, 'alert:resolved' as type,
                 jsonb_build_object('alertId', r.id, 'kind', r.kind, 'itemId', r.item_id,
                                    'itemName', r.details -> 'itemName', 'resolution', r.resolution)
                   || ${extra}::jsonb as payload
            from resolved r
          union all
          select 2, o.item_id, o.kind,
                 case o.kind when 'low_stock' then 'alert:low_stock' else 'alert:expiry_warning' end,
                 o.details
                   || jsonb_build_object('alertId', o.id, 'kind', o.kind, 'severity', o.severity, 'state', o.state)
                   || case when o.escalated then jsonb_build_object('previousSeverity', o.old_severity)
                           else '{}'::jsonb end
                   || ${extra}::jsonb
            from outcome o
           where o.opened or o.escalated
        ) e
       order by e.step, e.item_id, e.kind
    )
    select (select count(*) from outcome where opened) as opened,
           (select count(*) from outcome where escalated) as escalated,
           (select count(*) from resolved) as resolved`.execute(db);
  const row = rows[0]!;
  return { opened: Number(row.opened), escalated: Number(row.escalated), resolved: Number(row.resolved) };
}

export interface AlertFilters {
  kind?: AlertKind | undefined;
  state: AlertState | 'live' | 'all';
  severity?: AlertSeverity | undefined;
  itemId?: string | undefined;
  page: number;
  limit: number;
}

export async function listAlerts(db: Executor, orgId: string, filters: AlertFilters) {
  let query = db.selectFrom('alerts').where('org_id', '=', orgId);
  if (filters.state === 'live') query = query.where('state', '<>', 'resolved');
  else if (filters.state !== 'all') query = query.where('state', '=', filters.state);
  if (filters.kind) query = query.where('kind', '=', filters.kind);
  if (filters.severity) query = query.where('severity', '=', filters.severity);
  if (filters.itemId) query = query.where('item_id', '=', filters.itemId);
  const [rows, count] = await Promise.all([
    query
      .select(ALERT_COLUMNS)
      .orderBy('opened_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filters.limit)
      .offset((filters.page - 1) * filters.limit)
      .execute(),
    query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.count) };
}

export async function findAlert(db: Executor, orgId: string, id: string) {
  return db
    .selectFrom('alerts')
    .select(ALERT_COLUMNS)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export type AlertRow = NonNullable<Awaited<ReturnType<typeof findAlert>>>;

/** Acknowledges an open alert; undefined when it is not open (or not there). */
export async function acknowledgeOpen(db: Executor, orgId: string, id: string, userId: string) {
  return db
    .updateTable('alerts')
    .set({
      state: 'acknowledged',
      acknowledged_at: new Date(),
      acknowledged_by: userId,
      updated_at: new Date(),
    })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('state', '=', 'open')
    .returning(ALERT_COLUMNS)
    .executeTakeFirst();
}
