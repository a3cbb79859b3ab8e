import type { Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/logger.ts';

/**
 * The demo store: a fixed id, so seeding is idempotent (a second run finds it and does nothing)
 * and the demo can be found again. Each feature issue adds its own demo rows here as its tables
 * land: users and the printed login with accounts, items, lots and sales history with inventory.
 */
export const DEMO_ORG_ID = '00000000-0000-4000-8000-00000000d3e0';
export const DEMO_ORG_NAME = 'Fresh Choice Demo Market';

export interface SeedResult {
  created: boolean;
  summary: Record<string, unknown>;
}

export async function seedDemo(database: Database, logger?: Logger): Promise<SeedResult> {
  return database.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('organizations')
      .values({ id: DEMO_ORG_ID, name: DEMO_ORG_NAME })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      logger?.debug('demo store already present; nothing to seed');
      return { created: false, summary: { organization: DEMO_ORG_NAME } };
    }
    return { created: true, summary: { organization: DEMO_ORG_NAME } };
  });
}
