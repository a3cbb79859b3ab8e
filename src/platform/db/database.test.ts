import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../../test/helpers/app.ts';
import { tempDir } from '../../../test/helpers/files.ts';
import { buildApp } from '../../app.ts';
import { configWith } from '../../config.ts';
import { checkpointIfLogExceeds, createDatabase } from './database.ts';

describe('embedded database', () => {
  it('keeps data written before a restart of the server', async () => {
    const dataDir = await tempDir();
    const config = configWith({ logLevel: 'silent', dataDir, databaseUrl: undefined, redisUrl: undefined });

    const first = await buildApp(config);
    const created = await first.platform.database.db
      .insertInto('organizations')
      .values({ name: 'Corner Greengrocer' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await first.close();

    const second = await buildApp(config);
    try {
      const found = await second.platform.database.db
        .selectFrom('organizations')
        .select('name')
        .where('id', '=', created.id)
        .executeTakeFirst();
      expect(found).toEqual({ name: 'Corner Greengrocer' });
      const health = await second.inject({ method: 'GET', url: '/health' });
      expect(health.json().data.services.database).toMatchObject({ status: 'healthy', mode: 'pglite' });
    } finally {
      await second.close();
    }
  });

  it('refuses a second opener of the same directory while the first holds it', async () => {
    const dir = path.join(await tempDir(), 'pglite');
    const first = await createDatabase({ pgliteDir: dir });
    try {
      await expect(createDatabase({ pgliteDir: dir })).rejects.toThrow(/already open/);
    } finally {
      await first.close();
    }
    const reopened = await createDatabase({ pgliteDir: dir });
    await reopened.close();
  });

  it('runs concurrent transactions one after another on the single PGlite session', async () => {
    const database = await createDatabase({ pgliteDir: 'memory' });
    try {
      await database.withSession((session) =>
        session.exec('create table counter (n int not null); insert into counter values (0);'),
      );
      // Each transaction reads, yields to the event loop, then writes: interleaving would lose updates.
      await Promise.all(
        Array.from({ length: 50 }, () =>
          database.db.transaction().execute(async (trx) => {
            const row = await trx
              .selectFrom('counter' as never)
              .select('n' as never)
              .executeTakeFirstOrThrow();
            await new Promise((resolve) => setImmediate(resolve));
            await trx
              .updateTable('counter' as never)
              .set({ n: (row as { n: number }).n + 1 } as never)
              .execute();
          }),
        ),
      );
      const [row] = await database.withSession((session) =>
        session.query<{ n: number }>('select n from counter'),
      );
      expect(row?.n).toBe(50);
    } finally {
      await database.close();
    }
  });
});

describe('embedded database settings', () => {
  it('runs PostgreSQL with a small memory budget, and checkpoints when its log has grown', async () => {
    const database = await createDatabase({ pgliteDir: path.join(await tempDir(), 'pglite') });
    try {
      const settings = await database.withSession((session) =>
        session.query<{ name: string; setting: string; unit: string | null }>(
          `select name, setting, unit from pg_settings
            where name in ('shared_buffers', 'maintenance_work_mem', 'max_connections') order by name`,
        ),
      );
      expect(settings).toEqual([
        { name: 'maintenance_work_mem', setting: '16384', unit: 'kB' },
        { name: 'max_connections', setting: '4', unit: null },
        { name: 'shared_buffers', setting: '2048', unit: '8kB' },
      ]);

      const checkpointAt = () =>
        database.withSession(async (session) => {
          const [row] = await session.query<{ lsn: string }>(
            'select checkpoint_lsn::text as lsn from pg_control_checkpoint()',
          );
          return row!.lsn;
        });
      await database.withSession((session) =>
        session.exec(
          'create table filler as select g, repeat(md5(g::text), 20) as pad from generate_series(1, 5000) g',
        ),
      );
      const before = await checkpointAt();
      // Less log than the limit: nothing to do.
      expect(await database.withSession((session) => checkpointIfLogExceeds(session, 1024 ** 3))).toBe(false);
      expect(await checkpointAt()).toBe(before);
      expect(await database.withSession((session) => checkpointIfLogExceeds(session, 1024))).toBe(true);
      expect(await checkpointAt()).not.toBe(before);
    } finally {
      await database.close();
    }
  });
});

describe('database kind', () => {
  it('follows DATABASE_URL: PostgreSQL when set, PGlite when not', async () => {
    const t = await createTestApp();
    try {
      expect(t.app.platform.database.kind).toBe(process.env.DATABASE_URL ? 'postgres' : 'pglite');
      const stats = t.app.platform.database.stats();
      expect(stats.max).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });
});

describe.skipIf(!process.env.DATABASE_URL)('prepared statements (PostgreSQL)', () => {
  // One connection, so every query below runs in the session whose prepared statements are read.
  const open = (preparedStatements: boolean) =>
    createDatabase({ url: process.env.DATABASE_URL, poolMax: 1, preparedStatements });
  const prepared = async (database: Awaited<ReturnType<typeof open>>) =>
    (
      await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(database.db)
    ).rows.map((row) => row.statement);
  const repeated = (database: Awaited<ReturnType<typeof open>>, n: number) =>
    sql<{ n: number; day: string; label: string }>`
      select ${n}::int + 1 as n, ${'2026-03-01'}::date as day, ${'fresh'}::text as label`.execute(
      database.db,
    );

  it('prepares a repeated parameterised statement once per connection, with the same results', async () => {
    const database = await open(true);
    try {
      const first = await repeated(database, 1);
      const second = await repeated(database, 41);
      // Same answers and types as unnamed statements: dates stay 'YYYY-MM-DD' text.
      expect(first.rows).toEqual([{ n: 2, day: '2026-03-01', label: 'fresh' }]);
      expect(second.rows).toEqual([{ n: 42, day: '2026-03-01', label: 'fresh' }]);
      const statements = await prepared(database);
      expect(statements.filter((text) => text.includes('as label'))).toHaveLength(1);
    } finally {
      await database.close();
    }
  });

  it('leaves long and parameterless statements unnamed', async () => {
    const database = await open(true);
    try {
      // A statement text past the 8,000-character cap (as a multi-row insert's is).
      const padding = sql.raw(`/* ${'x'.repeat(9_000)} */`);
      const long = await sql<{ n: number }>`select ${7}::int as n, 'long' as pad ${padding}`.execute(
        database.db,
      );
      expect(long.rows[0]?.n).toBe(7);
      await sql`select 1 as plain_statement`.execute(database.db);
      const statements = await prepared(database);
      expect(statements.some((text) => text.includes('as pad'))).toBe(false);
      expect(statements.some((text) => text.includes('plain_statement'))).toBe(false);
    } finally {
      await database.close();
    }
  });

  it('prepares nothing when turned off (DATABASE_PREPARED_STATEMENTS=false)', async () => {
    const database = await open(false);
    try {
      await repeated(database, 1);
      await repeated(database, 2);
      expect(await prepared(database)).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
