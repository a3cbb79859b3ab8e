import type { Kysely } from 'kysely';
import type { Cache } from '../../platform/cache/cache.ts';
import type { DB } from '../../platform/db/schema.ts';
import { sessionState } from './auth.repository.ts';

export interface SessionStateValue {
  active: boolean;
  sessionVersion: number;
}

const TTL_SECONDS = 30;

/**
 * Whether a user's access tokens still count: the account is active and the token's session
 * version is current. Read on every authenticated request, so it is cached (shared through Redis
 * when configured) and dropped from the cache the moment it changes; the TTL only bounds how long
 * a change made by another instance without a shared cache could go unseen.
 */
export class SessionStates {
  readonly #db: Kysely<DB>;
  readonly #cache: Cache;

  constructor(db: Kysely<DB>, cache: Cache) {
    this.#db = db;
    this.#cache = cache;
  }

  async get(userId: string): Promise<SessionStateValue | undefined> {
    const key = `session-state:${userId}`;
    const cached = await this.#cache.get<SessionStateValue>(key);
    if (cached) return cached;
    const row = await sessionState(this.#db, userId);
    if (!row) return undefined;
    const value = { active: row.active, sessionVersion: row.session_version };
    await this.#cache.set(key, value, TTL_SECONDS);
    return value;
  }

  async invalidate(userId: string): Promise<void> {
    await this.#cache.delete(`session-state:${userId}`);
  }
}
