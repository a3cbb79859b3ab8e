import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/database.ts';
import type { DB, UserRole } from '../../platform/db/schema.ts';
import type { Logger } from '../../platform/logger.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import { timeOrderedId } from '../../platform/ids.ts';
import { hashPassword } from '../auth/passwords.ts';
import { gtinOf } from '../inventory/barcode.ts';
import { productCatalog } from '../inventory/catalog.ts';
import { insertRowSets, LOT_COLUMNS } from '../inventory/inventory.repository.ts';
import { todayIn } from '../inventory/inventory.service.ts';
import { DEFAULT_SETTINGS } from '../settings/settings.schemas.ts';
import { DEMO_VENDORS, demoItems, prng, simulateItem } from './demo.data.ts';
import {
  type DemoLedgerReceipt,
  demoPurchasing,
  insertPurchasing,
  PURCHASING_TABLES,
} from './demo.purchasing.ts';
import { type DemoLedgerRow, insertLedger, tablesEmpty, withChecksAfterLoad } from './demo.repository.ts';

/**
 * The demo store: a fixed id, so seeding is idempotent (a second run finds it and does nothing)
 * and the demo can be found again. Each feature adds its own demo rows here as its tables land:
 * the store, one member per role, vendors, a few hundred items with lots, and six months of
 * daily trading in the ledger (see demo.data.ts).
 */
export const DEMO_ORG_ID = '00000000-0000-4000-8000-00000000d3e0';
export const DEMO_ORG_NAME = 'Fresh Choice Demo Market';
/** Printed at start-up and in the README: it is a demo, on a server bound to localhost by default. */
export const DEMO_PASSWORD = 'fresh-demo-2026';
export const DEMO_TIME_ZONE = 'Europe/Rome';
/** Six months of daily sales: enough for velocities, slow movers and forecasts to mean something. */
export const DEMO_HISTORY_DAYS = 183;
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

/**
 * The demo store's first forecasts, queued (low priority) right after the seed so a first start
 * shows forecasts and reorder policies within seconds of the demo being there, instead of after
 * the first 02:00 run. One queued job at most (singleton key): a restart does not queue another.
 */
export async function queueDemoForecasts(database: Database, queue: JobQueue): Promise<void> {
  await queue.enqueue(
    database.db,
    'forecast:update_predictions',
    {},
    { orgId: DEMO_ORG_ID, priority: 'low', singletonKey: 'demo-first-forecasts' },
  );
  // The day's shopping list, generated once those forecasts are in (it waits for them).
  await queue.enqueue(
    database.db,
    'shopping_list:generate_after_forecasts',
    {},
    { orgId: DEMO_ORG_ID, priority: 'low', singletonKey: 'demo-first-shopping-list' },
  );
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
        settings: JSON.stringify({
          ...DEFAULT_SETTINGS,
          timeZone: DEMO_TIME_ZONE,
          currency: 'EUR',
          country: 'IT',
        }),
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      logger?.debug('demo store already present; nothing to seed');
      return { created: false, summary: { organization: DEMO_ORG_NAME, login } };
    }
    const users = await trx
      .insertInto('users')
      .values(DEMO_USERS.map((user) => ({ ...user, org_id: DEMO_ORG_ID, password_hash: passwordHash })))
      .returning(['id', 'role'])
      .execute();
    const stock = await seedInventory(
      trx,
      users.find((user) => user.role === 'manager')!.id,
      database.kind === 'pglite',
    );
    return {
      created: true,
      summary: { organization: DEMO_ORG_NAME, users: DEMO_USERS.length, ...stock, login },
    };
  });
}

/**
 * Rows per set-based statement. One statement for the whole ledger (59,327 rows, 10 MB of JSON)
 * cost no less CPU on the embedded database and left its first-start process 100 MB larger:
 * PGlite's WebAssembly heap grows to hold the parameter and its parse, and never shrinks. At
 * 5,000 rows (under 1 MB) a statement, the heap grows as little as it did with the old VALUES
 * lists.
 */
const ROWS_PER_STATEMENT = 5000;

/** The tables the demo store's bulk rows go into (see seedInventory). */
const BULK_TABLES = ['inventory_lots', 'stock_movements', 'item_changes', ...PURCHASING_TABLES] as const;

/**
 * Vendors, items, their lots, the simulated ledger, and the vendor catalogues, purchase orders
 * and receipts behind the ledger's receipts (demo.purchasing.ts). The items (a few hundred) go in as one
 * multi-row INSERT; the lots (about 10,000) and the ledger (about 60,000 rows) through set-based
 * statements whose rows travel as one JSON parameter (before: multi-row VALUES lists of 4,000
 * rows, and on the embedded database the first start spent 8 of its 10 s here).
 */
