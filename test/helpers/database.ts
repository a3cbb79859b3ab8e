import { inject } from 'vitest';
import { createDatabase, type Database } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { adminQuery, cloneTemplate, databaseUrlFor, uniqueDatabaseName } from './postgres.ts';

export const ON_POSTGRES = Boolean(process.env.DATABASE_URL);

export interface TestDatabase {
  database: Database;
  /** The PostgreSQL URL of this database (undefined on PGlite). */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A migrated database of the kind this run targets: a fresh copy of the template on PostgreSQL,
 * a fresh in-memory PGlite otherwise. Real databases, never mocks.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const database = await createDatabase({ pgliteDir: 'memory' });
    await migrate(database);
    return { database, url: undefined, drop: () => database.close() };
  }
  const name = uniqueDatabaseName('db');
  await cloneTemplate(adminUrl, inject('pgTemplate') ?? '', name);
  return openPostgres(adminUrl, name);
}

/** An empty PostgreSQL database (no migrations): for testing the migrator itself. */
export async function createEmptyPostgresDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('createEmptyPostgresDatabase needs DATABASE_URL');
  const name = uniqueDatabaseName('empty');
  await adminQuery(adminUrl, `create database "${name}"`);
  return openPostgres(adminUrl, name);
}

async function openPostgres(adminUrl: string, name: string): Promise<TestDatabase> {
  const url = databaseUrlFor(adminUrl, name);
  // Up to 30 s for a connection, not the service's 5 s: the tests that fire hundreds of requests
  // at once (200 adjustments of one item) are about order and exactly-once, and on a loaded
  // shared machine the last of them waits longer than 5 s behind the item's row lock. How the
  // service gives up on a saturated pool has its own test, with its own pool
  // (pool-saturation.test.ts).
  const database = await createDatabase({ url, poolMax: 5, poolTimeoutMs: 30_000 });
  return {
    database,
    url,
    async drop() {
      await database.close();
      await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
    },
  };
}
