import { oncePerKey } from '../../platform/db/idempotency.ts';
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { DB, MovementType } from '../../platform/db/schema.ts';
import { withTenant, withTenantRetry } from '../../platform/db/tenant.ts';
import { paginate } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import type { AuthContext } from '../auth/guard.ts';
import { storedReorderPolicy } from '../forecasting/forecasting.repository.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { barcodeColumns } from './barcode.ts';
import { correctSearch } from './spelling.ts';
import { syncItemAlerts } from '../alerts/alerts.service.ts';
import * as repo from './inventory.repository.ts';
import type { ItemRow, StatusContext } from './inventory.repository.ts';
import type {
  AdjustBody,
  AdjustResult,
  AdjustmentReason,
  CreateItemBody,
  Item,
  ListQuery,
  UpdateItemBody,
} from './inventory.schemas.ts';

/** Which ledger movement each adjustment reason is, and which sign it must have. */
const REASONS: Record<AdjustmentReason, { type: MovementType; sign: 1 | -1 | 0 }> = {
  received: { type: 'receipt', sign: 1 },
  sold: { type: 'sale', sign: -1 },
  expired: { type: 'waste', sign: -1 },
  damaged: { type: 'waste', sign: -1 },
  spoiled: { type: 'waste', sign: -1 },
  theft: { type: 'waste', sign: -1 },
  returned_to_vendor: { type: 'transfer', sign: -1 },
  count_correction: { type: 'count', sign: 0 },
  other: { type: 'adjustment', sign: 0 },
};

/** Item fields that map one-to-one onto columns (stock and expiry go through the ledger). */
const FIELD_COLUMNS = {
  description: 'description',
  category: 'category',
  brand: 'brand',
  department: 'department',
  itemSku: 'item_sku',
  itemUpc: 'item_upc',
  packSize: 'pack_size',
  qtyShipped: 'qty_shipped',
  salesWeekly: 'sales_weekly',
  location: 'location',
  aisle: 'aisle',
  row: 'row',
  bin: 'bin',
  unitCost: 'unit_cost',
  vendorCost: 'vendor_cost',
  custCostEach: 'cust_cost_each',
  unitRetail: 'unit_retail',
  advertisingFlag: 'advertising_flag',
  orderType: 'order_type',
  vendorId: 'vendor_id',
  reorderPoint: 'reorder_point',
  shelfLifeDays: 'shelf_life_days',
} as const satisfies Record<string, keyof ItemRow>;
type Field = keyof typeof FIELD_COLUMNS;
/** Every column columnsFrom can set: the fields' columns and the barcode's GTIN. */
export const ITEM_INPUT_COLUMNS: readonly string[] = [...Object.values(FIELD_COLUMNS), 'gtin'];
export const NUMERIC_FIELDS = new Set<Field>([
  'qtyShipped',
  'salesWeekly',
  'unitCost',
  'vendorCost',
  'custCostEach',
  'unitRetail',
  'reorderPoint',
]);

const num = (value: string | number | null | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);
/** Quantities are numeric(14,3): compute in thousandths so FEFO sums never drift. */
export const milli = (value: string | number): number => Math.round(Number(value) * 1000);
export const fromMilli = (value: number): number => value / 1000;
export const isoDate = (value: string | Date | null): string | null =>
  value === null ? null : typeof value === 'string' ? value : value.toISOString().slice(0, 10);

/**
 * Per zone, its formatter and the last date it gave. Building an Intl formatter cost more than a
 * list query's own JS (1.4% of a profiled run), and formatting 0.9% of a list request: the date is
 * kept for the minute it was read in. Every zone's offset is a whole number of minutes, so its
 * date only changes on a minute.
 */
const zones = new Map<string, { formatter: Intl.DateTimeFormat; minute: number; day: string }>();

export function todayIn(timeZone: string, at = new Date()): string {
  const minute = Math.floor(at.getTime() / 60_000);
  let zone = zones.get(timeZone);
  if (zone?.minute === minute) return zone.day;
  if (!zone) {
    const formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    zone = { formatter, minute: Number.NaN, day: '' };
    zones.set(timeZone, zone);
  }
  zone.minute = minute;
  zone.day = zone.formatter.format(at);
  return zone.day;
}

export function addDays(date: string, days: number): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + days);
  return next.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export interface InventoryContext extends StatusContext {
  expiryWarningDays: number;
  /** The store's IANA zone, in which `today` is counted. */
  timeZone: string;
}

