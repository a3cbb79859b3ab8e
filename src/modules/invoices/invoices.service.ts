import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { oncePerKey } from '../../platform/db/idempotency.ts';
import { writeOutboxEvents } from '../../platform/db/outbox.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { paginate, type Pagination } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import { timeOrderedId } from '../../platform/ids.ts';
import type { Platform } from '../../platform/platform.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import type { AuthContext } from '../auth/guard.ts';
import type { Notifier } from '../notifications/notifier.ts';
import * as filesRepo from '../files/files.repository.ts';
import type { FilesService, StagedFile } from '../files/files.service.ts';
import { insertChanges } from '../inventory/inventory.repository.ts';
import {
  addDays,
  applyStockChange,
  itemsById,
  loadContext,
  todayIn,
} from '../inventory/inventory.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import {
  type ExtractedInvoice,
  type ExtractionResult,
  extractInvoice,
  isExtractionFailure,
  learnHints,
  type VendorLayoutHints,
} from './extraction/index.ts';
import * as repo from './invoices.repository.ts';
import type { Invoice, ListQuery, ReconcileBody, StatusBody, UpdateInvoiceBody } from './invoices.schemas.ts';
import { type Conflict, matchLines, threeWayConflicts } from './matching.ts';

export const PROCESS_JOB = 'invoice:process';
/** Attempts of invoice:process (1 + retries): after the last, the invoice is marked failed. */
export const PROCESS_ATTEMPTS = 3;

const notFound = () => errors.notFound('Invoice');
const num = (value: string | number | null | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);
const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** A vendor's printed terms ("Net 30", "30 days", "14 Tage") as days, when it has a number. */
export function termsDays(terms: string | null | undefined): number | null {
  const match = terms?.match(/(\d{1,3})/);
  return match ? Number(match[1]) : null;
}

/**
 * The inbox message for an invoice that failed processing: to the member who uploaded it (the
 * one who can upload it again or enter it by hand), or to everyone when the uploader is unknown.
 */
async function notifyFailed(
  notifier: Notifier,
  trx: Kysely<DB>,
  orgId: string,
  row: Pick<repo.InvoiceRow, 'id' | 'uploaded_by' | 'invoice_number'>,
  code: string,
  message: string,
) {
  await notifier.notifyUsers(trx, orgId, {
    category: 'invoices',
    type: 'error',
    title: row.invoice_number
      ? `Invoice ${row.invoice_number} could not be read`
      : 'An invoice could not be read',
    message,
    data: { invoiceId: row.id, code },
    actions: [{ action: 'view-invoice', title: 'View invoice', url: `/invoices/${row.id}` }],
    ...(row.uploaded_by ? { userIds: [row.uploaded_by] } : {}),
  });
}

export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(body ?? null))
    .digest('hex');
}

export function toInvoice(row: repo.InvoiceRow, lines: repo.LineWithItem[]): Invoice {
  const conflicts = (row.conflicts ?? []) as unknown as Conflict[];
  const counted = lines.filter((line) => !line.ignored);
  return {
    id: row.id,
    invoiceId: row.id,
    status: row.status,
    paymentStatus: row.payment_status,
    failure: row.failure_code ? { code: row.failure_code, message: row.failure_message ?? '' } : null,
    fileId: row.file_id,
    vendorId: row.vendor_id,
    vendorName: row.vendor_name,
    vendorTaxId: row.vendor_tax_id,
    invoiceNumber: row.invoice_number,
    invoiceDate: row.invoice_date,
    dueDate: row.due_date,
    currency: row.currency,
    subtotal: num(row.subtotal),
    tax: num(row.tax),
    totalAmount: num(row.total),
    format: row.format,
    creditAmount: Number(row.credit_amount),
    paidDate: row.paid_date,
    paymentMethod: row.payment_method,
    paymentNotes: row.payment_notes,
    approvedAt: iso(row.approved_at),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    ...(row.status === 'processing' || row.status === 'failed'
      ? {}
      : {
          extractedData: {
            invoiceNumber: row.invoice_number ?? '',
            vendorName: row.vendor_name ?? '',
            invoiceDate: row.invoice_date ?? '',
            totalAmount: num(row.total) ?? 0,
            items: lines.map((line) => ({
              description: line.description,
              quantity: num(line.quantity) ?? 0,
              unitCost: num(line.unit_cost) ?? 0,
              totalCost: num(line.line_total) ?? 0,
              ...(line.gtin ? { upc: line.gtin } : {}),
              ...(line.vendor_sku ? { sku: line.vendor_sku } : {}),
            })),
          },
          matchingResults: {
            matched: counted.filter((line) => line.item_id).length,
            unmatched: counted.filter((line) => !line.item_id).length,
            conflicts,
          },
        }),
    lines: lines.map((line) => ({
      id: line.id,
      lineNumber: line.line_number,
      description: line.description,
      quantity: num(line.quantity),
      unit: line.unit,
      unitCost: num(line.unit_cost),
      totalCost: num(line.line_total),
      upc: line.gtin,
      sku: line.vendor_sku,
      itemId: line.item_id,
      itemDescription: line.item_description ?? null,
      matchMethod: line.match_method,
      matchScore: num(line.match_score),
      suggestions: line.suggestions,
      ignored: line.ignored,
      purchaseOrderLineId: line.po_line_id,
      orderedQuantity: num(line.ordered_quantity),
      receivedQuantity: num(line.received_quantity),
      poUnitCost: num(line.po_unit_cost),
      expirationDate: line.expiration_date,
      lotCode: line.lot_code,
    })),
  };
}

