import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.ts';
import type { Database, SqlSession } from './database.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));

/** Any constant works; it only has to be the same for every instance of this service. */
const MIGRATION_LOCK_KEY = 74_201_543;

export interface MigrationFile {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await fs.readdir(dir)).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await fs.readFile(path.join(dir, file), 'utf8');
      return {
        version: file.slice(0, 4),
        name: file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

/**
 * Applies the forward-only plain-SQL migrations that have not run yet, each in its own transaction.
 * A session-level advisory lock makes instances that start together take turns: the second waits,
 * then finds nothing left to do. A migration edited after it was applied stops start-up, because
 * the database no longer matches what the file says.
 */
export async function migrate(
  database: Database,
  logger?: Logger,
  dir = MIGRATIONS_DIR,
): Promise<MigrationResult> {
  const migrations = await readMigrations(dir);
  return database.withSession(async (session) => {
    await session.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await applyPending(session, migrations, logger);
    } finally {
      await session.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}

async function applyPending(session: SqlSession, migrations: MigrationFile[], logger?: Logger) {
  await session.exec(`
    create table if not exists schema_migrations (
      version    text primary key,
      name       text not null,
      checksum   text not null,
      applied_at timestamptz not null default now()
    )`);
  const rows = await session.query<{ version: string; name: string; checksum: string }>(
    'select version, name, checksum from schema_migrations',
  );
  const done = new Map(rows.map((row) => [row.version, row]));
  const applied: string[] = [];
  for (const migration of migrations) {
    const previous = done.get(migration.version);
    if (previous) {
      if (previous.checksum !== migration.checksum) {
        throw new Error(
          `Migration ${migration.name} was changed after it was applied (as ${previous.name}); add a new migration instead`,
        );
      }
      continue;
    }
    logger?.info({ migration: migration.name }, 'applying migration');
    await session.exec('begin');
    try {
      await session.exec(migration.sql);
      await session.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      await session.exec('commit');
    } catch (error) {
      await session.exec('rollback');
      throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
    applied.push(migration.name);
  }
  return { applied, alreadyApplied: migrations.length - applied.length };
}
