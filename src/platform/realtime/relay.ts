import pg from 'pg';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import {
  deliveryState,
  eventsAfter,
  OUTBOX_CHANNEL,
  PUBLISHED_CHANNEL,
  publishPending,
  type PublishWatch,
  type PublishedEvent,
} from './outbox.repository.ts';

/**
 * The outbox relay: every instance runs one. It publishes committed outbox rows (gives them their
 * delivery sequence) and hands every published event, in sequence order, exactly once, to its
 * listeners (the WebSocket hub), which filter per socket by store and channel.
 *
 * Why a sequence of its own, and why it is safe:
 *
 * - `outbox_events.id` is drawn at INSERT. Transaction A may insert id 10 and commit after B
 *   inserted id 11 and committed, so a reader that had passed 11 ("id > cursor") never sees 10.
 *   Readers therefore follow `seq`, which a publisher assigns only to rows it can see, i.e. that
 *   have committed, in id order among them, after the last number given (outbox_delivery.last_seq).
 * - One publisher at a time: `pg_try_advisory_xact_lock` in its own statement, then the numbering
 *   statement. The lock is released when the holder's transaction has committed, and the next
 *   holder's numbering statement takes its snapshot after it got the lock, so it sees the previous
 *   numbers and continues after them: no number is given twice (`seq` is also unique) and none is
 *   skipped (the numbers and the high-water mark are one transaction). Two instances publishing at
 *   once: one gets the lock, the other retries shortly after (below), finds nothing or the rows
 *   committed since.
 * - Numbers become visible in order: a batch commits as a whole, and the next batch can only be
 *   numbered after it committed. So a reader of "seq > lastSeq" never sees seq n+1 before n, and
 *   can never pass a row that appears later: there is no gap to fall into.
 * - A transaction that writes outbox rows NOTIFYs `fc_outbox` (a statement trigger), delivered when
 *   it commits. If a publisher ran just before that commit (its snapshot did not include the rows),
 *   this notification starts another run whose snapshot is taken after the commit. A run asked for
 *   while one is going runs again after it; a run refused the lock retries until it gets it. The
 *   1 s poll covers a notification lost with a dropped connection.
 * - Commit order per store: for one item, writers hold the item's row lock (`SELECT … FOR UPDATE`)
 *   from before they insert their outbox rows until they commit, so the second writer's rows get
 *   higher ids and commit later: either they are numbered in a later batch or in the same batch in
 *   id order. In general, a transaction that commits before another inserts its rows is numbered
 *   first. Two transactions that overlap (different items, neither waiting for the other) have no
 *   order a client could rely on; they are numbered in id order when discovered together.
 * - Readers: after a publish is committed the publisher NOTIFYs `fc_outbox_published`; every
 *   instance LISTENs and reads `seq > lastSeq` (as the owner: all stores) in pages, and polls every
 *   second as a fallback. On PostgreSQL the listener has a connection of its own, reconnected on
 *   loss, after which the relay publishes and reads once, catching up by sequence. On PGlite (one
 *   session, one process) the same statements run and NOTIFY reaches PGlite's in-process listeners.
 */
export interface RelayOptions {
  logger: Logger;
  /** Fallback poll (publish, then read), default 1000 ms. */
  pollMs?: number;
  /** Rows numbered per publisher transaction and read per page (default 1000). */
  batchSize?: number;
  /** Event types to hand, once each, to a handler in the publishing transaction (see PublishWatch). */
  watch?: PublishWatch;
}

export type EventsListener = (events: readonly PublishedEvent[]) => void;

const LOCK_RETRY_MS = 15;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

export class OutboxRelay {
  readonly #database: Database;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #watch: PublishWatch | undefined;
  readonly #listeners = new Set<EventsListener>();
  #position = 0;
  #started = false;
  #stopped = false;
  #poll: NodeJS.Timeout | undefined;
  #lockRetry: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #reconnectDelay = RECONNECT_MIN_MS;
  #pgListener: pg.Client | undefined;
  #unlisten: Array<() => Promise<void>> = [];
  readonly #publish: Coalesced;
  readonly #read: Coalesced;