async function seedInventory(trx: Kysely<DB>, managerId: string, freshEmbedded: boolean) {
  const catalogue = [...(await productCatalog()).byGtin.values()];
  const random = prng(424242);
  const items = demoItems(
    catalogue.map((product) => ({ name: product.name, brand: product.brand, gtin: product.gtin })),
    random,
  );
  const today = todayIn(DEMO_TIME_ZONE);
  const vendorIds = new Map(DEMO_VENDORS.map((vendor) => [vendor.key, randomUUID()]));
  await trx
    .insertInto('vendors')
    .values(
      DEMO_VENDORS.map((vendor) => ({
        id: vendorIds.get(vendor.key)!,
        org_id: DEMO_ORG_ID,
        name: vendor.name,
        payment_terms: vendor.paymentTerms,
      })),
    )
    .execute();

  const itemRows: unknown[] = [];
  const lotRows: string[] = [];
  const ledgerRows: DemoLedgerRow[] = [];
  const changeRows: unknown[] = [];
  const ledgerReceipts: DemoLedgerReceipt[] = [];
  const placed: Array<{ id: string; item: (typeof items)[number] }> = [];
  const at = (day: string, hour: number) => new Date(`${day}T${String(hour).padStart(2, '0')}:00:00Z`);
  for (const item of items) {
    const id = randomUUID();
    const { lots, movements, stock } = simulateItem(item, today, DEMO_HISTORY_DAYS, random);
    const lotIds = lots.map(() => randomUUID());
    const live = lots.filter((lot) => lot.quantity > 0);
    const createdAt = at(lots[0]!.receivedDate, 6);
    placed.push({ id, item });
    itemRows.push({
      id,
      org_id: DEMO_ORG_ID,
      description: item.description,
      category: item.category,
      department: item.department,
      brand: item.brand,
      item_sku: item.itemSku,
      item_upc: item.itemUpc,
      gtin: gtinOf(item.itemUpc),
      location: item.location,
      aisle: item.aisle,
      vendor_id: vendorIds.get(item.vendorKey)!,
      unit_cost: item.unitCost,
      vendor_cost: item.unitCost,
      unit_retail: item.unitRetail,
      reorder_point: item.reorderPoint,
      shelf_life_days: item.shelfLifeDays,
      qty_shipped: item.parLevel,
      sales_weekly: Math.round(item.baseDemand * 7),
      remaining_stock: stock,
      earliest_expiry: live.map((lot) => lot.expirationDate).sort()[0] ?? null,
      created_at: createdAt,
      updated_at: createdAt,
    });
    lots.forEach((lot, index) =>
      lotRows.push(
        JSON.stringify({
          id: lotIds[index],
          org_id: DEMO_ORG_ID,
          item_id: id,
          quantity: lot.quantity,
          initial_quantity: lot.initialQuantity,
          expiration_date: lot.expirationDate,
          received_date: lot.receivedDate,
          unit_cost: lot.unitCost,
          lot_code: `L${lot.receivedDate.replaceAll('-', '')}`,
        }),
      ),
    );
    for (const movement of movements) {
      const movementId = timeOrderedId();
      if (movement.type === 'receipt') {
        const lot = lots[movement.lots[0]!.lot]!;
        ledgerReceipts.push({
          itemId: id,
          item,
          day: movement.day,
          quantity: movement.quantity,
          movementId,
          lotId: lotIds[lot.index]!,
          lotCode: `L${lot.receivedDate.replaceAll('-', '')}`,
          expirationDate: lot.expirationDate,
        });
      }
      ledgerRows.push({
        id: movementId,
        i: id,
        t: movement.type,
        q: movement.quantity,
        b: movement.stockBefore,
        d: movement.day,
        l: movement.lots.map((touched) => ({ lotId: lotIds[touched.lot]!, quantity: touched.quantity })),
        ...(movement.type === 'receipt' ? { u: item.unitCost } : {}),
      });
    }
    changeRows.push({
      org_id: DEMO_ORG_ID,
      item_id: id,
      field: 'created',
      old_value: JSON.stringify(null),
      new_value: JSON.stringify(item.description),
      reason: 'demo data',
      changed_by: managerId,
      changed_at: createdAt,
    });
  }
  await trx
    .insertInto('inventory_items')
    .values(itemRows as never)
    .execute();
  const purchasing = demoPurchasing({
    orgId: DEMO_ORG_ID,
    managerId,
    currency: 'EUR',
    today,
    vendorIds,
    items: placed,
    receipts: ledgerReceipts,
    random,
  });
  const load = async () => {
    for (let start = 0; start < lotRows.length; start += ROWS_PER_STATEMENT) {
      const rowsJson = `[${lotRows.slice(start, start + ROWS_PER_STATEMENT).join(',')}]`;
      await insertRowSets(trx, [{ table: 'inventory_lots', columns: LOT_COLUMNS, rowsJson }]);
    }
    for (let start = 0; start < ledgerRows.length; start += ROWS_PER_STATEMENT)
      await insertLedger(trx, DEMO_ORG_ID, managerId, ledgerRows.slice(start, start + ROWS_PER_STATEMENT));
    await trx
      .insertInto('item_changes')
      .values(changeRows as never)
      .execute();
    await insertPurchasing(trx, DEMO_ORG_ID, purchasing, ROWS_PER_STATEMENT);
  };
  // Into a fresh embedded database, the rows' indexes are built and their foreign keys checked
  // once, after they are in (see withChecksAfterLoad); anywhere else row by row as they go in.
  if (freshEmbedded && (await tablesEmpty(trx, BULK_TABLES)))
    await withChecksAfterLoad(trx, BULK_TABLES, load);
  else await load();
  return {
    vendors: DEMO_VENDORS.length,
    items: itemRows.length,
    lots: lotRows.length,
    movements: ledgerRows.length,
    purchaseOrders: purchasing.orders.length,
    receiptLines: purchasing.receiptLines.length,
  };
}
