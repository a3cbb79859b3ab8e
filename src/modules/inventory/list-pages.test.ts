import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/database.ts';
import { listPage, type StatusContext } from './inventory.repository.ts';
import type { ListQuery } from './inventory.schemas.ts';

/**
 * Deep list pages are read from whichever end of the sort is nearer (listPage). Here every page
 * is read both ways (the two-way statement from offset 0, against the plain one), over items
 * whose sort keys tie and whose expiry is often missing, so a reversed order that is not the
 * exact mirror of the forward one, or an off-by-one in the offset from the end, shows.
 */
describe('list pages read from the end', () => {
  let test: TestDatabase;
  let orgId: string;
  const ITEMS = 23;
  const LIMIT = 3;
  const today = new Date().toISOString().slice(0, 10);
  const ctx: StatusContext = {
    lowStockThreshold: 10,
    expiringBy: new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10),
    today,
  };

  beforeAll(async () => {
    test = await createTestDatabase();
    const db = test.database.db;
    const org = await sql<{ id: string }>`
      insert into organizations (name) values ('Page Turner Grocer') returning id`.execute(db);
    orgId = org.rows[0]!.id;
    // Few distinct values per sort key, so most keys tie and the id decides; every third item
    // has no expiry; one is deleted (never listed, never counted).
    await sql`
      insert into inventory_items
        (org_id, description, category, location, remaining_stock, earliest_expiry, created_at, deleted_at)
      select ${orgId}, (array['Apples', 'Bananas', 'Carrots'])[1 + i % 3],
             (array['Produce', 'Dairy'])[1 + i % 2], 'Aisle ' || (i % 2),
             (i % 4) * 10,
             case when i % 3 = 0 then null else ${today}::date + (i % 5) end,
             now() - make_interval(days => i % 5),
             case when i = 7 then now() end
        from generate_series(1, ${ITEMS + 1}) as i`.execute(db);
  });
  afterAll(async () => {
    await test.drop();
  });

  const ids = (itemsJson: string) => (JSON.parse(itemsJson) as Array<{ id: string }>).map((item) => item.id);

  const filters: Array<Partial<ListQuery>> = [
    {},
    { category: 'dairy' },
    { status: 'in_stock' },
    { status: 'expiring' },
    { location: 'Aisle 1' },
  ];
  const sorts: Array<Pick<ListQuery, 'sortBy' | 'sortOrder'>> = (
    ['created_at', 'name', 'stock', 'expiry'] as const
  ).flatMap((sortBy) => [{ sortBy }, { sortBy, sortOrder: 'asc' }, { sortBy, sortOrder: 'desc' }] as const);

  it('gives every page, and the total, exactly as reading from the start does', async () => {
    const db = test.database.db;
    let pastTheMiddle = 0;
    for (const filter of filters) {
      for (const sort of sorts) {
        const query = (page: number, limit = LIMIT): ListQuery => ({ ...filter, ...sort, page, limit });
        const everything = await listPage(db, orgId, query(1, 200), ctx);
        const all = ids(everything.itemsJson);
        if (!filter.category && !filter.status && !filter.location) expect(all).toHaveLength(ITEMS);
        expect(all.length, JSON.stringify({ filter, sort })).toBe(everything.total);
        const pages = Math.ceil(all.length / LIMIT) + 1; // and one past the end
        for (let page = 1; page <= pages; page++) {
          const label = JSON.stringify({ filter, sort, page });
          const plain = await listPage(db, orgId, query(page), ctx, Infinity);
          const twoWay = await listPage(db, orgId, query(page), ctx, 0);
          const expected = all.slice((page - 1) * LIMIT, page * LIMIT);
          expect(ids(plain.itemsJson), label).toEqual(expected);
          expect(ids(twoWay.itemsJson), label).toEqual(expected);
          expect(twoWay.total, label).toBe(all.length);
          if ((page - 1) * LIMIT * 2 > all.length) pastTheMiddle++;
        }
      }
    }
    // Every filter leaves several pages, so about half of all the pages read lie past the middle.
    expect(pastTheMiddle).toBeGreaterThan(100);
  });
});