  constructor(database: Database, options: RelayOptions) {
    this.#database = database;
    this.#logger = options.logger;
    this.#pollMs = options.pollMs ?? 1000;
    this.#batchSize = options.batchSize ?? 1000;
    this.#watch = options.watch;
    this.#publish = coalesced(
      () => this.#publishOnce(),
      (error) => this.#failed('publish', error),
    );
    this.#read = coalesced(
      () => this.#readOnce(),
      (error) => this.#failed('read', error),
    );
  }

  /** The highest sequence handed to the listeners: every event up to it has been dispatched. */
  get position(): number {
    return this.#position;
  }

  /** Listeners get each published event once, in sequence order, synchronously in one call per page. */
  onEvents(listener: EventsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts from the current high-water mark: events published before now are served by resume. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#position = (await deliveryState(this.#database.db)).lastSeq;
    await this.#listen();
    this.#poll = setInterval(() => {
      this.#publish.trigger();
      this.#read.trigger();
    }, this.#pollMs);
    this.#poll.unref();
    this.#publish.trigger();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    clearTimeout(this.#lockRetry);
    clearTimeout(this.#reconnect);
    const listener = this.#pgListener;
    this.#pgListener = undefined;
    await listener?.end().catch(() => {});
    for (const unlisten of this.#unlisten.splice(0)) await unlisten().catch(() => {});
    await Promise.all([this.#publish.idle(), this.#read.idle()]);
  }

  /** Publishes now (tests and the benchmark use it to avoid waiting for a notification). */
  publishNow(): void {
    this.#publish.trigger();
  }

  async #publishOnce(): Promise<boolean> {
    if (this.#stopped) return false;
    const result = await publishPending(this.#database.db, this.#batchSize, this.#watch);
    if (!result.locked) {
      // Another publisher holds the lock; its snapshot may predate the commit that woke us.
      clearTimeout(this.#lockRetry);
      this.#lockRetry = setTimeout(() => this.#publish.trigger(), LOCK_RETRY_MS);
      this.#lockRetry.unref();
      return false;
    }
    // Read at once rather than waiting for our own notification to come back.
    if (result.published > 0) this.#read.trigger();
    return result.published === this.#batchSize;
  }

  async #readOnce(): Promise<boolean> {
    if (this.#stopped) return false;
    const events = await eventsAfter(this.#database.db, this.#position, this.#batchSize);
    if (events.length === 0 || this.#stopped) return false;
    const first = events[0]!.seq;
    if (first !== this.#position + 1)
      this.#logger.warn({ after: this.#position, first }, 'outbox relay: sequence gap (pruned?)');
    this.#position = events.at(-1)!.seq;
    for (const listener of this.#listeners) {
      try {
        listener(events);
      } catch (error) {
        this.#logger.error({ err: error }, 'outbox relay listener failed');
      }
    }
    return events.length === this.#batchSize;
  }

  #failed(what: string, error: unknown) {
    if (this.#stopped) return;
    // The poll tries again within a second.
    this.#logger.warn({ err: error }, `outbox relay: ${what} failed`);
  }

  async #listen(): Promise<void> {
    const onNotification = (channel: string) => {
      if (channel === OUTBOX_CHANNEL) this.#publish.trigger();
      else this.#read.trigger();
    };
    const embedded = this.#database.embedded;
    if (embedded) {
      for (const channel of [OUTBOX_CHANNEL, PUBLISHED_CHANNEL]) {
        const unlisten = await embedded.exclusive((client) =>
          client.listen(channel, () => onNotification(channel)),
        );
        this.#unlisten.push(() => embedded.exclusive(() => unlisten()));
      }
      return;
    }
    await this.#connectListener(onNotification);
  }

  /** PostgreSQL: a dedicated connection for LISTEN, reconnected with backoff when lost. */
  async #connectListener(onNotification: (channel: string) => void): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({
      connectionString: this.#database.url,
      application_name: 'fresh-choice-realtime',
      keepAlive: true,
    });
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.#pgListener === client) this.#pgListener = undefined;
      client.end().catch(() => {});
      if (this.#stopped) return;
      this.#logger.warn({ err: error }, 'outbox relay: listener connection lost; reconnecting');
      this.#scheduleReconnect(onNotification);
    };
    client.on('notification', (message) => onNotification(message.channel));
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}; listen ${PUBLISHED_CHANNEL}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#pgListener = client;
    this.#reconnectDelay = RECONNECT_MIN_MS;
    // Whatever was committed or published while no one listened.
    this.#publish.trigger();
    this.#read.trigger();
  }

  #scheduleReconnect(onNotification: (channel: string) => void) {
    clearTimeout(this.#reconnect);
    this.#reconnect = setTimeout(() => void this.#connectListener(onNotification), this.#reconnectDelay);
    this.#reconnect.unref();
    this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  /** Test hook: drops the listener connection as a network failure would. */
  dropListenerConnection(): void {
    this.#pgListener?.emit('error', new Error('dropped by test'));
  }
}

interface Coalesced {
  /** Runs the work now, or once more after the run in progress. */
  trigger(): void;
  /** Resolves when no run is in progress. */
  idle(): Promise<void>;
}

/**
 * At most one run at a time; triggers during a run fold into one more run after it. The work
 * returns true to be run again at once (a full page).
 */
function coalesced(work: () => Promise<boolean>, onError: (error: unknown) => void): Coalesced {
  let running: Promise<void> | undefined;
  let again = false;
  const loop = async () => {
    try {
      do {
        again = false;
        try {
          if (await work()) again = true;
        } catch (error) {
          onError(error);
        }
      } while (again);
    } finally {
      running = undefined;
    }
  };
  return {
    trigger() {
      if (running) {
        again = true;
        return;
      }
      running = loop();
    },
    idle: () => running ?? Promise.resolve(),
  };
}
