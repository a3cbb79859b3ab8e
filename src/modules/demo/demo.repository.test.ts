import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/database.ts';
import type { Database } from '../../platform/db/database.ts';
import { tablesEmpty, withChecksAfterLoad } from './demo.repository.ts';
import { seedDemo } from './demo.seed.ts';

const BULK_TABLES = ['inventory_lots', 'stock_movements', 'item_changes'];

/** Every index and constraint of the schema, as PostgreSQL would write them. */
async function schemaOf(database: Database) {
  const { rows: indexes } = await sql<{ name: string; definition: string }>`
    select indexname as name, indexdef as definition from pg_indexes where schemaname = 'public' order by 1`.execute(
    database.db,
  );
  const { rows: constraints } = await sql<{
    table: string;
    name: string;
    definition: string;
    valid: boolean;
  }>`
    select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition,
           convalidated as valid
      from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`.execute(database.db);
  return { indexes, constraints };
}

describe('loading into empty tables with their checks set aside', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());

  it('puts back every key and index, and a row that breaks one fails the load with nothing kept', async () => {
    const before = await schemaOf(t.database);
    expect(await tablesEmpty(t.database.db, BULK_TABLES)).toBe(true);
    // A lot of an item that does not exist: its foreign key, checked when it is added back, fails.
    const failed = t.database.db
      .transaction()
      .execute((trx) =>
        withChecksAfterLoad(trx, BULK_TABLES, () =>
          trx
            .insertInto('inventory_lots')
            .values({ org_id: randomUUID(), item_id: randomUUID(), quantity: '1', initial_quantity: '1' })
            .execute(),
        ),
      );
    await expect(failed).rejects.toMatchObject({ code: '23503', constraint: 'inventory_lots_item_fkey' });
    expect(await tablesEmpty(t.database.db, BULK_TABLES)).toBe(true);
    expect(await schemaOf(t.database)).toEqual(before);

    // The demo seed takes that path on a fresh embedded database (and checks row by row on
    // PostgreSQL): either way the schema is as the migrations left it.
    await seedDemo(t.database);
    expect(await tablesEmpty(t.database.db, BULK_TABLES)).toBe(false);
    expect(await schemaOf(t.database)).toEqual(before);
  });
});
