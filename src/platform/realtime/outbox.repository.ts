import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/** An outbox event once published: `seq` is its delivery sequence (the id clients see). */
export interface PublishedEvent {
  seq: number;
  orgId: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** The notification a commit that wrote outbox rows sends (the trigger of migration 0025). */
export const OUTBOX_CHANNEL = 'fc_outbox';
/** The notification a publisher sends when it has given rows their sequence. */
export const PUBLISHED_CHANNEL = 'fc_outbox_published';

/**
 * The advisory lock (transaction-scoped) that lets one publisher at a time number rows, across
 * every instance on the database. An arbitrary constant, apart from the migrator's.
 */
const PUBLISH_LOCK = 7_301_025_019;

/**
 * Event types something must act on once per event, whichever instance publishes it (alerts
 * that notify members). `onPublished` runs in the publishing transaction: keep it to a cheap write
 * such as enqueuing a job, because a failure there holds back delivery until the next try.
 */
export interface PublishWatch {
  types: readonly string[];
  onPublished: (trx: Kysely<DB>, events: PublishedEvent[]) => Promise<void>;
}

export interface PublishResult {
  /** False: another publisher held the lock; nothing was done. */
  locked: boolean;
  published: number;
  lastSeq: number;
}

/**
 * Numbers the committed, unpublished rows (at most `limit`) in id order after the high-water
 * mark, marks them published and, when it published any, notifies PUBLISHED_CHANNEL (delivered
 * at commit). The lock is taken by a statement of its own: the numbering statement's snapshot is
 * then taken after the lock was granted, so it sees every row the previous holder published
 * (that holder committed before it released the lock).
 */
export async function publishPending(
  db: Kysely<DB>,
  limit: number,
  watch?: PublishWatch,
): Promise<PublishResult> {
  return db.transaction().execute(async (trx) => {
    const lock = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_xact_lock(${PUBLISH_LOCK}::bigint) as locked`.execute(trx);
    if (!lock.rows[0]?.locked) return { locked: false, published: 0, lastSeq: 0 };
    const result = await sql<{ last_seq: number; published: number; watched: Array<number | string> | null }>`
      with state as (select last_seq from outbox_delivery),
      batch as (
        select id, row_number() over (order by id) as n
          from outbox_events
         where published_at is null
         order by id
         limit ${limit}
      ),
      published as (
        update outbox_events o
           set seq = state.last_seq + batch.n, published_at = clock_timestamp()
          from batch, state
         where o.id = batch.id
        returning o.seq, o.type
      ),
      advanced as (
        update outbox_delivery
           set last_seq = last_seq + (select count(*) from published)
         where exists (select 1 from published)
        returning last_seq
      )
      select coalesce((select last_seq from advanced), (select last_seq from state))::int8 as last_seq,
             (select count(*) from published)::int as published,
             (select coalesce(array_agg(seq order by seq), '{}') from published
               where type = any(${watch?.types ?? []}::text[])) as watched`.execute(trx);
    const row = result.rows[0]!;
    const published = Number(row.published);
    const lastSeq = Number(row.last_seq);
    // Events a watcher acts on exactly once (the publisher numbers each row once, under the lock),
    // in this transaction: what it writes commits with their numbers, or neither does.
    const watched = (row.watched ?? []).map(Number);
    if (watch && watched.length > 0) {
      const rows = await trx
        .selectFrom('outbox_events')
        .select(eventColumns)
        .where('seq', 'in', watched)
        .orderBy('seq')
        .execute();
      await watch.onPublished(trx, rows.map(toEvent));
    }
    if (published > 0) await sql`select pg_notify(${PUBLISHED_CHANNEL}, ${String(lastSeq)})`.execute(trx);
    return { locked: true, published, lastSeq };
  });
}

/** The published high-water mark and how far pruning has deleted. */
export async function deliveryState(db: Kysely<DB>): Promise<{ lastSeq: number; prunedThrough: number }> {
  const row = await db
    .selectFrom('outbox_delivery')
    .select(['last_seq', 'pruned_through'])
    .executeTakeFirstOrThrow();
  return { lastSeq: Number(row.last_seq), prunedThrough: Number(row.pruned_through) };
}

const eventColumns = ['seq', 'org_id', 'type', 'payload', 'created_at'] as const;

function toEvent(row: {
  seq: number | null;
  org_id: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date | string;
}): PublishedEvent {
  return {
    seq: Number(row.seq),
    orgId: row.org_id,
    type: row.type,
    payload: row.payload,
    createdAt: new Date(row.created_at),
  };
}

/** Every store's published events after `afterSeq`, in order (as the owner: the relay delivers for all). */
export async function eventsAfter(
  db: Kysely<DB>,
  afterSeq: number,
  limit: number,
): Promise<PublishedEvent[]> {
  const rows = await db
    .selectFrom('outbox_events')
    .select(eventColumns)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

/** One store's published events in (afterSeq, throughSeq], in order: a client's resume. */
export async function storeEventsBetween(
  db: Kysely<DB>,
  orgId: string,
  afterSeq: number,
  throughSeq: number,
  limit: number,
): Promise<PublishedEvent[]> {
  const rows = await db
    .selectFrom('outbox_events')
    .select(eventColumns)
    .where('org_id', '=', orgId)
    .where('seq', '>', afterSeq)
    .where('seq', '<=', throughSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

/**
 * Deletes up to `limit` published events older than `before`, oldest first (along the seq
 * index), and records the highest sequence deleted: a resume from before it may have lost
 * events and is told to resync. Returns how many were deleted.
 */
export async function pruneBatch(db: Kysely<DB>, before: Date, limit: number): Promise<number> {
  const result = await sql<{ deleted: number }>`
    with doomed as (
      select id from outbox_events
       where seq is not null and published_at < ${before}
       order by seq
       limit ${limit}
    ),
    deleted as (
      delete from outbox_events o using doomed where o.id = doomed.id returning o.seq
    ),
    marked as (
      update outbox_delivery
         set pruned_through = greatest(pruned_through, (select max(seq) from deleted))
       where exists (select 1 from deleted)
      returning 1
    )
    select (select count(*) from deleted)::int as deleted, (select count(*) from marked)::int as marked`.execute(
    db,
  );
  return Number(result.rows[0]?.deleted ?? 0);
}
