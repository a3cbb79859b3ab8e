import type { Database } from '../../platform/db/database.ts';
import type { UserRole } from '../../platform/db/schema.ts';
import type { Logger } from '../../platform/logger.ts';
import { hashPassword } from '../auth/passwords.ts';
import { DEFAULT_SETTINGS } from '../settings/settings.schemas.ts';

/**
 * The demo store: a fixed id, so seeding is idempotent (a second run finds it and does nothing)
 * and the demo can be found again. Each feature adds its own demo rows here as its tables land:
 * the store and one member per role now; items, lots and sales history with inventory.
 */
export const DEMO_ORG_ID = '00000000-0000-4000-8000-00000000d3e0';
export const DEMO_ORG_NAME = 'Fresh Choice Demo Market';
/** Printed at start-up and in the README: it is a demo, on a server bound to localhost by default. */
export const DEMO_PASSWORD = 'fresh-demo-2026';
export const DEMO_USERS: ReadonlyArray<{ email: string; username: string; role: UserRole }> = [
  { email: 'admin@demo.freshchoice.local', username: 'Alex Admin', role: 'admin' },
  { email: 'manager@demo.freshchoice.local', username: 'Morgan Manager', role: 'manager' },
  { email: 'employee@demo.freshchoice.local', username: 'Emery Employee', role: 'employee' },
  { email: 'viewer@demo.freshchoice.local', username: 'Vic Viewer', role: 'viewer' },
];

export interface SeedResult {
  created: boolean;
  summary: Record<string, unknown>;
}

export async function seedDemo(database: Database, logger?: Logger): Promise<SeedResult> {
  const login = { email: DEMO_USERS[0]!.email, password: DEMO_PASSWORD };
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  return database.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('organizations')
      .values({
        id: DEMO_ORG_ID,
        name: DEMO_ORG_NAME,
        settings: JSON.stringify({ ...DEFAULT_SETTINGS, timeZone: 'Europe/Rome', currency: 'EUR' }),
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      logger?.debug('demo store already present; nothing to seed');
      return { created: false, summary: { organization: DEMO_ORG_NAME, login } };
    }
    await trx
      .insertInto('users')
      .values(DEMO_USERS.map((user) => ({ ...user, org_id: DEMO_ORG_ID, password_hash: passwordHash })))
      .execute();
    return {
      created: true,
      summary: { organization: DEMO_ORG_NAME, users: DEMO_USERS.length, login },
    };
  });
}