async function loadInvoice(trx: Kysely<DB>, orgId: string, id: string): Promise<Invoice> {
  const row = await repo.findInvoice(trx, orgId, id);
  if (!row) throw notFound();
  return toInvoice(row, await repo.linesOf(trx, orgId, [id]));
}

const invalidState = (row: repo.InvoiceRow, wanted: string) =>
  new AppError(409, 'INVALID_STATE', `This invoice is ${row.status}; ${wanted}`, { status: row.status });

/** The extraction kept for learning, without the other invoices of a spreadsheet. */
function storedExtraction(result: ExtractionResult, invoice: ExtractedInvoice): Record<string, unknown> {
  return {
    format: result.format,
    pages: result.pages,
    header: invoice.header,
    lines: invoice.lines,
    checks: invoice.checks,
    warnings: invoice.warnings,
    ...(result.layout ? { layout: result.layout } : {}),
    ...(result.lineColumns ? { lineColumns: result.lineColumns } : {}),
  };
}

export interface InvoicesServiceOptions {
  db: Kysely<DB>;
  queue: JobQueue;
  files: FilesService;
  settings: StoreSettings;
  /** Members hear of invoices that failed processing or became overdue (category `invoices`). */
  notifier: Notifier;
}

export class InvoicesService {
  readonly #db: Kysely<DB>;
  readonly #queue: JobQueue;
  readonly files: FilesService;
  readonly #settings: StoreSettings;
  readonly notifier: Notifier;

  constructor(options: InvoicesServiceOptions) {
    this.notifier = options.notifier;
    this.#db = options.db;
    this.#queue = options.queue;
    this.files = options.files;
    this.#settings = options.settings;
  }

