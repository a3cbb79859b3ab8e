import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, ON_POSTGRES, type TestDatabase } from '../../../test/helpers/database.ts';
import type { SqlSession } from '../../platform/db/database.ts';

/**
 * The per-category item counters (migrations 0004, 0012) behind list totals, with writers on
 * several connections at once: only PostgreSQL has more than one session.
 */
describe.skipIf(!ON_POSTGRES)('item counters under concurrent writers (PostgreSQL)', () => {
  let test: TestDatabase;
  let orgId: string;

  beforeAll(async () => {
    test = await createTestDatabase();
    orgId = await test.database.withSession(async (session) => {
      const [org] = await session.query<{ id: string }>(
        `insert into organizations (name) values ('Counter Street Grocer') returning id`,
      );
      return org!.id;
    });
  });
  afterAll(async () => {
    await test.drop();
  });

  const pid = async (session: SqlSession) =>
    (await session.query<{ pid: number }>('select pg_backend_pid() as pid'))[0]!.pid;
  const addItem = (session: SqlSession, description: string) =>
    session.query<{ id: string }>(
      `insert into inventory_items (org_id, description, category) values ($1, $2, 'Dairy') returning id`,
      [orgId, description],
    );
  /** Runs `work` on a pooled connection of another counter slot, holding colliding ones meanwhile. */
  const onOtherSlot = <T>(slot: number, work: (session: SqlSession) => Promise<T>): Promise<T> =>
    test.database.withSession(async (session) =>
      (await pid(session)) % 16 === slot ? onOtherSlot(slot, work) : work(session),
    );
  const dairyTotal = async () =>
    test.database.withSession(
      async (session) =>
        (
          await session.query<{ total: string }>(
            `select sum(live_count) as total from inventory_item_counts where org_id = $1 and category = 'Dairy'`,
            [orgId],
          )
        )[0]!.total,
    );

  it('lets a second connection add to a category while another transaction holds its count open', async () => {
    await test.database.withSession(async (importer) => {
      await importer.exec('begin');
      let committed = false;
      try {
        // An import's transaction: items added, not yet committed.
        await addItem(importer, 'Whole milk 1 l');
        await addItem(importer, 'Skimmed milk 1 l');
        const importerPid = await pid(importer);

        // A writer on a connection of another slot (connections of one slot still queue). Before
        // 0012 it waited on the category's single counter row until the importer committed.
        const [created] = await onOtherSlot(importerPid % 16, async (writer) => {
          await writer.exec(`set lock_timeout = '2s'`);
          try {
            return await addItem(writer, 'Greek yoghurt 500 g');
          } finally {
            await writer.exec('reset lock_timeout');
          }
        });
        expect(created!.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(await dairyTotal()).toBe('1');
        await importer.exec('commit');
        committed = true;
      } finally {
        // A failed check must not hand the pool a connection inside an open transaction.
        if (!committed) await importer.exec('rollback');
      }
    });
    expect(await dairyTotal()).toBe('3');
  });

  it('keeps the total exact when an item counted through one connection is removed through another', async () => {
    const [milk] = await test.database.withSession((session) => addItem(session, 'Buttermilk 500 ml'));
    const before = Number(await dairyTotal());
    // Two connections held at once, so the delete runs on a different backend from the insert.
    await test.database.withSession(async (first) => {
      await test.database.withSession(async (second) => {
        expect(await pid(first)).not.toBe(await pid(second));
        await second.query(`update inventory_items set deleted_at = now() where id = $1`, [milk!.id]);
        await first.query(`update inventory_items set deleted_at = null where id = $1`, [milk!.id]);
        await second.query(`update inventory_items set category = 'Deli' where id = $1`, [milk!.id]);
      });
    });
    expect(Number(await dairyTotal())).toBe(before - 1);
    const deli = await test.database.withSession((session) =>
      session.query<{ total: string }>(
        `select sum(live_count) as total from inventory_item_counts where org_id = $1 and category = 'Deli'`,
        [orgId],
      ),
    );
    expect(deli[0]!.total).toBe('1');
  });
});
