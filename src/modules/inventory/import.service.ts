import { writeOutboxEvents } from '../../platform/db/outbox.ts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { timeOrderedId } from '../../platform/ids.ts';
import type { AuthContext } from '../auth/guard.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { gtinOf } from './barcode.ts';
import {
  type FileKind,
  type ImportField,
  type ParsedRow,
  type PendingRow,
  readBatches,
} from './import.rows.ts';
import * as repo from './inventory.repository.ts';
import {
  applyItemUpdate,
  columnsFrom,
  type InventoryContext,
  ITEM_INPUT_COLUMNS,
  loadContext,
} from './inventory.service.ts';

export interface ImportOptions {
  skipDuplicates: boolean;
  updateExisting: boolean;
  validateOnly: boolean;
}

export interface ImportError {
  row: number;
  field?: string;
  message: string;
}

export interface ImportResult {
  processed: number;
  created: number;
  updated: number;
  skipped: number;
  errors: ImportError[];
  /** All errors found; `errors` lists the first MAX_REPORTED_ERRORS of them. */
  errorCount: number;
  validateOnly: boolean;
}

const BATCH_ROWS = 500;
/** After this many new rows, refresh the planner's statistics once, mid-import (see #applyBatch). */
const MID_IMPORT_ANALYZE_ROWS = 5000;
/** Past this many rows the planner's statistics are refreshed after the import (see below). */
const ANALYZE_AFTER_ROWS = 1000;
const MAX_REPORTED_ERRORS = 1000;

/** The columns each bulk insert writes (every one, for every row: see repo.insertRowSets). */
const ITEM_IMPORT_COLUMNS = [
  'id',
  'org_id',
  ...ITEM_INPUT_COLUMNS,
  'remaining_stock',
  'earliest_expiry',
] as const;
const MOVEMENT_COLUMNS = [
  'org_id',
  'item_id',
  'type',
  'reason',
  'quantity',
  'stock_before',
  'stock_after',
  'lots',
  'unit_cost',
  'notes',
  'user_id',
] as const;
const CHANGE_COLUMNS = [
  'org_id',
  'item_id',
  'field',
  'old_value',
  'new_value',
  'reason',
  'changed_by',
] as const;

class RollBack extends Error {
  readonly result: ImportResult;
  constructor(result: ImportResult) {
    super('validate only: rolled back');
    this.result = result;
  }
}

type Values = ParsedRow['values'];

/** A row that passed its format checks, with the keys it is matched by. */
interface CheckedRow {
  row: number;
  values: Values;
  sku?: string;
  upc?: string;
  gtin?: string;
  vendorId?: string;
  /** The rows it becomes if it turns out to be a new item (see NewItemRows). */
  asNew: NewItemRows;
}

/**
 * A new item's rows in each table it goes into, as JSON text. Built for every checked row before
 * the database says which rows are new, because that is when Node would otherwise be idle (the
 * previous batch's insert is running); once it has said, a batch's insert only joins the texts.
 * A row that turns out to be an update or a duplicate wasted a few microseconds.
 */
interface NewItemRows {
  item: string;
  /** Its opening lot and the receipt that brought the lot in; none without opening stock. */
  lot?: string;
  receipt?: string;
  history: string;
}

/** What the database knows of a batch's keys: the live items they match, and the vendors that exist. */
interface Lookups {
  bySku: Map<string, string>;
  byGtin: Map<string, string>;
  byUpc: Map<string, string>;
  knownVendors: Set<string>;
}

/**
 * Bulk import. The file is read as a stream of rows; rows are checked and applied in batches of
 * 500 inside ONE transaction, so a failure (or a crash) part-way leaves nothing behind, and
 * `validateOnly` runs everything and rolls back. Bad rows are reported and skipped; the good
 * ones are applied. Rows match existing items by SKU, else barcode.
 */
