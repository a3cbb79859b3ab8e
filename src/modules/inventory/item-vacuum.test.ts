import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/database.ts';

/**
 * The items table is vacuumed after a few thousand changes (migrations/0015), so that list pages
 * stay index-only walks. Autovacuum does not run in tests (PGlite has none; CI's server may have it
 * off), so this computes, from the table's storage parameters and the server's settings for the
 * ones it leaves out, when autovacuum would visit a store of 100,000 items, by PostgreSQL's own
 * rule: threshold + scale factor × rows.
 */
describe('items table autovacuum', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test.drop();
  });

  it('visits 100,000 items after about 2,000 inserts or updates, not 21,000', async () => {
    const { rows } = await sql<{ reloptions: string[] | null }>`
      select reloptions from pg_class where oid = 'inventory_items'::regclass`.execute(test.database.db);
    const table = new Map((rows[0]!.reloptions ?? []).map((option) => option.split('=') as [string, string]));
    const setting = async (name: string) => {
      if (table.has(name)) return Number(table.get(name));
      const server = await sql<{ value: string }>`select current_setting(${name}) as value`.execute(
        test.database.db,
      );
      return Number(server.rows[0]!.value);
    };
    const items = 100_000;
    const afterInserts =
      (await setting('autovacuum_vacuum_insert_threshold')) +
      (await setting('autovacuum_vacuum_insert_scale_factor')) * items;
    const afterUpdates =
      (await setting('autovacuum_vacuum_threshold')) +
      (await setting('autovacuum_vacuum_scale_factor')) * items;
    expect(afterInserts).toBe(2_000);
    expect(afterUpdates).toBe(2_050);
  });
});
