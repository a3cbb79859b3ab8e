import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tenant.ts';

/**
 * What a store backup holds: the store's own rows, table by table, in an order a restore can
 * insert them in (a row after the rows it refers to). Secrets and derived or transient rows are
 * left out (NOT_BACKED_UP says which and why); password hashes are dropped from the users (a
 * restored member sets a new password).
 */
export const BACKUP_TABLES = [
  { table: 'organizations', key: 'id', store: 'id', omit: [] },
  { table: 'users', key: 'id', store: 'org_id', omit: ['password_hash'] },
  { table: 'vendors', key: 'id', store: 'org_id', omit: [] },
  // File metadata (the bytes stay in storage): invoices point at their file.
  { table: 'files', key: 'id', store: 'org_id', omit: [] },
  { table: 'inventory_items', key: 'id', store: 'org_id', omit: [] },
  { table: 'inventory_lots', key: 'id', store: 'org_id', omit: [] },
  { table: 'stock_movements', key: 'id', store: 'org_id', omit: [] },
  { table: 'item_changes', key: 'id', store: 'org_id', omit: [] },
  { table: 'vendor_products', key: 'id', store: 'org_id', omit: [] },
  // One row per store (its key is the store): the next purchase-order number.
  { table: 'purchase_order_counters', key: 'org_id', store: 'org_id', omit: [] },
  { table: 'purchase_orders', key: 'id', store: 'org_id', omit: [] },
  { table: 'purchase_order_lines', key: 'id', store: 'org_id', omit: [] },
  { table: 'receipts', key: 'id', store: 'org_id', omit: [] },
  { table: 'receipt_lines', key: 'id', store: 'org_id', omit: [] },
  { table: 'promotions', key: 'id', store: 'org_id', omit: [] },
  { table: 'invoices', key: 'id', store: 'org_id', omit: [] },
  { table: 'invoice_lines', key: 'id', store: 'org_id', omit: [] },
  { table: 'invoice_adjustments', key: 'id', store: 'org_id', omit: [] },
  // What the store taught the extractor about each vendor (one row per vendor).
  { table: 'vendor_invoice_hints', key: 'vendor_id', store: 'org_id', omit: [] },
  { table: 'shopping_lists', key: 'id', store: 'org_id', omit: [] },
  { table: 'shopping_list_items', key: 'id', store: 'org_id', omit: [] },
  { table: 'alerts', key: 'id', store: 'org_id', omit: [] },
  { table: 'anomalies', key: 'id', store: 'org_id', omit: [] },
  { table: 'notifications', key: 'id', store: 'org_id', omit: [] },
  { table: 'audit_events', key: 'id', store: 'org_id', omit: [] },
  { table: 'job_schedules', key: 'id', store: 'org_id', omit: [] },
] as const;

/**
 * Store tables a backup leaves out, and why. Every table with an `org_id` is in one list or the
 * other (a test checks), so a new table cannot be forgotten silently.
 */
export const NOT_BACKED_UP: Readonly<Record<string, string>> = {
  refresh_tokens: 'sign-in secrets',
  one_time_tokens: 'sign-in secrets',
  push_subscriptions: "browsers' push keys: a restored member subscribes again",
  mail_outbox: 'mail bodies carry tokens',
  outbox_events: 'transient event outbox',
  outbox_delivery: 'transient event outbox',
  idempotency_keys: 'transient',
  job_progress: 'transient',
  inventory_search_words: 'rebuilt from the items',
  inventory_item_counts: 'rebuilt from the items',
  item_forecasts: 'recomputed by the nightly forecast job',
  vendor_performance_snapshots: 'recomputed by the weekly analysis',
  anomaly_detection_runs: 'bookkeeping of the nightly detection',
  notification_preferences: "members' push and digest choices, set again after a restore",
  notification_digests: 'bookkeeping of the daily digest',
};

export type BackupTable = (typeof BACKUP_TABLES)[number];

/** The next `limit` rows of a table after key `after` (every table's key is a uuid), as JSON. */
export async function readBatch(
  db: Executor,
  spec: BackupTable,
  orgId: string,
  after: string | null,
  limit: number,
): Promise<Array<{ key: string; row: Record<string, unknown> }>> {
  const table = sql.table(spec.table);
  const key = sql.ref(`t.${spec.key}`);
  const store = sql.ref(`t.${spec.store}`);
  const omitted =
    spec.omit.length > 0 ? sql`- ${sql.raw(`array[${spec.omit.map((c) => `'${c}'`).join(',')}]`)}` : sql``;
  const { rows } = await sql<{ key: string; row: Record<string, unknown> }>`
    select ${key}::text as key, to_jsonb(t) ${omitted} as row
      from ${table} t
     where ${store} = ${orgId} and (${after}::uuid is null or ${key} > ${after}::uuid)
     order by ${key}
     limit ${limit}`.execute(db);
  return rows;
}