export class ImportService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;

  constructor(db: Kysely<DB>, settings: StoreSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  async import(
    auth: AuthContext,
    path: string,
    kind: FileKind,
    options: ImportOptions,
  ): Promise<ImportResult> {
    const result: ImportResult = {
      processed: 0,
      created: 0,
      updated: 0,
      skipped: 0,
      errors: [],
      errorCount: 0,
      validateOnly: options.validateOnly,
    };
    let outcome: ImportResult;
    try {
      outcome = await withTenant(this.#db, auth.orgId, async (trx) => {
        const ctx = await loadContext(trx, auth.orgId, this.#settings);
        const seenInFile = new Map<string, number>();
        // The previous batch's insert. It is not waited for before the next batch is read: Node
        // parses and checks batch N+1 while PostgreSQL writes batch N, and N+1's lookups queue
        // behind that insert on the transaction's connection, so they see its rows. Waited for
        // (with the lookups, or after the last batch) before anything depends on it, and never
        // left unhandled meanwhile (its failure fails the import when it is waited for).
        let inserting: Promise<void> = Promise.resolve();
        try {
          for await (const batch of readBatches(path, kind, BATCH_ROWS)) {
            const rows = this.#check(batch, auth, ctx, result);
            const [, found] = await Promise.all([inserting, this.#lookUp(trx, auth.orgId, rows)]);
            const creates = await this.#decide(trx, auth, rows, found, options, ctx, result, seenInFile);
            inserting = this.#insertNew(trx, creates);
            inserting.catch(() => {});
            const before = result.created;
            result.created += creates.length;
            if (before < MID_IMPORT_ANALYZE_ROWS && result.created >= MID_IMPORT_ANALYZE_ROWS) {
              // The statistics predate this import: for a store new to the table they say it has
              // no items, and PostgreSQL planned each batch's match step as a hash of all the
              // store's items so far (15 ms a batch at 60k items, 2.6 s of a 100k-row import)
              // instead of 500 key probes. One ANALYZE here, which counts this transaction's own
              // rows (so after the insert), corrects it.
              await inserting;
              await repo.analyzeItemsMidTransaction(trx, auth.orgId);
            }
          }
          await inserting;
        } finally {
          // On a failure part-way (a malformed line, say), the rollback follows the insert in flight.
          await inserting.catch(() => {});
        }
        if (result.created + result.updated > 0) {
          // One event for the import, not one per row: listeners refresh instead of replaying 100k changes.
          await writeOutboxEvents(trx, auth.orgId, [
            {
              type: 'inventory:bulk_imported',
              payload: { created: result.created, updated: result.updated, importedBy: auth.userId },
            },
          ]);
        }
        // Within a batch, format errors are found before matching errors: report in file order.
        result.errors.sort((a, b) => a.row - b.row);
        if (options.validateOnly) throw new RollBack(result);
        return result;
      });
    } catch (error) {
      if (error instanceof RollBack) return error.result;
      throw error;
    }
    if (outcome.created + outcome.updated >= ANALYZE_AFTER_ROWS) {
      // A large import changes the tables faster than autovacuum re-samples them; until it does,
      // the planner still sees the old, small tables and can pick an org-wide scan over the
      // primary key (measured: a by-id lookup took 74 ms instead of 0.1 ms after 100k rows).
      // VACUUM also marks the new pages all-visible, so list pages can skip rows from the index
      // alone. Both need the owning role, hence the unscoped executor (and no transaction).
      await sql`vacuum (analyze) inventory_items, inventory_lots, stock_movements, item_changes`.execute(
        this.#db,
      );
    }
    return outcome;
  }

  /** Counts the batch, reports its rows' format errors, and returns the rows that passed. */
  #check(batch: PendingRow[], auth: AuthContext, ctx: InventoryContext, result: ImportResult): CheckedRow[] {
    result.processed += batch.length;
    const rows: CheckedRow[] = [];
    for (const { row, parsed } of batch) {
      for (const error of parsed.errors)
        reportError(result, { row, field: error.field, message: error.message });
      if (parsed.errors.length > 0) continue;
      const text = (field: ImportField) => (parsed.values[field] as string | undefined) || undefined;
      const upc = text('itemUpc');
      rows.push({
        row,
        values: parsed.values,
        sku: text('itemSku'),
        upc,
        gtin: gtinOf(upc) ?? undefined,
        vendorId: text('vendorId'),
        asNew: newItemRows(parsed.values, auth, ctx),
      });
    }
    return rows;
  }

  /** The live items the rows' SKUs and barcodes match, and which of their vendors exist. */
  async #lookUp(trx: Transaction<DB>, orgId: string, rows: CheckedRow[]): Promise<Lookups> {
    const present = (key: 'sku' | 'upc' | 'gtin' | 'vendorId') =>
      rows.map((row) => row[key]).filter((value): value is string => value !== undefined);
    const vendorIds = [...new Set(present('vendorId'))];
    const [existing, vendors] = await Promise.all([
      repo.liveItemsByKeys(trx, orgId, {
        skus: present('sku'),
        gtins: present('gtin'),
        upcs: present('upc'),
      }),
      vendorIds.length
        ? trx
            .selectFrom('vendors')
            .select('id')
            .where('org_id', '=', orgId)
            .where('id', 'in', vendorIds)
            .execute()
        : [],
    ]);
    return {
      bySku: new Map(existing.filter((item) => item.item_sku).map((item) => [item.item_sku!, item.id])),
      byGtin: new Map(existing.filter((item) => item.gtin).map((item) => [item.gtin!, item.id])),
      byUpc: new Map(existing.filter((item) => item.item_upc).map((item) => [item.item_upc!, item.id])),
      knownVendors: new Set(vendors.map((vendor) => vendor.id)),
    };
  }

  /**
   * Each row's fate: an error, skipped, an update of the item it matches (applied here), or a
   * new item (returned, for #insertNew).
   */
  async #decide(
    trx: Transaction<DB>,
    auth: AuthContext,
    rows: CheckedRow[],
    found: Lookups,
    options: ImportOptions,
    ctx: InventoryContext,
    result: ImportResult,
    seenInFile: Map<string, number>,
  ): Promise<NewItemRows[]> {
    const creates: NewItemRows[] = [];
    for (const { row, values, sku, upc, gtin, vendorId, asNew } of rows) {
      if (vendorId && !found.knownVendors.has(vendorId)) {
        reportError(result, { row, field: 'vendorId', message: 'no such vendor in this store' });
        continue;
      }
      // The same SKU or barcode earlier in this file.
      const keys = [sku && `sku:${sku}`, gtin && `gtin:${gtin}`, upc && `upc:${upc}`].filter(
        Boolean,
      ) as string[];
      const earlierRow = keys.map((key) => seenInFile.get(key)).find((value) => value !== undefined);
      if (earlierRow !== undefined) {
        if (options.skipDuplicates) result.skipped++;
        else
          reportError(result, {
            row,
            field: sku ? 'itemSku' : 'itemUpc',
            message: `duplicates row ${earlierRow} of this file`,
          });
        continue;
      }
      for (const key of keys) seenInFile.set(key, row);

      const match =
        (sku && found.bySku.get(sku)) ||
        (gtin && found.byGtin.get(gtin)) ||
        (upc && found.byUpc.get(upc)) ||
        undefined;
      if (match) {
        if (options.updateExisting) {
          const { lotCode: _lotCode, ...update } = values;
          await applyItemUpdate(trx, auth.orgId, auth.userId, match, update as never, ctx);
          result.updated++;
        } else if (options.skipDuplicates) {
          result.skipped++;
        } else {
          reportError(result, {
            row,
            field: sku ? 'itemSku' : 'itemUpc',
            message: `an item with this ${sku ? 'SKU' : 'barcode'} already exists; set updateExisting or skipDuplicates`,
          });
        }
        continue;
      }
      const missing = (['description', 'category'] as const).filter((field) => !values[field]);
      if (missing.length) {
        for (const field of missing)
          reportError(result, { row, field, message: 'is required for a new item' });
        continue;
      }
      creates.push(asNew);
    }
    return creates;
  }

  /** New items, their opening lots, receipts and history, in one statement (repo.insertRowSets). */
  async #insertNew(trx: Kysely<DB>, creates: NewItemRows[]): Promise<void> {
    if (creates.length === 0) return;
    const jsonArray = (texts: Array<string | undefined>) => `[${texts.filter(Boolean).join(',')}]`;
    await repo.insertRowSets(trx, [
      {
        table: 'inventory_items',
        columns: ITEM_IMPORT_COLUMNS,
        rowsJson: jsonArray(creates.map((rows) => rows.item)),
      },
      {
        table: 'inventory_lots',
        columns: repo.LOT_COLUMNS,
        rowsJson: jsonArray(creates.map((rows) => rows.lot)),
      },
      {
        table: 'stock_movements',
        columns: MOVEMENT_COLUMNS,
        rowsJson: jsonArray(creates.map((rows) => rows.receipt)),
      },
      {
        table: 'item_changes',
        columns: CHANGE_COLUMNS,
        rowsJson: jsonArray(creates.map((rows) => rows.history)),
      },
    ]);
  }
}

