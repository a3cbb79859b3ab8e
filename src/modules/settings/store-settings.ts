import type { Cache } from '../../platform/cache/cache.ts';
import type { Executor } from '../../platform/db/tenant.ts';
import { readSettings } from './settings.repository.ts';
import type { Settings } from './settings.schemas.ts';
import { withDefaults } from './settings.service.ts';

const TTL_SECONDS = 60;
const key = (orgId: string) => `store-settings:${orgId}`;

/**
 * A store's settings, read on every inventory request (thresholds, warning days, time zone), so
 * cached (in Redis when configured, shared by all instances) and dropped when they change. The
 * TTL bounds the one race left: a read that started before a change and caches the old value.
 */
export class StoreSettings {
  readonly #cache: Cache;

  constructor(cache: Cache) {
    this.#cache = cache;
  }

  async read(db: Executor, orgId: string): Promise<Settings> {
    const cached = await this.#cache.get<Settings>(key(orgId));
    if (cached) return cached;
    const settings = withDefaults(await readSettings(db, orgId));
    await this.#cache.set(key(orgId), settings, TTL_SECONDS);
    return settings;
  }

  async invalidate(orgId: string): Promise<void> {
    await this.#cache.delete(key(orgId));
  }
}