export async function loadContext(
  trx: Kysely<DB>,
  orgId: string,
  storeSettings: StoreSettings,
): Promise<InventoryContext> {
  const settings = await storeSettings.read(trx, orgId);
  const today = todayIn(settings.timeZone);
  return {
    today,
    timeZone: settings.timeZone,
    expiryWarningDays: settings.expiryWarningDays,
    lowStockThreshold: settings.lowStockThreshold,
    expiringBy: addDays(today, settings.expiryWarningDays),
  };
}

const insufficient = (available: number, requested: number, lotId?: string) =>
  new AppError(
    409,
    'INSUFFICIENT_STOCK',
    `Only ${available} in stock${lotId ? ' in that lot' : ''}; cannot take ${requested}`,
    { available, requested, ...(lotId ? { lotId } : {}) },
  );

const unknownLot = () =>
  errors.unprocessable('That lot does not belong to this item', [{ field: 'lotId', message: 'unknown lot' }]);

export const duplicateItem = () =>
  new AppError(409, 'DUPLICATE_ITEM', 'Another item in this store already has that SKU or barcode');

export interface StockChange {
  delta: number;
  reason: AdjustmentReason;
  type?: MovementType;
  notes?: string | undefined;
  lotId?: string | undefined;
  expirationDate?: string | undefined;
  lotCode?: string | undefined;
  unitCost?: number | undefined;
  userId: string | null;
  occurredAt?: Date;
  receivedDate?: string;
}

/**
 * Applies one stock change to an item whose row the caller has locked: lots first (a positive
 * change adds a lot or tops up the named one; a negative one takes from the named lot or FEFO),
 * then the item's cached totals, the ledger row, the history row and the outbox events — all in
 * the caller's transaction, so they stand or fall together.
 */
export async function applyStockChange(
  trx: Kysely<DB>,
  orgId: string,
  item: ItemRow,
  change: StockChange,
  ctx: InventoryContext,
) {
  const deltaMilli = milli(change.delta);
  if (deltaMilli === 0) throw errors.validation('adjustment must not be 0');
  const touched: Array<{ lotId: string; quantity: number }> = [];
  if (deltaMilli > 0) {
    if (change.lotId) {
      const lot = await repo.changeLotQuantity(trx, orgId, item.id, change.lotId, fromMilli(deltaMilli));
      if (!lot) throw unknownLot();
      touched.push({ lotId: lot.id, quantity: fromMilli(deltaMilli) });
    } else {
      const lot = await repo.receiveIntoBatch(trx, {
        orgId,
        itemId: item.id,
        quantity: fromMilli(deltaMilli),
        receivedDate: change.receivedDate ?? ctx.today,
        expirationDate: change.expirationDate ?? null,
        unitCost: change.unitCost ?? num(item.unit_cost),
        lotCode: change.lotCode ?? null,
      });
      touched.push({ lotId: lot.id, quantity: fromMilli(deltaMilli) });
    }
  } else {
    let needed = -deltaMilli;
    if (change.lotId) {
      const lot = await repo.findLot(trx, orgId, item.id, change.lotId);
      if (!lot) throw unknownLot();
      if (milli(lot.quantity) < needed) throw insufficient(Number(lot.quantity), fromMilli(needed), lot.id);
      await repo.changeLotQuantity(trx, orgId, item.id, lot.id, -fromMilli(needed));
      touched.push({ lotId: lot.id, quantity: -fromMilli(needed) });
    } else {
      const lots = await repo.fefoLots(trx, orgId, item.id);
      const available = lots.reduce((sum, lot) => sum + milli(lot.quantity), 0);
      if (available < needed) throw insufficient(fromMilli(available), fromMilli(needed));
      for (const lot of lots) {
        if (needed === 0) break;
        const take = Math.min(needed, milli(lot.quantity));
        await repo.changeLotQuantity(trx, orgId, item.id, lot.id, -fromMilli(take));
        touched.push({ lotId: lot.id, quantity: -fromMilli(take) });
        needed -= take;
      }
    }
  }

  const type = change.type ?? REASONS[change.reason].type;
  const before = Number(item.remaining_stock);
  const totals = await repo.refreshItemTotals(trx, orgId, item.id);
  const after = Number(totals.remaining_stock);
  const events: Array<{ type: string; payload: Record<string, unknown> }> = [
    {
      type: 'inventory:stock_updated',
      payload: {
        itemId: item.id,
        oldStock: before,
        newStock: after,
        reason: change.reason,
        updatedBy: change.userId,
      },
    },
  ];
  // The ledger row, its history row and the stock event in one statement (a round trip each was 3
  // of the ~11 statements of an adjustment, all under the item's row lock).
  const entry = {
    type,
    reason: change.reason,
    quantity: fromMilli(deltaMilli),
    stockBefore: before,
    stockAfter: after,
    lots: touched,
  };
  const movement = await repo.recordMovement(
    trx,
    {
      ...entry,
      orgId,
      itemId: item.id,
      unitCost: change.unitCost,
      notes: change.notes,
      userId: change.userId,
      ...(change.occurredAt ? { occurredAt: change.occurredAt } : {}),
    },
    events,
  );
  // The item's alerts from its new totals, one statement: opened, updated or resolved, with their
  // events after the stock event (only when one opens, gets worse or resolves).
  await syncItemAlerts(trx, orgId, item.id, ctx);
  return {
    movement: { id: movement.id, ...entry, occurredAt: new Date(movement.occurred_at).toISOString() },
  };
}

