import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { germanInvoice, invoicePdf } from '../../../test/helpers/invoices.ts';
import { type FilePart, multipart } from '../../../test/helpers/multipart.ts';
import { insertCatalogueLine, insertVendor } from '../../../test/helpers/purchasing.ts';
import { todayIn } from '../inventory/inventory.service.ts';
import { channelOf } from '../realtime/channels.ts';

/**
 * The invoice paths invoices.test.ts leaves out: the vendor's payment terms, the 403 on costs,
 * header labels learned from a correction, the last attempt's processing_error, the upload
 * route's refusals, the overdue job through the queue, and the events each step writes.
 *
 * The app starts without job workers (WORKER_MODE=api) so that one upload's stored object can be
 * removed before its job ever runs; the workers are started once that is done.
 */

const MAX_BYTES = 200_000;
let t: TestApp;
let admin: Session;
let other: Session;
let employee: Session;
/** The upload whose stored bytes were removed before its job ran. */
let doomed: { invoiceId: string; jobId: string };

const db = () => t.app.platform.database.db;
const orgId = () => admin.user.organization.id;
const get = (url: string, session = admin) => t.app.inject({ method: 'GET', url, headers: bearer(session) });
const send = (method: 'POST' | 'PUT', url: string, payload?: object, session = admin) =>
  t.app.inject({ method, url, headers: bearer(session), ...(payload ? { payload } : {}) });

function upload(parts: Record<string, string | FilePart>, session = admin) {
  const body = multipart(parts);
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
  lines: Array<{ lineNumber: number; itemId: string | null; matchMethod: string | null }>;
}

async function settled(invoiceId: string): Promise<InvoiceBody> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const invoice = (await get(`/v1/invoices/${invoiceId}`)).json().data as InvoiceBody;
    if (invoice.status !== 'processing') return invoice;
    if (Date.now() > deadline) throw new Error('invoice still processing');
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function processed(file: FilePart, fields: Record<string, string> = {}): Promise<InvoiceBody> {
  const response = await upload({ ...fields, file });
  expect(response.statusCode, response.body).toBe(202);
  return settled(response.json().data.invoiceId);
}

const csv = (name: string, rows: string[][]): FilePart => ({
  filename: name,
  contentType: 'text/csv',
  content: [['Invoice No', 'Invoice Date', 'SKU', 'Description', 'Qty', 'Unit Price'], ...rows]
    .map((row) => row.join(','))
    .join('\n'),
});

/** The outbox rows written about one invoice, in order. */
async function eventsOf(invoiceId: string) {
  const rows = await db()
    .selectFrom('outbox_events')
    .select(['type', 'payload'])
    .where('org_id', '=', orgId())
    .orderBy('id')
    .execute();
  return rows.filter((row) => (row.payload as { invoiceId?: string }).invoiceId === invoiceId);
}

/** The store's `invoices` notifications, oldest first. */
function invoiceNotifications() {
  return db()
    .selectFrom('notifications')
    .select(['user_id', 'type', 'title', 'message', 'data', 'actions'])
    .where('org_id', '=', orgId())
    .where('category', '=', 'invoices')
    .orderBy('created_at')
    .orderBy('user_id')
    .execute();
}

