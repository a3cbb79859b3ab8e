import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, ON_POSTGRES, type TestDatabase } from '../../../test/helpers/database.ts';
import { createDatabase, type Database } from '../db/database.ts';
import { createLogger } from '../logger.ts';
import { deliveryState, eventsAfter, publishPending, type PublishedEvent } from './outbox.repository.ts';
import { OutboxRelay } from './relay.ts';

/**
 * The publisher and relay on their own: the ordering claims of relay.ts, checked with real
 * concurrent transactions on PostgreSQL (PGlite has one session, so no two transactions overlap).
 */
let testDatabase: TestDatabase;
let orgId: string;

beforeEach(async () => {
  testDatabase = await createTestDatabase();
  const org = await sql<{
    id: string;
  }>`insert into organizations (name) values ('Relay test') returning id`.execute(testDatabase.database.db);
  orgId = org.rows[0]!.id;
});

afterEach(async () => {
  await testDatabase.drop();
});

const logger = createLogger({ logLevel: 'silent' });

async function insertEvent(database: Database, type = 'inventory:stock_updated') {
  await sql`insert into outbox_events (org_id, type, payload) values (${orgId}, ${type}, '{}')`.execute(
    database.db,
  );
}

describe('the outbox relay', () => {
  it('publishes a committed event and hands it to listeners once, woken by NOTIFY', async () => {
    const relay = new OutboxRelay(testDatabase.database, { logger, pollMs: 60_000 });
    const seen: PublishedEvent[] = [];
    relay.onEvents((events) => seen.push(...events));
    await relay.start();
    const start = relay.position;
    await insertEvent(testDatabase.database);
    await insertEvent(testDatabase.database, 'vendor:created');
    await waitFor(() => seen.length === 2);
    expect(seen.map((event) => [event.seq, event.type])).toEqual([
      [start + 1, 'inventory:stock_updated'],
      [start + 2, 'vendor:created'],
    ]);
    expect(seen[0]!.orgId).toBe(orgId);
    expect(relay.position).toBe(start + 2);
    await relay.stop();
  });

  it.runIf(ON_POSTGRES)(
    'numbers a row whose transaction commits late after the rows before it were read: nothing is skipped',
    async () => {
      const url = testDatabase.url!;
      const late = new pg.Client({ connectionString: url });
      const early = new pg.Client({ connectionString: url });
      await Promise.all([late.connect(), early.connect()]);
      try {
        await late.query('begin');
        const lateId = Number(
          (
            await late.query(
              `insert into outbox_events (org_id, type, payload) values ($1, 'a:late', '{}') returning id`,
              [orgId],
            )
          ).rows[0].id,
        );
        const earlyId = Number(
          (
            await early.query(
              `insert into outbox_events (org_id, type, payload) values ($1, 'a:early', '{}') returning id`,
              [orgId],
            )
          ).rows[0].id,
        );
        // The row inserted first has the lower id but is not committed: "id > cursor" would pass it.
        expect(lateId).toBeLessThan(earlyId);
        const { db } = testDatabase.database;
        const cursor = (await deliveryState(db)).lastSeq;
        expect(await publishPending(db, 100)).toMatchObject({ locked: true, published: 1 });
        const firstRead = await eventsAfter(db, cursor, 100);
        expect(firstRead.map((event) => event.type)).toEqual(['a:early']);

        await late.query('commit');
        expect(await publishPending(db, 100)).toMatchObject({ locked: true, published: 1 });
        const secondRead = await eventsAfter(db, firstRead.at(-1)!.seq, 100);
        expect(secondRead.map((event) => [event.type, event.seq])).toEqual([['a:late', cursor + 2]]);
      } finally {
        await Promise.all([late.end(), early.end()]);
      }
    },
  );

  it.runIf(ON_POSTGRES)(
    'gives every row one number, gapless, with two publishers and many writers racing',
    async () => {
      const url = testDatabase.url!;
      const second = await createDatabase({ url, poolMax: 5 });
      try {
        const { db } = testDatabase.database;
        const before = (await deliveryState(db)).lastSeq;
        const publishers = [testDatabase.database, second];
        let writing = true;
        const publishing = publishers.map(async (database) => {
          while (writing) await publishPending(database.db, 7);
        });
        const writers = Array.from({ length: 8 }, async (_, writer) => {
          const database = publishers[writer % 2]!;
          for (let i = 0; i < 25; i++)
            await database.db.transaction().execute(async (trx) => {
              await sql`insert into outbox_events (org_id, type, payload) values (${orgId}, 'x:y', '{}'), (${orgId}, 'x:z', '{}')`.execute(
                trx,
              );
            });
        });
        await Promise.all(writers);
        writing = false;
        await Promise.all(publishing);
        while ((await publishPending(db, 1000)).published > 0);

        const rows = await db
          .selectFrom('outbox_events')
          .select(['seq', 'published_at'])
          .where('seq', '>', before)
          .execute();
        const seqs = rows.map((row) => Number(row.seq)).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 400 }, (_, i) => before + i + 1));
        expect(rows.every((row) => row.published_at !== null)).toBe(true);
        const unpublished = await db
          .selectFrom('outbox_events')
          .select('id')
          .where('seq', 'is', null)
          .execute();
        expect(unpublished).toEqual([]);
        expect((await deliveryState(db)).lastSeq).toBe(before + 400);
      } finally {
        await second.close();
      }
    },
  );

  it.runIf(ON_POSTGRES)('reconnects its listener after losing it and catches up by sequence', async () => {
    const relay = new OutboxRelay(testDatabase.database, { logger, pollMs: 60_000 });
    const seen: PublishedEvent[] = [];
    relay.onEvents((events) => seen.push(...events));
    await relay.start();
    relay.dropListenerConnection();
    // Written while the listener is away: caught up when it is back, by sequence.
    await insertEvent(testDatabase.database);
    await waitFor(() => seen.length === 1);
    await insertEvent(testDatabase.database);
    await waitFor(() => seen.length === 2);
    expect(seen[1]!.seq).toBe(seen[0]!.seq + 1);
    await relay.stop();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
