import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../../test/helpers/app.ts';
import { tempDir } from '../../../test/helpers/files.ts';
import { buildApp } from '../../app.ts';
import { configWith } from '../../config.ts';
import { createDatabase } from './database.ts';

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