/**
 * Partial update of one item inside the caller's transaction. Plain fields are compared and each
 * change is recorded; a new `remainingStock` is a count correction through the ledger;
 * `expirationDate` alone corrects the expiry of the item's only lot with stock (with several, the
 * lot must be named through adjust-stock). An unknown item is a 404.
 */
export async function applyItemUpdate(
  trx: Kysely<DB>,
  orgId: string,
  userId: string | null,
  id: string,
  body: Omit<UpdateItemBody, 'id'>,
  ctx: InventoryContext,
): Promise<void> {
  const item = await repo.findItem(trx, orgId, id, true);
  if (!item) throw errors.notFound('Item');
  const changes: repo.FieldChange[] = [];
  const values: Record<string, unknown> = {};
  // The barcode as it will be stored (trimmed), refused before anything is written if it does not check.
  const barcode = body.itemUpc === undefined ? undefined : barcodeColumns(body.itemUpc);
  for (const [field, column] of Object.entries(FIELD_COLUMNS) as Array<[Field, keyof ItemRow]>) {
    const next = field === 'itemUpc' ? barcode?.item_upc : body[field];
    if (next === undefined) continue;
    const current = NUMERIC_FIELDS.has(field) ? num(item[column] as string | null) : item[column];
    if (current === next) continue;
    changes.push({ field, oldValue: current, newValue: next });
    values[column] = next;
  }
  if (values.item_upc !== undefined) values.gtin = barcode!.gtin;
  if (changes.length > 0) {
    await trx
      .updateTable('inventory_items')
      .set({ ...values, updated_at: new Date() } as never)
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .execute();
    await repo.insertChanges(trx, orgId, id, userId, changes);
  }

  // Re-read only when fields changed: the stock step below needs the row as it now stands.
  const current = changes.length > 0 ? (await repo.findItem(trx, orgId, id))! : item;
  const stock = milli(current.remaining_stock);
  const increasing = body.remainingStock !== undefined && milli(body.remainingStock) > stock;
  if (body.remainingStock !== undefined && milli(body.remainingStock) !== stock) {
    await applyStockChange(
      trx,
      orgId,
      current,
      {
        delta: fromMilli(milli(body.remainingStock) - stock),
        reason: 'count_correction',
        notes: 'Stock level set by item update',
        expirationDate: body.expirationDate,
        userId,
      },
      ctx,
    );
  }
  let expiryChanged = false;
  if (body.expirationDate !== undefined && !increasing) {
    const lots = await repo.fefoLots(trx, orgId, id);
    if (lots.length !== 1) {
      throw errors.unprocessable(
        lots.length === 0
          ? 'The item has no stock whose expiry could change'
          : 'The item has several lots: set the expiry of one through adjust-stock with its lotId',
        [{ field: 'expirationDate', message: `item has ${lots.length} lots with stock` }],
      );
    }
    const lot = lots[0]!;
    if (isoDate(lot.expiration_date) !== body.expirationDate) {
      await repo.setLotExpiry(trx, lot.id, body.expirationDate);
      await repo.refreshItemTotals(trx, orgId, id);
      await repo.insertChanges(trx, orgId, id, userId, [
        { field: 'expirationDate', oldValue: isoDate(lot.expiration_date), newValue: body.expirationDate },
      ]);
      expiryChanged = true;
    }
  }
  // A stock change set the alerts already; a new expiry date or reorder point (the low-stock
  // threshold) without one changes them too.
  if (expiryChanged || values.reorder_point !== undefined) await syncItemAlerts(trx, orgId, id, ctx);
}