  /**
   * Records a staged upload as a file and an invoice in `processing`, and queues invoice:process,
   * in one transaction. The same bytes again, or a vendor and number already known → 409 naming
   * the existing invoice; on any failure the staged bytes are removed.
   */
  async upload(
    auth: AuthContext,
    staged: StagedFile,
    fields: { vendorId?: string; invoiceNumber?: string; invoiceDate?: string },
  ) {
    try {
      return await withTenant(this.#db, auth.orgId, async (trx) => {
        const same = await repo.findBySha256(trx, auth.orgId, staged.sha256);
        if (same) {
          throw new AppError(409, 'DUPLICATE_INVOICE', 'This file was uploaded before', {
            invoiceId: same.id,
            reason: 'same_file',
          });
        }
        if (fields.vendorId) {
          if (!(await repo.findVendor(trx, auth.orgId, fields.vendorId))) {
            throw errors.unprocessable('Unknown vendor', [
              { field: 'vendorId', message: 'is not a vendor of this store' },
            ]);
          }
          if (fields.invoiceNumber) {
            const known = await repo.findByVendorNumber(
              trx,
              auth.orgId,
              fields.vendorId,
              fields.invoiceNumber,
            );
            if (known) {
              throw new AppError(
                409,
                'DUPLICATE_INVOICE',
                'This vendor’s invoice with this number is already here',
                {
                  invoiceId: known.id,
                  reason: 'same_number',
                },
              );
            }
          }
        }
        const invoiceId = timeOrderedId();
        await filesRepo.insertFile(trx, {
          id: staged.id,
          org_id: auth.orgId,
          category: 'invoice',
          original_filename: staged.filename,
          mime_type: staged.mimeType,
          size_bytes: staged.size,
          sha256: staged.sha256,
          storage_key: staged.key,
          title: null,
          description: null,
          tags: [],
          related_id: invoiceId,
          uploaded_by: auth.userId,
        });
        await repo.insertInvoice(trx, {
          id: invoiceId,
          org_id: auth.orgId,
          file_id: staged.id,
          file_sha256: staged.sha256,
          vendor_id: fields.vendorId ?? null,
          invoice_number: fields.invoiceNumber ?? null,
          invoice_date: fields.invoiceDate ?? null,
          uploaded_by: auth.userId,
        });
        const jobId = await this.#queue.enqueue(
          trx,
          PROCESS_JOB,
          { invoiceId },
          {
            orgId: auth.orgId,
            requestedBy: auth.userId,
          },
        );
        await writeOutboxEvents(trx, auth.orgId, [
          { type: 'invoice:uploaded', payload: { invoiceId, fileId: staged.id, status: 'processing' } },
        ]);
        return { invoiceId, status: 'processing' as const, fileId: staged.id, jobId: jobId! };
      });
    } catch (error) {
      await this.files.discard(staged);
      throw error;
    }
  }

  async get(auth: AuthContext, id: string): Promise<Invoice> {
    return withTenant(this.#db, auth.orgId, (trx) => loadInvoice(trx, auth.orgId, id));
  }

  async list(auth: AuthContext, query: ListQuery): Promise<{ invoices: Invoice[]; pagination: Pagination }> {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { rows, total } = await repo.listInvoices(trx, auth.orgId, query);
      const lines = await repo.linesOf(
        trx,
        auth.orgId,
        rows.map((row) => row.id),
      );
      const byInvoice = Map.groupBy(lines, (line) => line.invoice_id);
      return {
        invoices: rows.map((row) => toInvoice(row, byInvoice.get(row.id) ?? [])),
        pagination: paginate(query.page, query.limit, total),
      };
    });
  }

  /**
   * PUT /v1/invoices/:id: corrections while in review. Header fields and line mappings are
   * stored; the vendor's hints learn from them (labels, SKU → item) for its next invoice; the
   * matching conflicts of corrected lines are recomputed.
   */
  async update(auth: AuthContext, id: string, body: UpdateInvoiceBody): Promise<Invoice> {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const row = await repo.findInvoice(trx, auth.orgId, id, true);
      if (!row) throw notFound();
      if (row.status !== 'review') throw invalidState(row, 'only an invoice in review can be corrected');
      const vendorId = body.vendorId ?? row.vendor_id;
      if (body.vendorId && !(await repo.findVendor(trx, auth.orgId, body.vendorId))) {
        throw errors.unprocessable('Unknown vendor', [
          { field: 'vendorId', message: 'is not a vendor of this store' },
        ]);
      }
      const number = body.invoiceNumber ?? row.invoice_number;
      if (vendorId && number) {
        const known = await repo.findByVendorNumber(trx, auth.orgId, vendorId, number, id);
        if (known) {
          throw new AppError(
            409,
            'DUPLICATE_INVOICE',
            'This vendor’s invoice with this number is already here',
            {
              invoiceId: known.id,
              reason: 'same_number',
            },
          );
        }
      }
      const header: Record<string, string | number> = {};
      if (body.invoiceNumber !== undefined) header.invoiceNumber = body.invoiceNumber;
      if (body.invoiceDate !== undefined) header.invoiceDate = body.invoiceDate;
      if (body.dueDate !== undefined) header.dueDate = body.dueDate;
      if (body.totalAmount !== undefined) header.total = body.totalAmount;

      const lines = await repo.linesOf(trx, auth.orgId, [id]);
      const byNumber = new Map(lines.map((line) => [line.line_number, line]));
      const mapped = (body.lines ?? [])
        .map((change) => change.itemId)
        .filter((itemId): itemId is string => Boolean(itemId));
      const live = new Set((await repo.liveItems(trx, auth.orgId, mapped)).map((item) => item.id));
      const learnedLines: { index: number; vendorSku?: string; itemId?: string }[] = [];
      for (const change of body.lines ?? []) {
        const line = byNumber.get(change.lineNumber);
        if (!line) {
          throw errors.unprocessable(`This invoice has no line ${change.lineNumber}`, [
            { field: 'lines.lineNumber', message: `must be 1 to ${lines.length}` },
          ]);
        }
        if (change.itemId && !live.has(change.itemId)) {
          throw errors.unprocessable('Unknown item', [
            { field: 'lines.itemId', message: 'is not a live item of this store' },
          ]);
        }
        await repo.updateLine(trx, auth.orgId, line.id, {
          ...(change.itemId !== undefined
            ? {
                item_id: change.itemId,
                match_method: change.itemId ? 'manual' : null,
                match_score: change.itemId ? 1 : null,
                suggestions: '[]',
              }
            : {}),
          ...(change.quantity !== undefined ? { quantity: change.quantity } : {}),
          ...(change.unitCost !== undefined ? { unit_cost: change.unitCost } : {}),
          ...(change.ignored !== undefined ? { ignored: change.ignored } : {}),
          ...(change.expirationDate !== undefined ? { expiration_date: change.expirationDate } : {}),
          ...(change.lotCode !== undefined ? { lot_code: change.lotCode } : {}),
        });
        if (change.itemId) {
          learnedLines.push({
            index: change.lineNumber - 1,
            ...(line.vendor_sku ? { vendorSku: line.vendor_sku } : {}),
            itemId: change.itemId,
          });
        }
      }

      // Learning: kept per vendor, so its next invoice is read and matched with it.
      if (vendorId && row.extraction && (Object.keys(header).length > 0 || learnedLines.length > 0)) {
        const previous = ((await repo.vendorHints(trx, auth.orgId, vendorId)) ?? {}) as VendorLayoutHints;
        const learned = learnHints(previous, row.extraction as unknown as ExtractionResult, {
          header,
          lines: learnedLines,
        });
        await repo.saveVendorHints(trx, auth.orgId, vendorId, learned);
      }

      await repo.updateInvoice(trx, auth.orgId, id, {
        vendor_id: vendorId,
        ...(body.invoiceNumber !== undefined ? { invoice_number: body.invoiceNumber } : {}),
        ...(body.invoiceDate !== undefined ? { invoice_date: body.invoiceDate } : {}),
        ...(body.dueDate !== undefined ? { due_date: body.dueDate } : {}),
        ...(body.totalAmount !== undefined ? { total: body.totalAmount } : {}),
        corrections: JSON.stringify({ ...(row.corrections as object), ...header }),
      });
      await this.#rematch(trx, auth.orgId, id, vendorId);
      await writeOutboxEvents(trx, auth.orgId, [
        { type: 'invoice:updated', payload: { invoiceId: id, status: 'review' } },
      ]);
      return loadInvoice(trx, auth.orgId, id);
    });
  }

  /** Recomputes the three-way match and the unmatched-line conflicts from the lines as they stand. */
  async #rematch(trx: Kysely<DB>, orgId: string, invoiceId: string, vendorId: string | null) {
    const lines = await repo.linesOf(trx, orgId, [invoiceId]);
    const conflicts: Conflict[] = [];
    const itemIds = [
      ...new Set(lines.map((line) => line.item_id).filter((itemId): itemId is string => Boolean(itemId))),
    ];
    const orders = vendorId ? await repo.openOrderLines(trx, orgId, vendorId, itemIds) : [];
    const claimed = await repo.invoicedAgainst(
      trx,
      orgId,
      orders.map((order) => order.id),
      invoiceId,
    );
    for (const line of lines) {
      if (line.ignored) continue;
      if (!line.item_id) {
        conflicts.push({
          item: line.description,
          lineNumber: line.line_number,
          kind: 'unmatched',
          issue:
            line.suggestions.length > 0
              ? 'No sure match: pick one of the suggested items'
              : 'No item matches this line',
          suggestions: line.suggestions.map(
            (suggestion) => `${suggestion.description} (${suggestion.itemId})`,
          ),
        });
        await repo.updateLine(trx, orgId, line.id, {
          po_line_id: null,
          ordered_quantity: null,
          received_quantity: null,
          po_unit_cost: null,
        });
        continue;
      }
      // The newest order of this item with units not yet claimed by another approved invoice.
      const order =
        orders.find(
          (candidate) =>
            candidate.item_id === line.item_id &&
            (claimed.get(candidate.id) ?? 0) < Number(candidate.quantity_units),
        ) ?? orders.find((candidate) => candidate.item_id === line.item_id);
      if (!order) {
        await repo.updateLine(trx, orgId, line.id, {
          po_line_id: null,
          ordered_quantity: null,
          received_quantity: null,
          po_unit_cost: null,
        });
        continue;
      }
      const figures = {
        poLineId: order.id,
        poNumber: order.po_number,
        orderedQuantity: Number(order.quantity_units),
        receivedQuantity: Math.max(0, Number(order.received_units) - (claimed.get(order.id) ?? 0)),
        unitCost: Number(order.unit_cost),
      };
      await repo.updateLine(trx, orgId, line.id, {
        po_line_id: figures.poLineId,
        ordered_quantity: figures.orderedQuantity,
        received_quantity: figures.receivedQuantity,
        po_unit_cost: figures.unitCost,
      });
      conflicts.push(
        ...threeWayConflicts(
          {
            lineNumber: line.line_number,
            description: line.description,
            quantity: num(line.quantity),
            unitCost: num(line.unit_cost),
          },
          figures,
        ),
      );
    }
    await repo.updateInvoice(trx, orgId, invoiceId, { conflicts: JSON.stringify(conflicts) });
  }

  // -------------------------------------------------------------------------------------------
  // The invoice:process job

  /**
   * Reads the stored file and writes the invoice, its lines and matches in one transaction. An
   * extraction failure (a property of the file) marks the invoice failed with its code and
   * message and is not retried; other errors are retried, and the last attempt marks it failed
   * (processing_error) so no invoice is left processing.
   */
  async process(
    platform: Pick<Platform, 'storage'>,
    orgId: string,
    invoiceId: string,
    attempt: number,
    signal?: AbortSignal,
  ) {
    const row = await withTenant(this.#db, orgId, (trx) => repo.findInvoice(trx, orgId, invoiceId));
    if (!row || row.status !== 'processing') return { skipped: `invoice is ${row?.status ?? 'gone'}` };
    try {
      const file = await withTenant(this.#db, orgId, (trx) =>
        filesRepo.findLiveFile(trx, orgId, row.file_id),
      );
      if (!file)
        return this.#fail(
          orgId,
          invoiceId,
          'file_deleted',
          'The uploaded file was deleted before it was read: upload it again',
        );
      const bytes = await buffer((await platform.storage.get(file.storage_key)).body);
      const input = {
        bytes: new Uint8Array(bytes),
        fileName: file.original_filename,
        mediaType: file.mime_type,
      };
      let hints = row.vendor_id ? await this.#hints(orgId, row.vendor_id) : undefined;
      let result = await extractInvoice(input, {
        ...(hints ? { hints } : {}),
        ...(signal ? { signal } : {}),
      });
      const vendor = row.vendor_id
        ? await withTenant(this.#db, orgId, (trx) => repo.findVendor(trx, orgId, row.vendor_id!))
        : await this.#matchVendor(orgId, result.header);
      // A vendor found from the page: read again with what was learned from its invoices.
      if (!row.vendor_id && vendor && !hints) {
        hints = await this.#hints(orgId, vendor.id);
        if (hints) result = await extractInvoice(input, { hints, ...(signal ? { signal } : {}) });
      }
      return await withTenant(this.#db, orgId, (trx) =>
        this.#store(trx, orgId, row, result, vendor ?? null, hints),
      );
    } catch (error) {
      if (isExtractionFailure(error)) return this.#fail(orgId, invoiceId, error.code, error.message);
      if (attempt >= PROCESS_ATTEMPTS) {
        await this.#fail(
          orgId,
          invoiceId,
          'processing_error',
          'The invoice could not be processed after several attempts: upload it again, or enter it by hand',
        );
      }
      throw error;
    }
  }

  async #hints(orgId: string, vendorId: string): Promise<VendorLayoutHints | undefined> {
    const hints = await withTenant(this.#db, orgId, (trx) => repo.vendorHints(trx, orgId, vendorId));
    return hints && Object.keys(hints).length > 0 ? hints : undefined;
  }

  async #matchVendor(orgId: string, header: ExtractedInvoice['header']) {
    return withTenant(this.#db, orgId, async (trx) => {
      const taxId = header.vendorTaxId?.value;
      const byTax = taxId ? await repo.findVendorByTaxId(trx, orgId, taxId) : undefined;
      if (byTax) return byTax;
      const name = header.vendorName?.value;
      return name ? repo.findVendorByName(trx, orgId, name, 0.5) : undefined;
    });
  }

  async #fail(orgId: string, invoiceId: string, code: string, message: string) {
    await withTenant(this.#db, orgId, async (trx) => {
      const row = await repo.findInvoice(trx, orgId, invoiceId, true);
      if (!row || row.status !== 'processing') return;
      await repo.updateInvoice(trx, orgId, invoiceId, {
        status: 'failed',
        failure_code: code,
        failure_message: message.slice(0, 2000),
        processed_at: new Date(),
      });
      await writeOutboxEvents(trx, orgId, [
        { type: 'invoice:failed', payload: { invoiceId, status: 'failed', code, message } },
      ]);
      await notifyFailed(this.notifier, trx, orgId, row, code, message);
    });
    return { invoiceId, status: 'failed', code };
  }

  async #store(
    trx: Transaction<DB>,
    orgId: string,
    row: repo.InvoiceRow,
    result: ExtractionResult,
    vendor: { id: string; payment_terms: string | null } | null,
    hints: VendorLayoutHints | undefined,
  ) {
    const locked = await repo.findInvoice(trx, orgId, row.id, true);
    if (!locked || locked.status !== 'processing') return { skipped: 'already processed' };
    const invoices = result.invoices.length > 0 ? result.invoices : [result];
    const ids: string[] = [];
    for (const [index, extracted] of invoices.entries()) {
      const { header } = extracted;
      const number =
        index === 0
          ? (row.invoice_number ?? header.invoiceNumber?.value ?? null)
          : (header.invoiceNumber?.value ?? null);
      const invoiceDate =
        index === 0
          ? (row.invoice_date ?? header.invoiceDate?.value ?? null)
          : (header.invoiceDate?.value ?? null);
      const terms =
        header.paymentTermsDays?.value ?? termsDays(vendor?.payment_terms) ?? hints?.paymentTermsDays ?? null;
      const dueDate =
        header.dueDate?.value ?? (invoiceDate && terms !== null ? addDays(invoiceDate, terms) : null);
      const values = {
        vendor_id: vendor?.id ?? null,
        invoice_number: number?.slice(0, 100) ?? null,
        invoice_date: invoiceDate,
        due_date: dueDate,
        currency:
          header.currency?.value && /^[A-Z]{3}$/.test(header.currency.value) ? header.currency.value : null,
        subtotal: header.subtotal?.value ?? null,
        tax: header.tax?.value ?? null,
        total: header.total?.value ?? null,
        vendor_name: header.vendorName?.value.slice(0, 300) ?? null,
        vendor_tax_id: header.vendorTaxId?.value.slice(0, 100) ?? null,
        format: result.format,
        extraction: JSON.stringify(storedExtraction(result, extracted)),
        status: 'review' as const,
        processed_at: new Date(),
      };
      // A vendor's number seen before: this invoice is a duplicate, nothing else is written.
      if (vendor && number) {
        const known = await repo.findByVendorNumber(trx, orgId, vendor.id, number, row.id);
        if (known) {
          if (index === 0) {
            const message = `Invoice ${number} of this vendor is already here (invoice ${known.id}): this upload is a duplicate`;
            await repo.updateInvoice(trx, orgId, row.id, {
              status: 'failed',
              failure_code: 'duplicate_invoice',
              failure_message: message,
              vendor_id: vendor.id,
              invoice_number: values.invoice_number,
              processed_at: new Date(),
            });
            await writeOutboxEvents(trx, orgId, [
              {
                type: 'invoice:failed',
                payload: {
                  invoiceId: row.id,
                  status: 'failed',
                  code: 'duplicate_invoice',
                  duplicateOf: known.id,
                },
              },
            ]);
            await notifyFailed(
              this.notifier,
              trx,
              orgId,
              { ...row, invoice_number: values.invoice_number },
              'duplicate_invoice',
              message,
            );
            return { invoiceId: row.id, status: 'failed', code: 'duplicate_invoice' };
          }
          continue;
        }
      }
      const id =
        index === 0
          ? row.id
          : (
              await repo.insertInvoice(trx, {
                org_id: orgId,
                file_id: row.file_id,
                file_sha256: row.file_sha256,
                source_index: index,
                uploaded_by: row.uploaded_by,
                ...values,
              })
            ).id;
      if (index === 0) await repo.updateInvoice(trx, orgId, id, values);
      const lines = extracted.lines.map((line) => ({
        description: (line.description?.value ?? '').slice(0, 1000),
        gtin: line.gtin?.value.slice(0, 20) ?? null,
        vendorSku: line.vendorSku?.value.slice(0, 100) ?? null,
        hinted: line.itemId?.value ?? null,
      }));
      const matches = await matchLines(trx, orgId, vendor?.id ?? null, hints?.skuItems ?? {}, lines);
      await repo.insertLines(
        trx,
        extracted.lines.map((line, position) => {
          const match = matches[position]!;
          return {
            org_id: orgId,
            invoice_id: id,
            line_number: position + 1,
            description: lines[position]!.description,
            quantity: line.quantity?.value ?? null,
            unit: line.unit?.value.slice(0, 20) ?? null,
            unit_cost: line.unitCost?.value ?? null,
            line_total: line.lineTotal?.value ?? null,
            gtin: lines[position]!.gtin,
            vendor_sku: lines[position]!.vendorSku,
            tax_rate: line.taxRate?.value ?? null,
            item_id: match.itemId,
            match_method: match.method,
            match_score: match.score,
            suggestions: JSON.stringify(match.suggestions),
          };
        }),
      );
      await this.#rematch(trx, orgId, id, vendor?.id ?? null);
      ids.push(id);
    }
    await writeOutboxEvents(
      trx,
      orgId,
      ids.map((invoiceId) => ({ type: 'invoice:processed', payload: { invoiceId, status: 'review' } })),
    );
    return { invoiceId: row.id, status: 'review', invoices: ids.length };
  }

  // -------------------------------------------------------------------------------------------
  // Approval, reconciliation, payment

  /**
   * Applies a reviewed invoice in one transaction: units not yet received through a purchase
   * order are received (lots, expiry) through the stock-change path, and unit costs that differ
   * are changed with a history row each. Once: the invoice row is locked and must be in review
   * (a second approval answers 409), and an Idempotency-Key replays the first answer.
   */
  async approve(auth: AuthContext, id: string, idempotencyKey: string | undefined) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { data } = await oncePerKey(
        trx,
        {
          orgId: auth.orgId,
          userId: auth.userId,
          key: idempotencyKey,
          requestHash: requestHash({ approve: id }),
          statusCode: 200,
        },
        async () => {
          const row = await repo.findInvoice(trx, auth.orgId, id, true);
          if (!row) throw notFound();
          if (row.status !== 'review') throw invalidState(row, 'only an invoice in review can be approved');
          const lines = (await repo.linesOf(trx, auth.orgId, [id])).filter((line) => !line.ignored);
          const unmatched = lines.filter((line) => !line.item_id);
          if (unmatched.length > 0) {
            throw errors.unprocessable('Every line needs an item (or to be ignored) before approval', {
              lines: unmatched.map((line) => line.line_number),
            });
          }
          const missing = lines.filter((line) => num(line.quantity) === null || num(line.unit_cost) === null);
          if (missing.length > 0) {
            throw errors.unprocessable('Every line needs a quantity and a unit cost before approval', {
              lines: missing.map((line) => line.line_number),
            });
          }
          const items = await itemsById(
            trx,
            auth.orgId,
            lines.map((line) => line.item_id!),
            { lock: true },
          );
          const costChanges = lines
            .map((line) => ({ line, item: items.get(line.item_id!)! }))
            .filter(({ line, item }) => item && num(item.unit_cost) !== num(line.unit_cost));
          if (costChanges.length > 0 && !auth.permissions.has('vendor:manage')) {
            throw errors.forbidden(
              "Approving this invoice changes unit costs: that needs the 'vendor:manage' permission",
            );
          }
          const ctx = await loadContext(trx, auth.orgId, this.#settings);
          const label = `Invoice ${row.invoice_number ?? row.id}`;
          const received: Array<{ itemId: string; quantity: number; movementId: string }> = [];
          for (const line of lines) {
            // Units a receipt already took in against the PO are not received twice.
            const alreadyReceived = line.po_line_id ? (num(line.received_quantity) ?? 0) : 0;
            const quantity = Math.round((Number(line.quantity) - alreadyReceived) * 1000) / 1000;
            if (quantity <= 0) continue;
            const item = (await itemsById(trx, auth.orgId, [line.item_id!])).get(line.item_id!)!;
            const { movement } = await applyStockChange(
              trx,
              auth.orgId,
              item,
              {
                delta: quantity,
                reason: 'received',
                notes: label,
                unitCost: Number(line.unit_cost),
                expirationDate: line.expiration_date ?? undefined,
                lotCode: line.lot_code ?? undefined,
                userId: auth.userId,
              },
              ctx,
            );
            await repo.updateLine(trx, auth.orgId, line.id, { movement_id: movement.id });
            received.push({ itemId: line.item_id!, quantity, movementId: movement.id });
          }
          const changed: Array<{ itemId: string; oldUnitCost: number | null; newUnitCost: number }> = [];
          const seen = new Set<string>();
          for (const { line, item } of costChanges) {
            if (seen.has(item.id)) continue;
            seen.add(item.id);
            const newCost = Number(line.unit_cost);
            await repo.setItemCosts(trx, auth.orgId, item.id, newCost);
            await insertChanges(trx, auth.orgId, item.id, auth.userId, [
              { field: 'unitCost', oldValue: num(item.unit_cost), newValue: newCost, reason: label },
              { field: 'vendorCost', oldValue: num(item.vendor_cost), newValue: newCost, reason: label },
            ]);
            changed.push({ itemId: item.id, oldUnitCost: num(item.unit_cost), newUnitCost: newCost });
          }
          await repo.updateInvoice(trx, auth.orgId, id, {
            status: 'approved',
            approved_at: new Date(),
            approved_by: auth.userId,
          });
          await writeOutboxEvents(trx, auth.orgId, [
            {
              type: 'invoice:approved',
              payload: {
                invoiceId: id,
                status: 'approved',
                received: received.length,
                costChanges: changed.length,
              },
            },
          ]);
          return { invoice: await loadInvoice(trx, auth.orgId, id), received, costChanges: changed };
        },
      );
      return data;
    });
  }

  /**
   * POST /v1/invoices/:id/reconcile: each adjustment (expected vs actual) is a ledger adjustment
   * of the difference, and the short units × the invoiced unit cost are credit to claim.
   */
  async reconcile(auth: AuthContext, id: string, body: ReconcileBody, idempotencyKey: string | undefined) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { data } = await oncePerKey(
        trx,
        {
          orgId: auth.orgId,
          userId: auth.userId,
          key: idempotencyKey,
          requestHash: requestHash({ id, body }),
          statusCode: 200,
        },
        async () => {
          const row = await repo.findInvoice(trx, auth.orgId, id, true);
          if (!row) throw notFound();
          if (row.status !== 'approved')
            throw invalidState(row, 'reconcile it once it is approved (its stock received)');
          const lines = await repo.linesOf(trx, auth.orgId, [id]);
          const costOf = new Map(
            lines.filter((line) => line.item_id).map((line) => [line.item_id!, num(line.unit_cost)]),
          );
          const unknown = body.adjustments.filter((adjustment) => !costOf.has(adjustment.itemId));
          if (unknown.length > 0) {
            throw errors.unprocessable('Adjust only items on this invoice', [
              {
                field: 'adjustments.itemId',
                message: `not on this invoice: ${unknown.map((a) => a.itemId).join(', ')}`,
              },
            ]);
          }
          const ctx = await loadContext(trx, auth.orgId, this.#settings);
          await itemsById(
            trx,
            auth.orgId,
            body.adjustments.map((adjustment) => adjustment.itemId),
            { lock: true },
          );
          let credit = 0;
          for (const adjustment of body.adjustments) {
            const difference =
              Math.round((adjustment.actualQuantity - adjustment.expectedQuantity) * 1000) / 1000;
            let movementId: string | null = null;
            if (difference !== 0) {
              const item = (await itemsById(trx, auth.orgId, [adjustment.itemId])).get(adjustment.itemId)!;
              const { movement } = await applyStockChange(
                trx,
                auth.orgId,
                item,
                {
                  delta: difference,
                  reason: 'other',
                  notes: `Invoice ${row.invoice_number ?? row.id} reconciliation: ${adjustment.reason}`,
                  userId: auth.userId,
                },
                ctx,
              );
              movementId = movement.id;
            }
            const unitCost = costOf.get(adjustment.itemId) ?? 0;
            const lineCredit = difference < 0 ? Math.round(-difference * (unitCost ?? 0) * 100) / 100 : 0;
            credit += lineCredit;
            await repo.insertAdjustment(trx, {
              org_id: auth.orgId,
              invoice_id: id,
              item_id: adjustment.itemId,
              expected_quantity: adjustment.expectedQuantity,
              actual_quantity: adjustment.actualQuantity,
              reason: adjustment.reason,
              unit_cost: unitCost,
              credit_amount: lineCredit,
              movement_id: movementId,
              created_by: auth.userId,
            });
          }
          const updated = await repo.updateInvoice(trx, auth.orgId, id, {
            credit_amount: Math.round((Number(row.credit_amount) + credit) * 100) / 100,
          });
          await writeOutboxEvents(trx, auth.orgId, [
            {
              type: 'invoice:reconciled',
              payload: { invoiceId: id, creditAmount: Number(updated.credit_amount) },
            },
          ]);
          const adjustments = await repo.adjustmentsOf(trx, auth.orgId, id);
          return {
            invoiceId: id,
            creditAmount: Number(updated.credit_amount),
            adjustments: adjustments.map((adjustment) => ({
              id: adjustment.id,
              itemId: adjustment.item_id,
              expectedQuantity: Number(adjustment.expected_quantity),
              actualQuantity: Number(adjustment.actual_quantity),
              reason: adjustment.reason,
              creditAmount: Number(adjustment.credit_amount),
              movementId: adjustment.movement_id,
            })),
          };
        },
      );
      return data;
    });
  }

  /** PUT /v1/invoices/:id/status: the payment status, of an invoice in review or approved. */
  async setStatus(auth: AuthContext, id: string, body: StatusBody): Promise<Invoice> {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const row = await repo.findInvoice(trx, auth.orgId, id, true);
      if (!row) throw notFound();
      if (row.status === 'processing' || row.status === 'failed') {
        throw invalidState(row, 'a payment status needs a processed invoice');
      }
      if (body.paidDate && body.status !== 'paid') {
        throw errors.unprocessable('paidDate goes with status paid', [
          { field: 'paidDate', message: 'only with status paid' },
        ]);
      }
      const today = todayIn((await this.#settings.read(trx, auth.orgId)).timeZone);
      await repo.updateInvoice(trx, auth.orgId, id, {
        payment_status: body.status,
        paid_date: body.status === 'paid' ? (body.paidDate ?? today) : null,
        ...(body.paymentMethod !== undefined ? { payment_method: body.paymentMethod } : {}),
        ...(body.notes !== undefined ? { payment_notes: body.notes } : {}),
      });
      await writeOutboxEvents(trx, auth.orgId, [
        { type: 'invoice:payment_status', payload: { invoiceId: id, paymentStatus: body.status } },
      ]);
      return loadInvoice(trx, auth.orgId, id);
    });
  }
}

