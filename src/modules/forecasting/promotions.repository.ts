import { sql } from 'kysely';
import type { Executor } from '../../platform/db/tenant.ts';

const COLUMNS = [
  'id',
  'name',
  'item_id',
  'category',
  'starts_on',
  'ends_on',
  'discount_percent',
  'notes',
  'created_at',
  'updated_at',
] as const;

export interface PromotionValues {
  name: string;
  itemId: string | null;
  category: string | null;
  startsOn: string;
  endsOn: string;
  discountPercent: number;
  notes: string | null;
}

type Row = Awaited<ReturnType<typeof findPromotion>>;

export function presentPromotion(row: NonNullable<Row>) {
  return {
    id: row.id,
    name: row.name,
    itemId: row.item_id,
    category: row.category,
    startsOn: row.starts_on,
    endsOn: row.ends_on,
    discountPercent: Number(row.discount_percent),
    notes: row.notes,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function findPromotion(db: Executor, orgId: string, id: string) {
  return db
    .selectFrom('promotions')
    .select(COLUMNS)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function itemExists(db: Executor, orgId: string, itemId: string): Promise<boolean> {
  const row = await db
    .selectFrom('inventory_items')
    .select('id')
    .where('org_id', '=', orgId)
    .where('id', '=', itemId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertPromotion(db: Executor, orgId: string, userId: string, values: PromotionValues) {
  return db
    .insertInto('promotions')
    .values({
      org_id: orgId,
      name: values.name,
      item_id: values.itemId,
      category: values.category,
      starts_on: values.startsOn,
      ends_on: values.endsOn,
      discount_percent: values.discountPercent,
      notes: values.notes,
      created_by: userId,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function updatePromotion(db: Executor, orgId: string, id: string, values: PromotionValues) {
  return db
    .updateTable('promotions')
    .set({
      name: values.name,
      item_id: values.itemId,
      category: values.category,
      starts_on: values.startsOn,
      ends_on: values.endsOn,
      discount_percent: values.discountPercent,
      notes: values.notes,
      updated_at: sql`now()`,
    })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning(COLUMNS)
    .executeTakeFirst();
}

export async function deletePromotion(db: Executor, orgId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('promotions')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function listPromotions(
  db: Executor,
  orgId: string,
  query: { page: number; limit: number; itemId?: string; category?: string; from?: string; to?: string },
) {
  let base = db.selectFrom('promotions').where('org_id', '=', orgId);
  if (query.itemId) base = base.where('item_id', '=', query.itemId);
  if (query.category)
    base = base.where(sql<string>`lower(btrim(category))`, '=', query.category.trim().toLowerCase());
  if (query.from) base = base.where('ends_on', '>=', query.from);
  if (query.to) base = base.where('starts_on', '<=', query.to);
  const rows = await base
    .select(COLUMNS)
    .orderBy('starts_on', 'desc')
    .orderBy('id')
    .limit(query.limit)
    .offset((query.page - 1) * query.limit)
    .execute();
  const total = await base.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return { rows, total: Number(total.count) };
}
