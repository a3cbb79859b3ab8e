import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { ciiXml, germanInvoice, invoicePdf, ublXml, usInvoice } from '../../../test/helpers/invoices.ts';
import { type FilePart, multipart } from '../../../test/helpers/multipart.ts';
import { insertCatalogueLine, insertVendor, poAction, sentPo } from '../../../test/helpers/purchasing.ts';
import { StoreSettings } from '../settings/store-settings.ts';
import { markOverdueInvoices } from './invoices.service.ts';

let t: TestApp;
let admin: Session;
let other: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'Invoice Grocer');
  other = await registerStore(t.app, 'Other Grocer');
});
afterAll(async () => t?.close());

const orgId = () => admin.user.organization.id;
const get = (url: string, session = admin) => t.app.inject({ method: 'GET', url, headers: bearer(session) });
const send = (
  method: 'POST' | 'PUT',
  url: string,
  payload?: object,
  session = admin,
  headers: Record<string, string> = {},
) =>
  t.app.inject({ method, url, headers: { ...bearer(session), ...headers }, ...(payload ? { payload } : {}) });

function upload(file: FilePart, fields: Record<string, string> = {}, session = admin) {
  const body = multipart({ ...fields, file });
  return t.app.inject({
    method: 'POST',
    url: '/v1/invoices/upload',
    headers: { ...bearer(session), ...body.headers },
    payload: body.payload,
  });
}

interface InvoiceBody {
  id: string;
  status: string;
  paymentStatus: string;
  failure: { code: string; message: string } | null;
  vendorId: string | null;
  invoiceNumber: string | null;
  invoiceDate: string | null;
  dueDate: string | null;
  totalAmount: number | null;
  format: string | null;
  creditAmount: number;
  extractedData?: { items: Array<{ description: string; quantity: number; unitCost: number }> };
  matchingResults?: {
    matched: number;
    unmatched: number;
    conflicts: Array<{ item: string; issue: string; kind: string; invoiced?: number; expected?: number }>;
  };
  lines: Array<{
    lineNumber: number;
    description: string;
    itemId: string | null;
    matchMethod: string | null;
    suggestions: Array<{ itemId: string; score: number }>;
  }>;
}

