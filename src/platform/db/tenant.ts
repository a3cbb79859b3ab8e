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
    await enterTenant(trx, orgId);
    return work(trx);
  });
}

/** Switches the transaction to the app role with the organisation set (both end with it). */
export async function enterTenant(trx: Transaction<DB>, orgId: string): Promise<void> {
  await sql`select set_config('role', ${APP_ROLE}, true), set_config('app.org_id', ${orgId}, true)`.execute(
    trx,
  );
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock detected

/**
 * withTenant, retried (up to 3 attempts, with jitter) when PostgreSQL aborts the transaction as a
 * deadlock victim or a serialization failure: the client sees the change applied, never the race.
 * Only for work that is safe to run again from the start, which a rolled-back transaction is.
 */
export async function withTenantRetry<T>(
  db: Kysely<DB>,
  orgId: string,
  work: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTenant(db, orgId, work);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 3 || !code || !RETRYABLE.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
    }
  }
}