async function waitForJob(id: string, status: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = (await get(`/v1/jobs/${id}`)).json().data;
    if (job?.status === status) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${JSON.stringify(job)}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

beforeAll(async () => {
  t = await createTestApp({ workerMode: 'api', fileMaxBytes: MAX_BYTES });
  admin = await registerStore(t.app, 'Paths Grocer');
  other = await registerStore(t.app, 'Other Paths Grocer');

  // A real failure of our own: the stored object is gone when the job reads it, on every attempt.
  const response = await upload({
    file: csv('doomed.csv', [['D-1', '2026-04-01', 'X', 'Kale', '1', '1.00']]),
  });
  expect(response.statusCode, response.body).toBe(202);
  doomed = response.json().data;
  const file = await db()
    .selectFrom('files')
    .select('storage_key')
    .where('id', '=', response.json().data.fileId)
    .executeTakeFirstOrThrow();
  await t.app.platform.storage.delete(file.storage_key);
  await t.app.platform.queue.stop();
  await t.app.platform.queue.start({ work: true });
  // The invitation mail is written by a job: invited once the workers run.
  employee = await addMember(t.app, t.app.platform.database, admin, 'employee');
});
afterAll(async () => t?.close());

describe('processing failures of our own', () => {
  it('retries, and the last attempt marks the invoice failed processing_error with an invoice:failed event', async () => {
    const invoice = await settled(doomed.invoiceId);
    expect(invoice).toMatchObject({
      status: 'failed',
      failure: {
        code: 'processing_error',
        message:
          'The invoice could not be processed after several attempts: upload it again, or enter it by hand',
      },
      lines: [],
    });
    // The uploader hears of it, in the transaction that failed it.
    expect(await invoiceNotifications()).toEqual([
      {
        user_id: admin.user.id,
        type: 'error',
        title: 'An invoice could not be read',
        message:
          'The invoice could not be processed after several attempts: upload it again, or enter it by hand',
        data: { invoiceId: doomed.invoiceId, code: 'processing_error' },
        actions: [{ action: 'view-invoice', title: 'View invoice', url: `/invoices/${doomed.invoiceId}` }],
      },
    ]);
    const job = await waitForJob(doomed.jobId, 'failed');
    expect(job).toMatchObject({ type: 'invoice:process', attempts: 3 });
    expect((await eventsOf(doomed.invoiceId)).map((event) => [event.type, event.payload])).toEqual([
      ['invoice:uploaded', expect.objectContaining({ status: 'processing' })],
      [
        'invoice:failed',
        expect.objectContaining({ invoiceId: doomed.invoiceId, status: 'failed', code: 'processing_error' }),
      ],
    ]);
  });
});

describe('the upload route refuses what it cannot take', () => {
  it('413 over the size limit, 415 without multipart, 400 without a file or with bad fields, 422 for another store’s vendor; nothing recorded', async () => {
    const filesBefore = await db().selectFrom('files').select('id').where('org_id', '=', orgId()).execute();
    const invoicesBefore = await db()
      .selectFrom('invoices')
      .select('id')
      .where('org_id', '=', orgId())
      .execute();

    const tooBig = await upload({
      file: { filename: 'big.csv', contentType: 'text/csv', content: 'a,b\n'.repeat(MAX_BYTES / 4 + 1) },
    });
    expect(tooBig.statusCode, tooBig.body).toBe(413);

    const json = await send('POST', '/v1/invoices/upload', { file: 'not a file' });
    expect(json.statusCode).toBe(415);
    expect(json.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const noFile = await upload({ invoiceNumber: 'N-1' });
    expect(noFile.statusCode).toBe(400);
    expect(noFile.json().error.details).toEqual([{ field: 'file', message: 'is required' }]);

    const file = csv('ok.csv', [['R-1', '2026-04-01', 'X', 'Kale', '1', '1.00']]);
    const badVendor = await upload({ vendorId: 'vendor-7', file });
    expect(badVendor.statusCode).toBe(400);
    expect(badVendor.json().error.details).toEqual([{ field: 'vendorId', message: 'must be a uuid' }]);
    const badDate = await upload({ invoiceDate: '2026-13-45', file });
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json().error.details).toEqual([
      { field: 'invoiceDate', message: 'must be a date YYYY-MM-DD' },
    ]);
    const unknownField = await upload({ total: '12', file });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().error.details[0].field).toBe('total');

    const theirs = await insertVendor(t.app.platform.database, other, { name: 'Their Vendor' });
    const foreign = await upload({ vendorId: theirs.id, file });
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().error.details).toEqual([
      { field: 'vendorId', message: 'is not a vendor of this store' },
    ]);

    // Nothing recorded by any of them: no file row, no invoice.
    expect(await db().selectFrom('files').select('id').where('org_id', '=', orgId()).execute()).toEqual(
      filesBefore,
    );
    expect(await db().selectFrom('invoices').select('id').where('org_id', '=', orgId()).execute()).toEqual(
      invoicesBefore,
    );
  });
});