/**
 * Items of this store by id (live ones only), in id order, for another module that prices or
 * receives them (purchasing). With `lock` every row is locked FOR UPDATE in id order: a caller
 * that then calls applyStockChange on several items cannot deadlock with another doing the same.
 */
export async function itemsById(
  trx: Kysely<DB>,
  orgId: string,
  ids: readonly string[],
  { lock = false } = {},
): Promise<Map<string, repo.ItemWithShelfLife>> {
  const rows = await repo.findItems(trx, orgId, [...new Set(ids)].sort(), lock);
  return new Map(rows.map((row) => [row.id, row]));
}

export function columnsFrom(body: Partial<Record<Field, unknown>>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(FIELD_COLUMNS) as Array<[Field, string]>) {
    if (body[field] !== undefined) values[column] = body[field];
  }
  if (body.itemUpc !== undefined) Object.assign(values, barcodeColumns(body.itemUpc as string));
  return values;
}

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

/** How long a store's search vocabulary is reused before it is read again (new words show up after it). */
const VOCABULARY_TTL_MS = 60_000;

export class InventoryService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;
  /** Per store: read only by searches that matched nothing, and a few thousand words at most. */
  readonly #vocabularies = new LRUCache<string, Set<string>>({ max: 1_000, ttl: VOCABULARY_TTL_MS });

  constructor(db: Kysely<DB>, settings: StoreSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  async #itemWithLots(trx: Kysely<DB>, orgId: string, id: string, ctx: InventoryContext): Promise<Item> {
    const [item] = await repo.apiItems(trx, orgId, [id], ctx);
    if (!item) throw errors.notFound('Item');
    return item;
  }

  async #vocabulary(orgId: string): Promise<Set<string>> {
    let words = this.#vocabularies.get(orgId);
    if (!words) {
      words = await repo.searchVocabulary(this.#db, orgId);
      this.#vocabularies.set(orgId, words);
    }
    return words;
  }

  async #checkVendor(trx: Kysely<DB>, orgId: string, vendorId: string | undefined) {
    if (vendorId && !(await repo.vendorExists(trx, orgId, vendorId))) {
      throw errors.unprocessable('Unknown vendor', [
        { field: 'vendorId', message: 'no such vendor in this store' },
      ]);
    }
  }

  async create(auth: AuthContext, body: CreateItemBody): Promise<Item> {
    const columns = columnsFrom(body);
    try {
      return await withTenant(this.#db, auth.orgId, async (trx) => {
        const ctx = await loadContext(trx, auth.orgId, this.#settings);
        await this.#checkVendor(trx, auth.orgId, body.vendorId);
        const created = await repo.insertItem(trx, auth.orgId, columns);
        await repo.insertChanges(trx, auth.orgId, created.id, auth.userId, [
          { field: 'created', oldValue: null, newValue: body.description },
        ]);
        if (body.remainingStock && body.remainingStock > 0) {
          await applyStockChange(
            trx,
            auth.orgId,
            created,
            {
              delta: body.remainingStock,
              reason: 'received',
              notes: 'Opening stock',
              expirationDate: body.expirationDate,
              lotCode: body.lotCode,
              unitCost: body.unitCost,
              userId: auth.userId,
            },
            ctx,
          );
        }
        return this.#itemWithLots(trx, auth.orgId, created.id, ctx);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateItem();
      throw error;
    }
  }

  async get(auth: AuthContext, id: string) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const item = await this.#itemWithLots(
        trx,
        auth.orgId,
        id,
        await loadContext(trx, auth.orgId, this.#settings),
      );
      return { ...item, reorderPolicy: await storedReorderPolicy(trx, auth.orgId, id) };
    });
  }

  /**
   * Partial update. Plain fields are compared and each change is recorded; a new `remainingStock`
   * is a count correction through the ledger; `expirationDate` alone corrects the expiry of the
   * item's only lot with stock (with several, the lot must be named through adjust-stock).
   */
  async update(auth: AuthContext, id: string, body: UpdateItemBody): Promise<Item> {
    if (body.id !== undefined && body.id !== id) {
      throw errors.validation('Body id does not match the path', [
        { field: 'id', message: 'must match the path' },
      ]);
    }
    try {
      return await withTenantRetry(this.#db, auth.orgId, async (trx) => {
        const ctx = await loadContext(trx, auth.orgId, this.#settings);
        await this.#checkVendor(trx, auth.orgId, body.vendorId);
        await applyItemUpdate(trx, auth.orgId, auth.userId, id, body, ctx);
        return this.#itemWithLots(trx, auth.orgId, id, ctx);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateItem();
      throw error;
    }
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await withTenant(this.#db, auth.orgId, async (trx) => {
      const deleted = await repo.softDelete(trx, auth.orgId, id);
      if (!deleted) throw errors.notFound('Item');
      await repo.insertChanges(trx, auth.orgId, id, auth.userId, [
        { field: 'deleted', oldValue: false, newValue: true },
      ]);
      // Its live alerts resolve as item_deleted (the UPDATE above holds the item's row lock).
      await syncItemAlerts(trx, auth.orgId, id, await loadContext(trx, auth.orgId, this.#settings));
    });
  }

  async list(auth: AuthContext, query: ListQuery) {
    const ctx = await loadContext(this.#db, auth.orgId, this.#settings);
    let { itemsJson, total } = await repo.listPage(this.#db, auth.orgId, query, ctx);
    if (total === 0 && query.search) {
      // Nothing matched as typed: correct each word against the store's vocabulary and try once
      // more (bananna → bananas, ornage juice → orange juice).
      const corrected = correctSearch(repo.searchWords(query.search), await this.#vocabulary(auth.orgId));
      if (corrected) {
        ({ itemsJson, total } = await repo.listPage(
          this.#db,
          auth.orgId,
          { ...query, search: corrected.join(' ') },
          ctx,
        ));
      }
    }
    // The items as PostgreSQL wrote them (API JSON), for the route to send without re-encoding.
    return { itemsJson, pagination: paginate(query.page, query.limit, total) };
  }

  /**
   * One stock adjustment. The item row is locked for the transaction, so concurrent adjustments
   * of one item queue and each applies exactly once. With an Idempotency-Key the first answer is
   * stored in the same transaction and replayed for retries; a concurrent retry waits on the key's
   * row and then replays too.
   */
  async adjust(
    auth: AuthContext,
    id: string,
    body: AdjustBody,
    idempotencyKey?: string,
  ): Promise<{ replayed: boolean; data: AdjustResult }> {
    const rule = REASONS[body.reason];
    if (rule.sign !== 0 && Math.sign(body.adjustment) !== rule.sign) {
      throw errors.unprocessable(
        `'${body.reason}' ${rule.sign > 0 ? 'adds' : 'removes'} stock: the adjustment must be ${rule.sign > 0 ? 'positive' : 'negative'}`,
        [
          {
            field: 'adjustment',
            message: `must be ${rule.sign > 0 ? 'positive' : 'negative'} for ${body.reason}`,
          },
        ],
      );
    }
    const requestHash = createHash('sha256').update(JSON.stringify({ id, body })).digest('hex');
    return withTenantRetry(this.#db, auth.orgId, (trx) =>
      oncePerKey(
        trx,
        { orgId: auth.orgId, userId: auth.userId, key: idempotencyKey, requestHash, statusCode: 200 },
        () => this.#adjustLocked(trx, auth, id, body),
      ),
    );
  }

  async #adjustLocked(
    trx: Transaction<DB>,
    auth: AuthContext,
    id: string,
    body: AdjustBody,
  ): Promise<AdjustResult> {
    const ctx = await loadContext(trx, auth.orgId, this.#settings);
    const item = await repo.findItem(trx, auth.orgId, id, true);
    if (!item) throw errors.notFound('Item');
    const { movement } = await applyStockChange(
      trx,
      auth.orgId,
      item,
      {
        delta: body.adjustment,
        reason: body.reason,
        notes: body.notes,
        lotId: body.lotId,
        expirationDate: body.expirationDate,
        lotCode: body.lotCode,
        unitCost: body.unitCost,
        userId: auth.userId,
      },
      ctx,
    );
    return { item: await this.#itemWithLots(trx, auth.orgId, id, ctx), movement };
  }

  async history(auth: AuthContext, id: string, page: number, limit: number) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const item = await trx
        .selectFrom('inventory_items')
        .select('id')
        .where('org_id', '=', auth.orgId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!item) throw errors.notFound('Item');
      const { rows, total } = await repo.history(trx, auth.orgId, id, page, limit);
      return {
        changes: rows.map((row) => ({
          id: row.id,
          field: row.field,
          oldValue: row.old_value,
          newValue: row.new_value,
          changedBy: row.changed_by,
          changedByName: row.username,
          changedAt: new Date(row.changed_at).toISOString(),
          ...(row.reason ? { reason: row.reason } : {}),
        })),
        pagination: paginate(page, limit, total),
      };
    });
  }
}
