import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { errors } from '../../platform/http/errors.ts';
import type { AuthContext } from '../auth/guard.ts';
import { todayIn } from '../inventory/inventory.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { vendorPerformance } from './performance.repository.ts';
import type { VendorPerformanceResponse } from './performance.schemas.ts';

/** The first day of the month `months - 1` months before `today`'s: a period of whole months. */
export function periodStart(today: string, months: number): string {
  const [year, month] = today.split('-').map(Number) as [number, number];
  const start = new Date(Date.UTC(year, month - 1 - (months - 1), 1));
  return start.toISOString().slice(0, 10);
}

export class VendorPerformanceService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;

  constructor(db: Kysely<DB>, settings: StoreSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  async performance(auth: AuthContext, vendorId: string, months: number): Promise<VendorPerformanceResponse> {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const vendor = await trx
        .selectFrom('vendors')
        .select(['id', 'name'])
        .where('org_id', '=', auth.orgId)
        .where('id', '=', vendorId)
        .executeTakeFirst();
      if (!vendor) throw errors.notFound('Vendor');
      const today = todayIn((await this.#settings.read(trx, auth.orgId)).timeZone);
      const period = { from: periodStart(today, months), to: today };
      const figures = (await vendorPerformance(trx, auth.orgId, [vendor.id], { ...period, today })).get(
        vendor.id,
      )!;
      return { vendorId: vendor.id, vendorName: vendor.name, period, ...figures };
    });
  }
}