describe('due dates, cost changes, learned labels', () => {
  it('takes the due date from the vendor’s payment terms when the invoice prints none', async () => {
    const vendor = await db()
      .insertInto('vendors')
      .values({ org_id: orgId(), name: 'Terms Farm', payment_terms: 'Net 30' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const invoice = await processed(csv('terms.csv', [['T-1', '2026-04-01', 'X', 'Kale', '2', '1.50']]), {
      vendorId: vendor.id,
    });
    expect(invoice).toMatchObject({
      status: 'review',
      vendorId: vendor.id,
      invoiceDate: '2026-04-01',
      dueDate: '2026-05-01',
      totalAmount: 3,
    });
    // Without a vendor (and so without terms) no due date is invented.
    const bare = await processed(csv('bare.csv', [['T-2', '2026-04-01', 'X', 'Kale', '2', '1.50']]));
    expect(bare.dueDate).toBeNull();
  });

  it('403 when an employee’s approval would change unit costs, with nothing applied; the same invoice at the old cost is theirs to approve', async () => {
    const vendor = await insertVendor(t.app.platform.database, admin, { name: 'Cost Farm' });
    const plums = await createItem(t.app, admin, {
      description: 'Victoria plums',
      unitCost: 2,
      remainingStock: 5,
    });
    await insertCatalogueLine(t.app.platform.database, admin, vendor.id, plums.id, {
      unitCost: 2,
      vendorSku: 'CF-1',
    });
    const invoice = await processed(csv('cf.csv', [['CF-100', '2026-05-02', 'CF-1', 'Plums', '6', '2.40']]), {
      vendorId: vendor.id,
    });
    expect(invoice.lines[0]).toMatchObject({ itemId: plums.id, matchMethod: 'catalogue_sku' });

    const movementsOf = (itemId: string) =>
      db().selectFrom('stock_movements').select('id').where('item_id', '=', itemId).orderBy('id').execute();
    const movementsBefore = await movementsOf(plums.id);
    expect(movementsBefore).toHaveLength(1); // the opening stock
    const refused = await send('POST', `/v1/invoices/${invoice.id}/approve`, undefined, employee);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toBe(
      "Approving this invoice changes unit costs: that needs the 'vendor:manage' permission",
    );
    expect((await get(`/v1/invoices/${invoice.id}`)).json().data.status).toBe('review');
    expect((await get(`/v1/inventory/${plums.id}`)).json().data).toMatchObject({
      remainingStock: 5,
      unitCost: 2,
    });
    const history = db().selectFrom('item_changes').select('field').where('item_id', '=', plums.id);
    // Only what creating the item wrote: no cost change.
    expect(await history.orderBy('field').execute()).toEqual([
      { field: 'created' },
      { field: 'remainingStock' },
    ]);
    expect(await movementsOf(plums.id)).toEqual(movementsBefore);

    // Corrected to the cost on file, the employee may approve it: stock only, no cost change.
    const corrected = await send('PUT', `/v1/invoices/${invoice.id}`, {
      lines: [{ lineNumber: 1, unitCost: 2 }],
    });
    expect(corrected.statusCode, corrected.body).toBe(200);
    const approved = await send('POST', `/v1/invoices/${invoice.id}/approve`, undefined, employee);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().data).toMatchObject({
      received: [{ itemId: plums.id, quantity: 6 }],
      costChanges: [],
    });
    expect((await get(`/v1/inventory/${plums.id}`)).json().data).toMatchObject({
      remainingStock: 11,
      unitCost: 2,
    });
  });

  it('learns a header label and the date order from a corrected field, and reads the vendor’s next invoice with them', async () => {
    const vendor = await insertVendor(t.app.platform.database, admin, { name: 'Beleg Hof' });
    const oddLabels = (number: string, date: string) => ({
      ...germanInvoice,
      header: [
        ['Beleg-Kennung:', number],
        ['Ausgestellt:', date],
      ] as [string, string][],
    });
    const first = await processed(
      {
        filename: 'bk-1.pdf',
        contentType: 'application/pdf',
        content: await invoicePdf(oddLabels('BK 7781', '03.04.2026')),
      },
      { vendorId: vendor.id },
    );
    expect(first.status).toBe('review');
    expect(first.invoiceNumber).toBeNull();

    const corrected = await send('PUT', `/v1/invoices/${first.id}`, {
      invoiceNumber: 'BK 7781',
      invoiceDate: '2026-03-04',
    });
    expect(corrected.statusCode, corrected.body).toBe(200);
    const hints = await db()
      .selectFrom('vendor_invoice_hints')
      .select('hints')
      .where('vendor_id', '=', vendor.id)
      .executeTakeFirstOrThrow();
    expect(hints.hints).toMatchObject({
      labels: { invoiceNumber: ['beleg kennung'], invoiceDate: ['ausgestellt'] },
      dateOrder: 'MDY',
    });

    // The next invoice of that vendor: number and date found by the learned labels, month first.
    const next = await processed(
      {
        filename: 'bk-2.pdf',
        contentType: 'application/pdf',
        content: await invoicePdf(oddLabels('BK 7790', '03.05.2026')),
      },
      { vendorId: vendor.id },
    );
    expect(next).toMatchObject({ status: 'review', invoiceNumber: 'BK 7790', invoiceDate: '2026-03-05' });
    // The printed terms ("Zahlbar innerhalb von 14 Tagen") give its due date.
    expect(next.dueDate).toBe('2026-03-19');
  });
});

describe('overdue through the queue, and the events', () => {
  it('POST /v1/jobs runs invoice:mark_overdue for the store; every step wrote its invoice:* event for invoices:updates', async () => {
    const vendor = await db()
      .insertInto('vendors')
      .values({ org_id: orgId(), name: 'Late Farm', payment_terms: '14 days' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const late = await processed(csv('late.csv', [['L-1', '2026-01-05', 'X', 'Kale', '1', '4.00']]), {
      vendorId: vendor.id,
    });
    expect(late.dueDate).toBe('2026-01-19');
    // What is pending and past due today, in the store's zone (the job uses the real clock).
    const today = todayIn('UTC', new Date());
    const pending = (await get('/v1/invoices?status=pending&limit=100')).json().data as InvoiceBody[];
    const pastDue = pending.filter((row) => row.dueDate !== null && row.dueDate < today).map((row) => row.id);
    expect(pastDue).toContain(late.id);

    const started = await send('POST', '/v1/jobs', { type: 'invoice:mark_overdue' });
    expect(started.statusCode, started.body).toBe(201);
    const done = await waitForJob(started.json().data.job.id, 'completed');
    expect(done.result).toEqual({ today, overdue: pastDue.length });
    // Every member hears of it once, in one message naming them.
    const told = (await invoiceNotifications()).filter((row) => row.type === 'warning');
    expect(told.map((row) => row.user_id)).toEqual([admin.user.id, employee.user.id].sort());
    for (const row of told) {
      expect(row).toMatchObject({
        title: `${pastDue.length} invoices are overdue`,
        data: { invoiceIds: expect.arrayContaining(pastDue), today },
        actions: [
          { action: 'view-invoices', title: 'View overdue invoices', url: '/invoices?status=overdue' },
        ],
      });
      expect((row.data as { invoiceIds: string[] }).invoiceIds).toHaveLength(pastDue.length);
      expect(row.message).toMatch(/^Unpaid past their due date: .*L-1 \(due 2026-01-19\)/);
    }
    const overdue = (await get('/v1/invoices?status=overdue&limit=100')).json().data as InvoiceBody[];
    expect(overdue.map((row) => row.id).sort()).toEqual([...pastDue].sort());
    // The employee (invoice:process) may start it too; a second pass finds nothing new.
    const again = await send('POST', '/v1/jobs', { type: 'invoice:mark_overdue' }, employee);
    expect(again.statusCode).toBe(201);
    expect((await waitForJob(again.json().data.job.id, 'completed')).result).toEqual({ today, overdue: 0 });
    // Nothing new, nobody told again.
    expect((await invoiceNotifications()).filter((row) => row.type === 'warning')).toHaveLength(2);

    // Paid, then every event of its life, each routed to invoices:updates.
    const paid = await send('PUT', `/v1/invoices/${late.id}/status`, { status: 'paid', paidDate: today });
    expect(paid.statusCode, paid.body).toBe(200);
    const events = await eventsOf(late.id);
    expect(events.map((event) => event.type)).toEqual([
      'invoice:uploaded',
      'invoice:processed',
      'invoice:overdue',
      'invoice:payment_status',
    ]);
    expect(events[2]!.payload).toEqual({
      invoiceId: late.id,
      invoiceNumber: 'L-1',
      dueDate: '2026-01-19',
      paymentStatus: 'overdue',
    });
    for (const event of events) {
      expect(channelOf(event.type, event.payload)).toBe('invoices:updates');
    }
  });

  it('corrections, approval and reconciliation write their events too', async () => {
    const vendor = await insertVendor(t.app.platform.database, admin, { name: 'Event Farm' });
    const figs = await createItem(t.app, admin, { description: 'Black figs', unitCost: 3 });
    await insertCatalogueLine(t.app.platform.database, admin, vendor.id, figs.id, {
      unitCost: 3,
      vendorSku: 'EF-1',
    });
    const invoice = await processed(csv('ef.csv', [['EF-1', '2026-05-03', 'EF-1', 'Figs', '4', '3.00']]), {
      vendorId: vendor.id,
    });
    expect((await send('PUT', `/v1/invoices/${invoice.id}`, { dueDate: '2026-06-03' })).statusCode).toBe(200);
    expect((await send('POST', `/v1/invoices/${invoice.id}/approve`)).statusCode).toBe(200);
    const reconciled = await send('POST', `/v1/invoices/${invoice.id}/reconcile`, {
      adjustments: [{ itemId: figs.id, expectedQuantity: 4, actualQuantity: 3, reason: 'one bruised' }],
    });
    expect(reconciled.statusCode, reconciled.body).toBe(200);
    const events = await eventsOf(invoice.id);
    expect(events.map((event) => event.type)).toEqual([
      'invoice:uploaded',
      'invoice:processed',
      'invoice:updated',
      'invoice:approved',
      'invoice:reconciled',
    ]);
    for (const event of events) {
      expect(channelOf(event.type, event.payload)).toBe('invoices:updates');
    }
  });
});
