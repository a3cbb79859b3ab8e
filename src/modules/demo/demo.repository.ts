import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tenant.ts';

/**
 * A ledger row of the demo store, in the short form its set-based insert reads (see insertLedger):
 * the item, what happened, how much, the stock before, the day, the lots touched, and for a
 * receipt its unit cost. Everything else in the row follows from these.
 */
export interface DemoLedgerRow {
  /** id: made in Node (timeOrderedId), as the column's uuid_v7() default would make it in SQL. */
  id: string;
  /** item_id */
  i: string;
  t: 'receipt' | 'sale' | 'waste';
  /** quantity, signed */
  q: number;
  /** stock_before */
  b: number;
  /** The day, YYYY-MM-DD. */
  d: string;
  /** lots: [{lotId, quantity}], signed like q. */
  l: Array<{ lotId: string; quantity: number }>;
  /** unit_cost, receipts only. */
  u?: number;
}

/**
 * Rows of the demo store's ledger in one statement (the seed sends 5,000 at a time, in order):
 * they travel as one JSON parameter, read by jsonb_to_recordset in the order given, so `seq`
 * (drawn per row as it is inserted, migration 0016) rises through each item's rows in the order
 * they happened, as it would have had they been written one by one. The columns the short form leaves out are derived here, the same way for
 * every row: a sale is `sold`, at 17:00 UTC, by no user, as the POS's daily total; a receipt is
 * `received`, at 07:00, by the manager; waste is `expired`, at 06:00, by the manager; stock_after
 * is stock_before plus the quantity. Against the multi-row VALUES lists of 4,000 rows this
 * replaced, the text is fixed and short, and the JSON is half of what full column names would
 * spell out (on the embedded database, reading 60,000 rows of JSON is a fifth of the statement's
 * CPU). The ids come with the rows: uuid_v7() per row was another 0.6 s there.
 */
export async function insertLedger(db: Executor, orgId: string, managerId: string, rows: DemoLedgerRow[]) {
  await sql`
    insert into stock_movements (id, org_id, item_id, type, reason, quantity, stock_before, stock_after, lots,
                                 unit_cost, user_id, notes, occurred_at)
    select r.id, ${orgId}::uuid, r.i, r.t,
           case r.t when 'sale' then 'sold' when 'receipt' then 'received' else 'expired' end,
           r.q, r.b, r.b + r.q, r.l, r.u,
           case when r.t = 'sale' then null else ${managerId}::uuid end,
           case when r.t = 'sale' then 'Daily POS total' end,
           (r.d + case r.t when 'sale' then time '17:00' when 'receipt' then time '07:00' else time '06:00' end)
             at time zone 'UTC'
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as r (id uuid, i uuid, t text, q numeric, b numeric, d date, l jsonb, u numeric)`.execute(db);
}

/** What a bulk load sets aside (see withChecksAfterLoad): the tables' foreign keys and plain indexes. */
async function setAside(db: Executor, tables: readonly string[]) {
  const relations = tables.map((table) => `public.${table}`);
  const { rows: keys } = await sql<{ table: string; name: string; definition: string }>`
    select c.conrelid::regclass::text as table, c.conname as name, pg_get_constraintdef(c.oid) as definition
      from pg_constraint c
     where c.contype = 'f' and c.conrelid = any (${relations}::regclass[])
     order by 1, 2`.execute(db);
  // Indexes that back no constraint (primary keys and unique constraints stay: foreign keys
  // elsewhere may rest on them).
  const { rows: indexes } = await sql<{ name: string; definition: string }>`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
      from pg_index i
     where i.indrelid = any (${relations}::regclass[])
       and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
     order by 1`.execute(db);
  return { keys, indexes };
}

/**
 * Loads rows into empty tables the way pg_restore does: their foreign keys and plain indexes are
 * taken off, `load` runs, then each index is built once over all the rows and each foreign key is
 * added back exactly as it was declared, which checks every row in one join. With them in place,
 * each inserted row was checked on its own (a trigger running a query per row) and put into
 * every index one at a time: on the embedded database, 3 and about 1 s of the demo ledger's 7 s
 * of CPU. The guarantee is the same: a row without its item (or user, or lot's item) makes the
 * ADD fail, and the transaction with it. Only in a transaction, for tables nobody else is using
 * (a fresh embedded database: PGlite is one session): the keys and indexes come back with the
 * rows or not at all, and DROP takes each table's exclusive lock until commit.
 */
export async function withChecksAfterLoad<T>(
  trx: Executor,
  tables: readonly string[],
  load: () => Promise<T>,
): Promise<T> {
  const { keys, indexes } = await setAside(trx, tables);
  for (const key of keys)
    await sql`alter table ${sql.table(key.table)} drop constraint ${sql.id(key.name)}`.execute(trx);
  for (const index of indexes) await sql`drop index ${sql.table(index.name)}`.execute(trx);
  const result = await load();
  for (const index of indexes) await sql.raw(index.definition).execute(trx);
  for (const key of keys) {
    await sql`alter table ${sql.table(key.table)} add constraint ${sql.id(key.name)} ${sql.raw(key.definition)}`.execute(
      trx,
    );
  }
  return result;
}
/** Whether none of these tables holds a row yet (the demo store going into a fresh database). */
export async function tablesEmpty(db: Executor, tables: readonly string[]): Promise<boolean> {
  const probes = tables.map((table) => sql`select 1 from ${sql.table(table)}`);
  const { rows } = await sql<{ empty: boolean }>`
    select not exists (${sql.join(probes, sql` union all `)}) as empty`.execute(db);
  return rows[0]!.empty;
}

/** A demo store member by e-mail: whom the demo jobs act as. */
export async function demoMember(db: Executor, orgId: string, email: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'role'])
    .where('org_id', '=', orgId)
    .where('email', '=', email)
    .executeTakeFirst();
}

/**
 * A vendor of the demo store by name, with the newest order line of each of its items that came
 * in whole (nothing refused), by vendor SKU: what its sample invoices bill, so they match the
 * catalogue and the three-way match finds the order and receipt behind each line.
 */
export async function demoVendorOrderLines(db: Executor, orgId: string, vendorName: string) {
  const vendor = await db
    .selectFrom('vendors')
    .select(['id', 'payment_terms'])
    .where('org_id', '=', orgId)
    .where('name', '=', vendorName)
    .executeTakeFirst();
  if (!vendor) return undefined;
  const lines = await sql<{ vendor_sku: string; description: string; quantity: string; unit_cost: string }>`
    select vendor_sku, description, quantity, unit_cost from (
      select distinct on (l.item_id) l.vendor_sku, l.description, l.quantity_units as quantity,
             l.unit_cost, l.rejected_units
        from purchase_order_lines l
        join purchase_orders o on o.id = l.purchase_order_id
       where l.org_id = ${orgId} and o.vendor_id = ${vendor.id}
         and o.status in ('sent', 'partially_received', 'received')
       order by l.item_id, o.order_date desc, o.number desc) newest
     where rejected_units = 0 and vendor_sku is not null
     order by vendor_sku`.execute(db);
  return { vendorId: vendor.id, paymentTerms: vendor.payment_terms, lines: lines.rows };
}
