import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from './schema.ts';

/** The role request handling runs as (see migrations/0002_accounts.sql). */
export const APP_ROLE = 'fresh_choice_app';

export type Executor = Kysely<DB> | Transaction<DB>;

/**
 * Runs `work` in a transaction that is switched to the non-owner app role with the organisation
 * set, so row-level security confines every statement to that organisation even where a query
 * forgets its `org_id` filter. Both settings are transaction-local: the pooled connection goes
 * back clean.
 */
export async function withTenant<T>(
  db: Kysely<DB>,
  orgId: string,
  work: (trx: Transaction<DB>) => Promise<T>,
) {
  return db.transaction().execute(async (trx) => {
    await sql`select set_config('role', ${APP_ROLE}, true), set_config('app.org_id', ${orgId}, true)`.execute(
      trx,
    );
    return work(trx);
  });
}