/** Uploads, expects 202, and waits for the job to leave `processing`. */
async function processed(file: FilePart, fields: Record<string, string> = {}): Promise<InvoiceBody> {
  const response = await upload(file, fields);
  expect(response.statusCode, response.body).toBe(202);
  const { invoiceId, status } = response.json().data;
  expect(status).toBe('processing');
  const deadline = Date.now() + 90_000;
  for (;;) {
    const invoice = (await get(`/v1/invoices/${invoiceId}`)).json().data as InvoiceBody;
    if (invoice.status !== 'processing') return invoice;
    if (Date.now() > deadline) throw new Error('invoice still processing');
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const csv = (name: string, rows: string[][]): FilePart => ({
  filename: name,
  contentType: 'text/csv',
  content: [['Invoice No', 'Invoice Date', 'SKU', 'Description', 'Qty', 'Unit Price'], ...rows]
    .map((row) => row.join(','))
    .join('\n'),
});

describe('upload → processing → review', () => {
  it('reads a text PDF, a CSV, an XLSX, a ZUGFeRD PDF and an XRechnung XML; refuses duplicates; fails unreadable files with their reason', async () => {
    // The CII seller, known by its tax id written differently: the vendor is matched from it.
    const dairy = await t.app.platform.database.db
      .insertInto('vendors')
      .values({ org_id: orgId(), name: 'Alpenblick Dairy', tax_id: 'de987654321', payment_terms: 'Net 30' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const milk = await createItem(t.app, admin, { description: 'Whole milk 1 l', itemUpc: '4012345678901' });

    const pdfBytes = await invoicePdf(usInvoice);
    const pdf = await processed({ filename: 'gv.pdf', contentType: 'application/pdf', content: pdfBytes });
    expect(pdf).toMatchObject({
      status: 'review',
      paymentStatus: 'pending',
      format: 'pdf',
      invoiceNumber: 'GV-88213',
      invoiceDate: '2026-02-03',
      dueDate: '2026-03-05',
      totalAmount: 1924,
      vendorId: null,
    });
    expect(pdf.extractedData!.items.map((item) => [item.description, item.quantity, item.unitCost])).toEqual([
      ['Romaine hearts, case of 24', 10, 21.5],
      ['Avocados Hass 48ct', 4, 52.25],
      ['Strawberries 8x1lb flat', 1200, 1.25],
    ]);
    expect(pdf.matchingResults).toMatchObject({ matched: 0, unmatched: 3 });

    const fromCsv = await processed(
      csv('portal.csv', [
        ['C-1', '2026-04-01', 'X-1', 'Kohlrabi', '6', '0.90'],
        ['C-1', '2026-04-01', 'X-2', 'Radishes', '10', '0.50'],
      ]),
    );
    expect(fromCsv).toMatchObject({
      status: 'review',
      format: 'csv',
      invoiceNumber: 'C-1',
      totalAmount: 10.4,
    });

    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Invoice');
    sheet.addRow(['Invoice No', 'Invoice Date', 'SKU', 'Description', 'Qty', 'Unit Price', 'Line Total']);
    sheet.addRow(['INV-9', new Date(Date.UTC(2026, 4, 1)), 'S-1', 'Tomatoes', 5, 2.5, 12.5]);
    sheet.addRow(['INV-10', new Date(Date.UTC(2026, 4, 2)), 'S-2', 'Basil', 3, 1.2, 3.6]);
    const xlsx = await processed({
      filename: 'portal.xlsx',
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      content: Buffer.from(await workbook.xlsx.writeBuffer()),
    });
    expect(xlsx).toMatchObject({
      status: 'review',
      format: 'xlsx',
      invoiceNumber: 'INV-9',
      totalAmount: 12.5,
    });
    // The second invoice of the workbook is its own invoice, from the same file.
    const listed = (await get('/v1/invoices?limit=100')).json().data as InvoiceBody[];
    expect(listed.find((invoice) => invoice.invoiceNumber === 'INV-10')).toMatchObject({
      status: 'review',
      totalAmount: 3.6,
    });

    const zugferd = await processed({
      filename: 'zugferd.pdf',
      contentType: 'application/pdf',
      content: await invoicePdf({ ...germanInvoice, attach: { name: 'factur-x.xml', content: ciiXml } }),
    });
    expect(zugferd).toMatchObject({
      status: 'review',
      format: 'facturx',
      invoiceNumber: '0042-2026',
      vendorId: dairy.id,
      dueDate: '2026-04-14',
      totalAmount: 151.94,
    });
    // Matched by its GTIN (the EAN-13 on the line, normalised as the barcode lookup does).
    expect(zugferd.lines[0]).toMatchObject({ itemId: milk.id, matchMethod: 'gtin' });

    const xrechnung = await processed({
      filename: 'xrechnung.xml',
      contentType: 'application/xml',
      content: ublXml,
    });
    expect(xrechnung).toMatchObject({
      status: 'review',
      format: 'ubl',
      invoiceNumber: 'UBL-7781',
      totalAmount: 102.6,
    });

    // The same bytes again → 409 naming the first invoice.
    const again = await upload({ filename: 'copy.pdf', contentType: 'application/pdf', content: pdfBytes });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'DUPLICATE_INVOICE', details: { invoiceId: pdf.id } });
    // The same vendor and number, given with the upload → 409.
    const sameNumber = await upload(csv('other.csv', [['Z-1', '2026-04-01', 'X-1', 'Kohlrabi', '1', '1']]), {
      vendorId: dairy.id,
      invoiceNumber: '0042-2026',
    });
    expect(sameNumber.statusCode).toBe(409);
    expect(sameNumber.json().error.details).toEqual({ invoiceId: zugferd.id, reason: 'same_number' });
    // The same vendor and number found in another file (the plain CII XML) → failed as a duplicate.
    const duplicate = await processed({
      filename: 'cii.xml',
      contentType: 'application/xml',
      content: ciiXml,
    });
    expect(duplicate.status).toBe('failed');
    expect(duplicate.failure!.code).toBe('duplicate_invoice');
    expect(duplicate.failure!.message).toContain(zugferd.id);

    // Unreadable files end in failed with a reason a person can act on; nothing half-written.
    const corrupt = await processed({
      filename: 'broken.pdf',
      contentType: 'application/pdf',
      content: pdfBytes.subarray(0, 400),
    });
    expect(corrupt).toMatchObject({ status: 'failed', failure: { code: 'corrupt_file' }, lines: [] });
    expect(corrupt.failure!.message.length).toBeGreaterThan(20);
    const headerless = await processed({
      filename: 'rows.csv',
      contentType: 'text/csv',
      content: 'apples,10,1.85\npears,4,2.10\nplums,3,1.00\n',
    });
    expect(headerless).toMatchObject({ status: 'failed', failure: { code: 'no_header_row' }, lines: [] });

    // Another store sees none of it.
    expect((await get(`/v1/invoices/${pdf.id}`, other)).statusCode).toBe(404);
    expect((await send('PUT', `/v1/invoices/${pdf.id}`, { invoiceNumber: 'X' }, other)).statusCode).toBe(404);
    expect((await send('POST', `/v1/invoices/${pdf.id}/approve`, undefined, other)).statusCode).toBe(404);
    expect((await get('/v1/invoices', other)).json().data).toEqual([]);
  });
});

describe('matching, review and approval', () => {
  it('matches by description and by learned and catalogue SKUs, and uses what a person mapped on the next invoice', async () => {
    const vendor = await insertVendor(t.app.platform.database, admin, { name: 'Learning Farms' });
    const beets = await createItem(t.app, admin, { description: 'Golden beetroot bunch', unitCost: 1 });
    const leeks = await createItem(t.app, admin, { description: 'Leeks', unitCost: 1 });
    const chard = await createItem(t.app, admin, { description: 'Rainbow chard', unitCost: 1 });
    await insertCatalogueLine(t.app.platform.database, admin, vendor.id, chard.id, {
      unitCost: 1,
      vendorSku: 'CAT-9',
    });

    const first = await processed(
      csv('lf-1.csv', [
        ['LF-1', '2026-05-01', 'LS-1', 'Mystery crate', '2', '3.00'],
        ['LF-1', '2026-05-01', 'LS-2', 'Golden beetroot bunch', '5', '1.10'],
        ['LF-1', '2026-05-01', 'CAT-9', 'Chard', '4', '1.00'],
      ]),
      { vendorId: vendor.id },
    );
    expect(first.lines.map((line) => [line.itemId, line.matchMethod])).toEqual([
      [null, null],
      [beets.id, 'description'],
      [chard.id, 'catalogue_sku'],
    ]);
    expect(first.matchingResults).toMatchObject({ matched: 2, unmatched: 1 });
    expect(first.matchingResults!.conflicts).toEqual([
      expect.objectContaining({
        item: 'Mystery crate',
        kind: 'unmatched',
        issue: 'No item matches this line',
      }),
    ]);

    const mapped = await send('PUT', `/v1/invoices/${first.id}`, {
      lines: [{ lineNumber: 1, itemId: leeks.id }],
    });
    expect(mapped.statusCode, mapped.body).toBe(200);
    expect(mapped.json().data.lines[0]).toMatchObject({ itemId: leeks.id, matchMethod: 'manual' });
    expect(mapped.json().data.matchingResults).toMatchObject({ matched: 3, unmatched: 0, conflicts: [] });

    const next = await processed(
      csv('lf-2.csv', [['LF-2', '2026-05-08', 'LS-1', 'Crate, mixed', '1', '3.00']]),
      {
        vendorId: vendor.id,
      },
    );
    expect(next.lines[0]).toMatchObject({ itemId: leeks.id, matchMethod: 'learned_sku' });
  });

  it('flags a price and a quantity variance against the PO and receipt, and approval receives the rest and changes the cost once', async () => {
    const vendor = await insertVendor(t.app.platform.database, admin, { name: 'Three Way Foods' });
    const pears = await createItem(t.app, admin, { description: 'Conference pears', unitCost: 2 });
    await insertCatalogueLine(t.app.platform.database, admin, vendor.id, pears.id, {
      unitCost: 2,
      vendorSku: 'TW-1',
    });
    const po = await sentPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: pears.id, quantity: 10, unitCost: 2 }],
    });
    const receipt = await poAction(t.app, admin, po.id, 'receipts', {
      lines: [{ itemId: pears.id, quantityReceived: 8 }],
    });
    expect(receipt.statusCode, receipt.body).toBe(201);

    const invoice = await processed(
      csv('tw.csv', [['TW-100', '2026-05-02', 'TW-1', 'Pears', '10', '2.50']]),
      {
        vendorId: vendor.id,
      },
    );
    expect(invoice.lines[0]).toMatchObject({ itemId: pears.id, matchMethod: 'catalogue_sku' });
    expect(invoice.matchingResults!.conflicts.map((c) => [c.kind, c.invoiced, c.expected])).toEqual([
      ['price_variance', 2.5, 2],
      ['quantity_received', 10, 8],
    ]);
    expect(invoice.matchingResults!.conflicts[0]!.issue).toBe(
      `Price variance: invoiced 2.50 per unit, PO #${po.number} says 2.00 (+25.0 %)`,
    );

    const key = { 'idempotency-key': `approve-${invoice.id}` };
    const approved = await send('POST', `/v1/invoices/${invoice.id}/approve`, undefined, admin, key);
    expect(approved.statusCode, approved.body).toBe(200);
    const result = approved.json().data;
    expect(result.received).toEqual([{ itemId: pears.id, quantity: 2, movementId: expect.any(String) }]);
    expect(result.costChanges).toEqual([{ itemId: pears.id, oldUnitCost: 2, newUnitCost: 2.5 }]);
    expect(result.invoice.status).toBe('approved');
    // The retried request replays the answer; nothing is applied twice.
    const retried = await send('POST', `/v1/invoices/${invoice.id}/approve`, undefined, admin, key);
    expect(retried.statusCode).toBe(200);
    expect(retried.json().data.received).toEqual(result.received);
    const again = await send('POST', `/v1/invoices/${invoice.id}/approve`);
    expect(again.statusCode).toBe(409);
    const item = (await get(`/v1/inventory/${pears.id}`)).json().data;
    expect(item).toMatchObject({ remainingStock: 10, unitCost: 2.5, vendorCost: 2.5 });
    const changes = await t.app.platform.database.db
      .selectFrom('item_changes')
      .select(['field', 'old_value', 'new_value', 'reason'])
      .where('item_id', '=', pears.id)
      .where('field', '=', 'unitCost')
      .execute();
    expect(changes).toEqual([{ field: 'unitCost', old_value: 2, new_value: 2.5, reason: 'Invoice TW-100' }]);
    // Corrections stop once approved.
    expect((await send('PUT', `/v1/invoices/${invoice.id}`, { invoiceNumber: 'X' })).statusCode).toBe(409);

    // Reconciliation: one pear fewer than invoiced arrived.
    const reconciled = await send('POST', `/v1/invoices/${invoice.id}/reconcile`, {
      adjustments: [{ itemId: pears.id, expectedQuantity: 10, actualQuantity: 9, reason: 'one crate short' }],
    });
    expect(reconciled.statusCode, reconciled.body).toBe(200);
    expect(reconciled.json().data).toMatchObject({
      creditAmount: 2.5,
      adjustments: [
        {
          itemId: pears.id,
          expectedQuantity: 10,
          actualQuantity: 9,
          creditAmount: 2.5,
          reason: 'one crate short',
        },
      ],
    });
    expect((await get(`/v1/inventory/${pears.id}`)).json().data.remainingStock).toBe(9);
    const strange = await send('POST', `/v1/invoices/${invoice.id}/reconcile`, {
      adjustments: [{ itemId: vendor.id, expectedQuantity: 1, actualQuantity: 0, reason: 'x' }],
    });
    expect(strange.statusCode).toBe(422);

    // Payment status.
    const paid = await send('PUT', `/v1/invoices/${invoice.id}/status`, {
      status: 'paid',
      paidDate: '2026-05-20',
      paymentMethod: 'bank transfer',
    });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json().data).toMatchObject({
      paymentStatus: 'paid',
      paidDate: '2026-05-20',
      paymentMethod: 'bank transfer',
    });

    // Filters.
    const byVendor = (await get(`/v1/invoices?vendorId=${vendor.id}`)).json();
    expect(byVendor.data.map((row: InvoiceBody) => row.id)).toEqual([invoice.id]);
    expect(byVendor.meta.pagination).toMatchObject({ total: 1, page: 1 });
    const paidOnes = (await get('/v1/invoices?status=paid')).json().data as InvoiceBody[];
    expect(paidOnes.map((row) => row.id)).toEqual([invoice.id]);
    const ranged = (
      await get('/v1/invoices?amountMin=25&amountMax=25&dateFrom=2026-05-02&dateTo=2026-05-02')
    ).json().data as InvoiceBody[];
    expect(ranged.map((row) => row.id)).toEqual([invoice.id]);
    const failed = (await get('/v1/invoices?processingStatus=failed')).json().data as InvoiceBody[];
    expect(failed.map((row) => row.failure!.code).sort()).toEqual([
      'corrupt_file',
      'duplicate_invoice',
      'no_header_row',
    ]);
  });

  it('marks unpaid invoices past their due date overdue (the nightly job)', async () => {
    const before = (await get('/v1/invoices?status=pending&limit=100')).json().data as InvoiceBody[];
    const due = before.filter((row) => row.dueDate !== null && row.dueDate < '2026-03-06');
    expect(due.map((row) => row.invoiceNumber).sort()).toEqual(['GV-88213']);
    const result = await markOverdueInvoices(
      t.app.platform.database.db,
      new StoreSettings(t.app.platform.cache),
      orgId(),
      new Date('2026-03-06T12:00:00Z'),
    );
    expect(result).toEqual({ today: '2026-03-06', overdue: 1 });
    const overdue = (await get('/v1/invoices?status=overdue')).json().data as InvoiceBody[];
    expect(overdue.map((row) => row.invoiceNumber)).toEqual(['GV-88213']);
  });
});