/** The rows a file row becomes as a new item: the item, its opening lot and receipt, its history. */
function newItemRows(values: Values, auth: AuthContext, ctx: InventoryContext): NewItemRows {
  // Time-ordered, like the tables' own defaults (migration 0013): an import's rows go to the
  // right edge of every index that holds their id.
  const id = timeOrderedId();
  const stock = Number(values.remainingStock ?? 0);
  const expirationDate = (values.expirationDate as string | undefined) ?? null;
  const unitCost = (values.unitCost as number | undefined) ?? null;
  const rows: NewItemRows = {
    item: JSON.stringify({
      // The table's defaults (0003) for the two non-null fields a file may leave out: every
      // listed column is written, so an absent one would be NULL.
      qty_shipped: 0,
      advertising_flag: false,
      ...columnsFrom(values),
      id,
      org_id: auth.orgId,
      remaining_stock: stock,
      earliest_expiry: stock > 0 ? expirationDate : null,
    }),
    history: JSON.stringify({
      org_id: auth.orgId,
      item_id: id,
      field: 'created',
      // Nothing before creation: SQL NULL, read back as null like any history value.
      old_value: null,
      new_value: values.description ?? null,
      reason: 'bulk import',
      changed_by: auth.userId,
    }),
  };
  if (stock > 0) {
    const lotId = timeOrderedId();
    rows.lot = JSON.stringify({
      id: lotId,
      org_id: auth.orgId,
      item_id: id,
      quantity: stock,
      initial_quantity: stock,
      expiration_date: expirationDate,
      received_date: ctx.today,
      unit_cost: unitCost,
      lot_code: (values.lotCode as string | undefined) ?? null,
    });
    rows.receipt = JSON.stringify({
      org_id: auth.orgId,
      item_id: id,
      type: 'receipt',
      reason: 'received',
      quantity: stock,
      stock_before: 0,
      stock_after: stock,
      lots: [{ lotId, quantity: stock }],
      unit_cost: unitCost,
      notes: 'Opening stock (bulk import)',
      user_id: auth.userId,
    });
  }
  return rows;
}

/** Counts an error, and lists it among the first MAX_REPORTED_ERRORS. */
function reportError(result: ImportResult, error: ImportError) {
  result.errorCount++;
  if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push(error);
}
