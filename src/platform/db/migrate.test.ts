import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEmptyPostgresDatabase,
  ON_POSTGRES,
  type TestDatabase,
} from '../../../test/helpers/database.ts';
import { tempDir } from '../../../test/helpers/files.ts';
import { createDatabase, type Database } from './database.ts';
import { migrate, readMigrations } from './migrate.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');

/** An empty database of the kind this run targets. */
async function emptyDatabase(): Promise<TestDatabase> {
  if (ON_POSTGRES) return createEmptyPostgresDatabase();
  const database = await createDatabase({ pgliteDir: 'memory' });
  return { database, url: undefined, drop: () => database.close() };
}

async function appliedVersions(database: Database): Promise<string[]> {
  const rows = await database.db
    .selectFrom('schema_migrations')
    .select('version')
    .orderBy('version')
    .execute();
  return rows.map((row) => row.version);
}

async function tableExists(database: Database, table: string): Promise<boolean> {
  const rows = await database.withSession((session) =>
    session.query<{ found: string | null }>('select to_regclass($1)::text as found', [table]),
  );
  return rows[0]?.found != null;
}

describe('migrations', () => {
  let target: TestDatabase | undefined;
  afterEach(async () => {
    await target?.drop();
    target = undefined;
  });

  it('apply every file on an empty database, then find nothing to do', async () => {
    target = await emptyDatabase();
    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);

    const first = await migrate(target.database);
    expect(first.applied).toEqual(files.map((file) => file.name));
    expect(await tableExists(target.database, 'organizations')).toBe(true);

    const second = await migrate(target.database);
    expect(second).toEqual({ applied: [], alreadyApplied: files.length });
    expect(await appliedVersions(target.database)).toEqual(files.map((file) => file.version));
  });

  it('apply each migration exactly once when two runs race on one database', async () => {
    target = await emptyDatabase();
    const [a, b] = await Promise.all([migrate(target.database), migrate(target.database)]);
    const files = await readMigrations();
    expect([...a.applied, ...b.applied].sort()).toEqual(files.map((file) => file.name));
    expect(await appliedVersions(target.database)).toEqual(files.map((file) => file.version));
  });

  it.runIf(ON_POSTGRES)('apply each migration exactly once when two processes start together', async () => {
    target = await createEmptyPostgresDatabase();
    // A clean environment: the child must not inherit the test runner's own NODE_OPTIONS and hooks.
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: target.url ?? '', LOG_LEVEL: 'info' };
    const script = path.join(ROOT, 'src/cli/migrate.ts');
    const results = await Promise.all([
      run(process.execPath, [script], { env, cwd: ROOT }),
      run(process.execPath, [script], { env, cwd: ROOT }),
    ]);
    const files = await readMigrations();
    expect(await appliedVersions(target.database)).toEqual(files.map((file) => file.version));
    // One process applied everything; the other waited on the lock and found it done.
    const logs = results.map((result) => result.stdout).join('\n');
    expect(logs.match(/"msg":"applying migration"/g)?.length).toBe(files.length);
    expect(logs).toContain('database is up to date');
  });

  it.runIf(ON_POSTGRES)('run as a role that is not a superuser (as on Supabase)', async () => {
    target = await createEmptyPostgresDatabase();
    await migrate(target.database);
    const [role] = await target.database.withSession((session) =>
      session.query<{ rolsuper: boolean; owns: boolean }>(
        `select r.rolsuper, d.datdba = r.oid as owns
           from pg_roles r, pg_database d
          where r.rolname = current_user and d.datname = current_database()`,
      ),
    );
    expect(role).toEqual({ rolsuper: false, owns: true });
  });

  it('roll back a failing migration and record nothing of it', async () => {
    target = await emptyDatabase();
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, '0001_good.sql'), 'create table good_one (id int primary key);');
    await fs.writeFile(
      path.join(dir, '0002_bad.sql'),
      'create table half_done (id int); insert into no_such_table values (1);',
    );
    await expect(migrate(target.database, undefined, dir)).rejects.toThrow(/0002_bad\.sql failed/);
    expect(await tableExists(target.database, 'good_one')).toBe(true);
    expect(await tableExists(target.database, 'half_done')).toBe(false);
    expect(await appliedVersions(target.database)).toEqual(['0001']);
  });

  it('refuse to start when an applied migration was edited', async () => {
    target = await emptyDatabase();
    const dir = await tempDir();
    const file = path.join(dir, '0001_first.sql');
    await fs.writeFile(file, 'create table first_one (id int);');
    await migrate(target.database, undefined, dir);
    await fs.writeFile(file, 'create table first_one (id bigint);');
    await expect(migrate(target.database, undefined, dir)).rejects.toThrow(/changed after it was applied/);
  });
});
