import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Cache } from '../../platform/cache/cache.ts';
import type { DB } from '../../platform/db/schema.ts';
import { sessionState } from './auth.repository.ts';

export interface SessionStateValue {
  active: boolean;
  sessionVersion: number;
  /**
   * The user's sessions (refresh families, the tokens' `sid`) ended by logout, reuse detection
   * or a password change within an access token's lifetime: their access tokens are refused.
   */
  endedSessions: string[];
}

/** A cached state, or the mark a change leaves in its place until the state is read again. */
type Entry = { state: SessionStateValue } | { changed: string };

const TTL_SECONDS = 30;
/**
 * How much longer than an access token's lifetime an ended session is listed: tokens' expiry is
 * stamped by the instance that signed them, the revocation time by another, and clocks differ.
 */
const CLOCK_SKEW_SECONDS = 60;

/**
 * Whether a user's access tokens still count: the account is active, the token's session version
 * is current, and its session has not ended. Read on every authenticated request, so it is cached
 * (in Redis when configured, shared by every instance; else in this process, which is then the
 * only instance) for 30 s, and replaced the moment it changes.
 *
 * A change does not delete the entry but replaces it with a fresh mark, and a read that missed
 * writes its state back only if the entry is still what it saw before reading the database
 * (`setIfUnchanged`). A read that started before the change committed would otherwise write the
 * old state back after the change's eviction, and it would count for another 30 s.
 */
export class SessionStates {
  readonly #db: Kysely<DB>;
  readonly #cache: Cache;
  readonly #endedWithinSeconds: number;

  constructor(db: Kysely<DB>, cache: Cache, accessTokenTtlSeconds: number) {
    this.#db = db;
    this.#cache = cache;
    this.#endedWithinSeconds = accessTokenTtlSeconds + CLOCK_SKEW_SECONDS;
  }

  async get(userId: string): Promise<SessionStateValue | undefined> {
    const key = keyOf(userId);
    const entry = await this.#cache.get<Entry>(key);
    if (entry && 'state' in entry) return entry.state;
    const row = await sessionState(this.#db, userId, this.#endedWithinSeconds);
    if (!row) return undefined;
    const state: SessionStateValue = {
      active: row.active,
      sessionVersion: row.session_version,
      endedSessions: row.ended_sessions ?? [],
    };
    await this.#cache.setIfUnchanged(key, entry, { state }, TTL_SECONDS);
    return state;
  }

  /** Call after the change has committed: the next read, on any instance, sees it. */
  async invalidate(userId: string): Promise<void> {
    await this.#cache.set(keyOf(userId), { changed: randomUUID() } satisfies Entry, TTL_SECONDS);
  }
}

/** Named apart from the earlier `session-state:` entries, which lack `endedSessions`. */
const keyOf = (userId: string) => `session:${userId}`;
