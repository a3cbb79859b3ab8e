import type { Static } from 'typebox';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { errors } from '../../platform/http/errors.ts';
import { paginate } from '../../platform/http/envelope.ts';
import type { AuthContext } from '../auth/guard.ts';
import { daysBetween } from '../inventory/inventory.service.ts';
import type { CreatePromotionBody, PromotionListQuery, UpdatePromotionBody } from './promotions.schemas.ts';
import {
  deletePromotion,
  findPromotion,
  insertPromotion,
  itemExists,
  listPromotions,
  presentPromotion,
  type PromotionValues,
  updatePromotion,
} from './promotions.repository.ts';

/**
 * The store's promotion calendar (/v1/ml/promotions): what forecasts learn promotion lift from,
 * and apply to the days ahead. A promotion is on one item or one category, never both.
 */
export class PromotionsService {
  readonly #db: Kysely<DB>;

  constructor(db: Kysely<DB>) {
    this.#db = db;
  }

  async list(auth: AuthContext, query: Static<typeof PromotionListQuery>) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { rows, total } = await listPromotions(trx, auth.orgId, query);
      return { promotions: rows.map(presentPromotion), pagination: paginate(query.page, query.limit, total) };
    });
  }

  async get(auth: AuthContext, id: string) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const row = await findPromotion(trx, auth.orgId, id);
      if (!row) throw errors.notFound('Promotion');
      return presentPromotion(row);
    });
  }

  async create(auth: AuthContext, body: Static<typeof CreatePromotionBody>) {
    const values = validated({
      name: body.name.trim(),
      itemId: body.itemId ?? null,
      category: body.category?.trim() ?? null,
      startsOn: body.startsOn,
      endsOn: body.endsOn,
      discountPercent: body.discountPercent,
      notes: body.notes?.trim() || null,
    });
    return withTenant(this.#db, auth.orgId, async (trx) => {
      await requireItem(trx, auth.orgId, values.itemId);
      return presentPromotion(await insertPromotion(trx, auth.orgId, auth.userId, values));
    });
  }

  async update(auth: AuthContext, id: string, body: Static<typeof UpdatePromotionBody>) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const current = await findPromotion(trx, auth.orgId, id);
      if (!current) throw errors.notFound('Promotion');
      // Naming one target replaces the other: a promotion moved from a category to an item.
      const target =
        body.itemId !== undefined || body.category !== undefined
          ? { itemId: body.itemId ?? null, category: body.category?.trim() ?? null }
          : { itemId: current.item_id, category: current.category };
      const values = validated({
        name: body.name?.trim() ?? current.name,
        ...target,
        startsOn: body.startsOn ?? current.starts_on,
        endsOn: body.endsOn ?? current.ends_on,
        discountPercent: body.discountPercent ?? Number(current.discount_percent),
        notes: body.notes === undefined ? current.notes : body.notes?.trim() || null,
      });
      if (values.itemId !== current.item_id) await requireItem(trx, auth.orgId, values.itemId);
      return presentPromotion((await updatePromotion(trx, auth.orgId, id, values))!);
    });
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await withTenant(this.#db, auth.orgId, async (trx) => {
      if (!(await deletePromotion(trx, auth.orgId, id))) throw errors.notFound('Promotion');
    });
  }
}

function validated(values: PromotionValues): PromotionValues {
  const problems: Array<{ field: string; message: string }> = [];
  if (!values.name) problems.push({ field: 'name', message: 'must not be blank' });
  if ((values.itemId === null) === (values.category === null)) {
    problems.push({ field: 'itemId', message: 'give exactly one of itemId and category' });
  }
  if (values.category === '') problems.push({ field: 'category', message: 'must not be blank' });
  if (values.endsOn < values.startsOn)
    problems.push({ field: 'endsOn', message: 'must not be before startsOn' });
  else if (daysBetween(values.startsOn, values.endsOn) > 366) {
    problems.push({ field: 'endsOn', message: 'a promotion lasts at most 366 days' });
  }
  if (problems.length) throw errors.validation('The promotion is invalid', problems);
  return values;
}

async function requireItem(trx: Kysely<DB>, orgId: string, itemId: string | null): Promise<void> {
  if (itemId !== null && !(await itemExists(trx, orgId, itemId))) {
    throw errors.validation('The item does not exist', [
      { field: 'itemId', message: 'no such item in this store' },
    ]);
  }
}
