import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/database.ts';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function findIndexScan(node: PlanNode, index: string): PlanNode | undefined {
  if (node['Index Name'] === index) return node;
  for (const child of node.Plans ?? []) {
    const found = findIndexScan(child, index);
    if (found) return found;
  }
  return undefined;
}

/**
 * The item search index keeps its pending list small (migrations/0014): a GIN index reads its whole
 * pending list on every search, so new items that are not yet merged into the tree make every
 * search slower until the table is vacuumed. After 3,000 new items (about 45 pending pages at
 * PostgreSQL's default 4 MB limit, never merged here because nothing vacuums), a search must
 * still read only a few pages of the index.
 */
describe('item search index', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test.drop();
  });

  it('reads a bounded pending list after many new items', async () => {
    const db = test.database.db;
    const org = await sql<{ id: string }>`
      insert into organizations (name) values ('Pending List Grocer') returning id`.execute(db);
    const orgId = org.rows[0]!.id;
    // A word of its own for each item, so the search below matches one item and the index scan's
    // reads are the tree lookup plus whatever is pending.
    await sql`
      insert into inventory_items (org_id, description, category, brand)
      select ${orgId}, 'Organic produce item w' || i, 'Produce', 'Farm ' || (i % 40)
        from generate_series(1, 3000) as i`.execute(db);

    const blocks = await db.transaction().execute(async (trx) => {
      // Three thousand rows is small enough for a sequential scan; the index is what is tested.
      await sql`set local enable_seqscan = off`.execute(trx);
      const { rows } = await sql<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>`
        explain (analyze, buffers, format json)
        select count(*) from inventory_items where search_vector @@ to_tsquery('simple', 'w1234')`.execute(
        trx,
      );
      const plan = rows[0]!['QUERY PLAN'];
      const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as Array<{ Plan: PlanNode }>;
      const scan = findIndexScan(parsed[0]!.Plan, 'inventory_items_search_idx');
      expect(scan, 'the search reads the full-text index').toBeDefined();
      return (scan!['Shared Hit Blocks'] ?? 0) + (scan!['Shared Read Blocks'] ?? 0);
    });
    // At most 16 pending pages (128 kB) and a few pages of the tree.
    expect(blocks).toBeGreaterThan(0);
    expect(blocks).toBeLessThanOrEqual(24);

    const { rows } = await sql<{ count: number }>`
      select count(*)::int as count from inventory_items
       where org_id = ${orgId} and search_vector @@ to_tsquery('simple', 'w1234')`.execute(db);
    expect(rows[0]!.count).toBe(1);
  });
});