/**
 * The nightly invoice:mark_overdue job: unpaid invoices past their due date become overdue, and,
 * with a notifier, the store's members get one message naming them (one per pass, not one per
 * invoice, so a backlog is one line in the inbox).
 */
export async function markOverdueInvoices(
  db: Kysely<DB>,
  settings: StoreSettings,
  orgId: string,
  now = new Date(),
  notifier?: Notifier,
) {
  return withTenant(db, orgId, async (trx) => {
    const today = todayIn((await settings.read(trx, orgId)).timeZone, now);
    const rows = await repo.markOverdue(trx, orgId, today);
    await writeOutboxEvents(
      trx,
      orgId,
      rows.map((row) => ({
        type: 'invoice:overdue',
        payload: {
          invoiceId: row.id,
          invoiceNumber: row.invoice_number,
          dueDate: row.due_date,
          paymentStatus: 'overdue',
        },
      })),
    );
    if (notifier && rows.length > 0) {
      const named = rows
        .slice(0, 5)
        .map((row) => `${row.invoice_number ?? 'without number'} (due ${row.due_date})`)
        .join(', ');
      const more = rows.length > 5 ? ` and ${rows.length - 5} more` : '';
      await notifier.notifyUsers(trx, orgId, {
        category: 'invoices',
        type: 'warning',
        title:
          rows.length === 1
            ? `Invoice ${rows[0]!.invoice_number ?? 'without number'} is overdue`
            : `${rows.length} invoices are overdue`,
        message: `Unpaid past their due date: ${named}${more}.`,
        data: { invoiceIds: rows.map((row) => row.id), today },
        actions: [
          { action: 'view-invoices', title: 'View overdue invoices', url: '/invoices?status=overdue' },
        ],
      });
    }
    return { today, overdue: rows.length };
  });
}
