import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { adjust, createItem } from '../../../test/helpers/inventory.ts';

let t: TestApp;
let admin: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'History Store');
});
afterAll(() => t.close());

interface Change {
  id: string;
  field: string;
  oldValue: number | string | null;
  newValue: number | string | null;
  changedAt: string;
}

/** The item's whole history through the API, page by page, as listed (newest first). */
async function wholeHistory(itemId: string): Promise<Change[]> {
  const changes: Change[] = [];
  for (let page = 1; ; page++) {
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/inventory/${itemId}/history?page=${page}&limit=200`,
      headers: bearer(admin),
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<{
      data: { changes: Change[] };
      meta: { pagination: { totalPages: number } };
    }>();
    changes.push(...body.data.changes);
    if (page >= body.meta.pagination.totalPages) return changes;
  }
}

describe('an item history under contention', () => {
  it('lists 200 concurrent adjustments in the order they applied, each balance following from the one before', async () => {
    const item = await createItem(t.app, admin, { description: 'Contended basil', remainingStock: 1000 });
    // Distinct sizes, so that a row listed out of place cannot chain by coincidence.
    const deltas = Array.from({ length: 200 }, (_, index) =>
      index % 2 === 0 ? 1 + (index % 7) : -(1 + (index % 5)),
    );
    const responses = await Promise.all(
      deltas.map((delta) =>
        adjust(t.app, admin, item.id, { adjustment: delta, reason: delta > 0 ? 'received' : 'sold' }),
      ),
    );
    expect(responses.filter((response) => response.statusCode !== 200).map((r) => r.body)).toEqual([]);
    const final = 1000 + deltas.reduce((sum, delta) => sum + delta, 0);

    const listed = await wholeHistory(item.id);
    expect(new Set(listed.map((change) => change.id)).size).toBe(listed.length);
    // The oldest entry is the item's creation; every later one is a stock change.
    expect(listed.at(-1)!.field).toBe('created');
    const stock = listed.filter((change) => change.field === 'remainingStock');
    expect(stock).toHaveLength(201);
    expect(stock[0]!.newValue).toBe(final);
    expect(stock.at(-1)).toMatchObject({ oldValue: 0, newValue: 1000 });
    // Newest first: each entry starts where the one listed after it (the one before it) ended.
    const breaks = stock
      .slice(0, -1)
      .map((change, index) => ({ change, previous: stock[index + 1]! }))
      .filter(({ change, previous }) => change.oldValue !== previous.newValue)
      .map(({ change, previous }) => `${previous.newValue} then ${change.oldValue}→${change.newValue}`);
    expect(breaks).toEqual([]);
    // Each step is one of the adjustments sent, each used once.
    const steps = stock.slice(0, -1).map((change) => Number(change.newValue) - Number(change.oldValue));
    expect([...steps].sort((a, b) => a - b)).toEqual([...deltas].sort((a, b) => a - b));
    // The times agree with the order.
    const times = listed.map((change) => Date.parse(change.changedAt));
    for (let index = 1; index < times.length; index++) {
      expect(times[index]!).toBeLessThanOrEqual(times[index - 1]!);
    }

    // The ledger in its own order (seq) chains the same way: before = the previous after, and
    // after = before + quantity.
    const ledger = await t.testDatabase.database.db
      .selectFrom('stock_movements')
      .select(['quantity', 'stock_before', 'stock_after', 'occurred_at'])
      .where('item_id', '=', item.id)
      .orderBy('seq')
      .execute();
    expect(ledger).toHaveLength(201);
    let balance = 0;
    for (const movement of ledger) {
      expect(Number(movement.stock_before)).toBe(balance);
      expect(Number(movement.stock_after)).toBe(balance + Number(movement.quantity));
      balance = Number(movement.stock_after);
    }
    expect(balance).toBe(final);
    const ledgerTimes = ledger.map((movement) => new Date(movement.occurred_at).getTime());
    expect([...ledgerTimes].sort((a, b) => a - b)).toEqual(ledgerTimes);
  });
});
