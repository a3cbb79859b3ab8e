import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { errors } from '../../platform/http/errors.ts';
import { holidayCalendarProblem } from '../forecasting/holidays.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { AuthContext } from '../auth/guard.ts';
import type { StoreSettings } from './store-settings.ts';
import { DEFAULT_SETTINGS, type Settings } from './settings.schemas.ts';
import { readSettings, writeSettings } from './settings.repository.ts';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export function withDefaults(stored: Record<string, unknown>): Settings {
  return { ...DEFAULT_SETTINGS, ...(stored as Partial<Settings>) };
}

export class SettingsService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;

  constructor(db: Kysely<DB>, settings: StoreSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  async get(auth: AuthContext): Promise<Settings> {
    return withTenant(this.#db, auth.orgId, (trx) => this.#settings.read(trx, auth.orgId));
  }

  /** Merges the given keys into the stored settings; keys not given keep their values. */
  async update(auth: AuthContext, changes: Partial<Settings>, ip: string): Promise<Settings> {
    const problems: Array<{ field: string; message: string }> = [];
    if (changes.timeZone !== undefined && !isTimeZone(changes.timeZone)) {
      problems.push({ field: 'timeZone', message: `'${changes.timeZone}' is not an IANA time zone` });
    }
    if (changes.currency !== undefined && !CURRENCIES.has(changes.currency)) {
      problems.push({ field: 'currency', message: `'${changes.currency}' is not an ISO 4217 currency code` });
    }
    const next = await withTenant(this.#db, auth.orgId, async (trx) => {
      const merged = withDefaults({ ...(await readSettings(trx, auth.orgId)), ...changes });
      if (merged.country === null && merged.region !== null) {
        problems.push({ field: 'region', message: 'a region needs a country' });
      } else if (merged.country !== null && (changes.country !== undefined || changes.region !== undefined)) {
        const problem = holidayCalendarProblem(merged.country, merged.region);
        if (problem) problems.push(problem);
      }
      if (problems.length) throw errors.unprocessable('Some settings are invalid', problems);
      await writeSettings(trx, auth.orgId, merged);
      await recordAudit(trx, {
        orgId: auth.orgId,
        action: 'settings_updated',
        actorId: auth.userId,
        ip,
        details: changes,
      });
      return merged;
    });
    // After the commit: a reader must not re-cache the old values from before it.
    await this.#settings.invalidate(auth.orgId);
    return next;
  }
}
