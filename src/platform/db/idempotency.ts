import { AppError } from '../http/errors.ts';
import type { Executor } from './tenant.ts';

/**
 * Idempotency-Key for writes that must apply once (stock adjustments, receipts): the key is
 * claimed in the write's own transaction and the first answer stored before commit, so a retry
 * with the same body replays that answer, one with another body is refused, and a concurrent
 * retry waits on the key's row and then replays too.
 */
export async function oncePerKey<T>(
  trx: Executor,
  claim: { orgId: string; userId: string; key: string | undefined; requestHash: string; statusCode: number },
  work: () => Promise<T>,
): Promise<{ replayed: boolean; data: T }> {
  const { orgId, key } = claim;
  if (!key) return { replayed: false, data: await work() };
  const claimed = await trx
    .insertInto('idempotency_keys')
    .values({ org_id: orgId, key, user_id: claim.userId, request_hash: claim.requestHash })
    .onConflict((conflict) => conflict.columns(['org_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (!claimed) {
    const existing = await trx
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'response'])
      .where('org_id', '=', orgId)
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    if (existing.request_hash !== claim.requestHash) {
      throw new AppError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was used for a different request',
      );
    }
    return { replayed: true, data: existing.response as T };
  }
  const data = await work();
  await trx
    .updateTable('idempotency_keys')
    .set({ status_code: claim.statusCode, response: JSON.stringify(data) })
    .where('org_id', '=', orgId)
    .where('key', '=', key)
    .execute();
  return { replayed: false, data };
}
