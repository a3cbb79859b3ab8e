import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/database.ts';
import { timeOrderedId } from './ids.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisecondsOf = (id: string) => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('time-ordered ids (UUID version 7)', () => {
  it('carry the time in milliseconds, version 7 and the RFC variant, and random bits', () => {
    const id = timeOrderedId(Date.UTC(2026, 10, 24, 12, 30, 0, 125));
    expect(id).toMatch(V7);
    expect(millisecondsOf(id)).toBe(Date.UTC(2026, 10, 24, 12, 30, 0, 125));
    const many = new Set(Array.from({ length: 1000 }, () => timeOrderedId(1_800_000_000_000)));
    expect(many.size).toBe(1000);
  });

  it('sort in the order they were made, across milliseconds, as text and as PostgreSQL uuids', async () => {
    const ids = [1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 2_000_000_000_000].map((ms) =>
      timeOrderedId(ms),
    );
    expect([...ids].sort()).toEqual(ids);
    const test = await createTestDatabase();
    try {
      const rows = await test.database.withSession((session) =>
        session.query<{ id: string }>('select id from unnest($1::uuid[]) as id order by id', [
          [...ids].reverse(),
        ]),
      );
      expect(rows.map((row) => row.id)).toEqual(ids);
    } finally {
      await test.drop();
    }
  });

  it('match the database default, uuid_v7(), in layout and clock', async () => {
    const test = await createTestDatabase();
    try {
      const before = Date.now();
      const rows = await test.database.withSession((session) =>
        session.query<{ id: string }>('select uuid_v7()::text as id from generate_series(1, 50)'),
      );
      const after = Date.now();
      for (const { id } of rows) {
        expect(id).toMatch(V7);
        expect(millisecondsOf(id)).toBeGreaterThanOrEqual(before - 5);
        expect(millisecondsOf(id)).toBeLessThanOrEqual(after + 5);
      }
      expect(new Set(rows.map((row) => row.id)).size).toBe(50);
      // New inventory rows take it as their default.
      const [item] = await test.database.withSession(async (session) => {
        const [org] = await session.query<{ id: string }>(
          `insert into organizations (name) values ('Clockwork Grocer') returning id`,
        );
        return session.query<{ id: string }>(
          `insert into inventory_items (org_id, description, category) values ($1, 'Pears', 'Produce') returning id`,
          [org!.id],
        );
      });
      expect(item!.id).toMatch(V7);
    } finally {
      await test.drop();
    }
  });
});
