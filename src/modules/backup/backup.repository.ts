import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tenant.ts';

/**
 * What a store backup holds: the store's own rows, table by table, in an order a restore can
 * insert them in. Secrets and derived or transient rows are left out: sign-in tokens and password
 * hashes (a restored member sets a new password), mail bodies (they carry tokens), the event
 * outbox and idempotency keys (transient), search words and counts (rebuilt from the items).
 */
export const BACKUP_TABLES = [
  { table: 'organizations', key: 'id', store: 'id', omit: [] },
  { table: 'users', key: 'id', store: 'org_id', omit: ['password_hash'] },
  { table: 'vendors', key: 'id', store: 'org_id', omit: [] },
  { table: 'inventory_items', key: 'id', store: 'org_id', omit: [] },
  { table: 'inventory_lots', key: 'id', store: 'org_id', omit: [] },
  { table: 'stock_movements', key: 'id', store: 'org_id', omit: [] },
  { table: 'item_changes', key: 'id', store: 'org_id', omit: [] },
  { table: 'audit_events', key: 'id', store: 'org_id', omit: [] },
  { table: 'job_schedules', key: 'id', store: 'org_id', omit: [] },
] as const;

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
