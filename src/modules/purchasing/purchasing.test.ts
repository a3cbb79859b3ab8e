import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, lastMailTo, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import {
  createPo,
  insertCatalogueLine,
  insertVendor,
  type Po,
  poAction,
  sentPo,
} from '../../../test/helpers/purchasing.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import { expectedDeliveryDate } from '../vendors/catalogue.ts';

/** The text of every page of a PDF, read back with PDF.js. */
async function pdfText(bytes: Buffer): Promise<string> {
  const { getDocument, VerbosityLevel } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const root = path.dirname(fileURLToPath(import.meta.resolve('pdfjs-dist/package.json')));
  const task = getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: path.join(root, 'standard_fonts') + path.sep,
    verbosity: VerbosityLevel.ERRORS,
  });
  const document = await task.promise;
  let text = '';
  for (let number = 1; number <= document.numPages; number++) {
    const content = await (await document.getPage(number)).getTextContent();
    text += content.items.map((item) => ('str' in item ? item.str : '')).join(' ') + '\n';
  }
  await task.destroy();
  return text;
}

describe('purchase orders', () => {
  let t: TestApp;
  let admin: Session;
  let vendor: { id: string; name: string };
  let apples: { id: string };
  let pears: { id: string };
  let plums: { id: string };

  beforeAll(async () => {
    // Jobs run: inviting the employee and the viewer goes through the mail queue.
    t = await createTestApp();
    admin = await registerStore(t.app, 'Orchard Grocer');
    const database = t.testDatabase.database;
    vendor = await insertVendor(database, admin, { name: 'Hill Farm' });
    apples = await createItem(t.app, admin, { description: 'Gala apples', unitCost: 0.5 });
    pears = await createItem(t.app, admin, {
      description: 'Conference pears',
      vendorCost: 0.7,
      unitCost: 0.9,
    });
    plums = await createItem(t.app, admin, { description: 'Victoria plums' });
    await insertCatalogueLine(database, admin, vendor.id, apples.id, {
      unitCost: 0.4,
      unitsPerCase: 12,
      priceBreaks: [
        { minQuantity: 24, unitCost: 0.35 },
        { minQuantity: 120, unitCost: 0.3 },
      ],
      leadTimeDays: 2,
      vendorSku: 'HF-GALA',
    });
  });
  afterAll(() => t.close());

  it('creates a draft priced from the catalogue, the item’s vendor cost, or the client', async () => {
    const po = await createPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [
        { itemId: apples.id, quantity: 3, orderUnit: 'case' },
        { itemId: pears.id, quantity: 10 },
        { itemId: plums.id, quantity: 5, unitCost: 1.25 },
      ],
      notes: 'Back door',
    });
    expect(po.status).toBe('draft');
    expect(po.poNumber).toMatch(/^PO-\d{6}$/);
    expect(po.poNumber).toBe(`PO-${String(po.number).padStart(6, '0')}`);
    const [a, p, l] = po.lines;
    // 3 cases of 12 = 36 units: the 24-unit break applies.
    expect(a).toMatchObject({
      lineNumber: 1,
      orderUnit: 'case',
      quantity: 3,
      unitsPerCase: 12,
      quantityUnits: 36,
      unitCost: 0.35,
      lineTotal: 12.6,
      vendorSku: 'HF-GALA',
      outstandingUnits: 36,
    });
    expect(p).toMatchObject({ unitCost: 0.7, quantityUnits: 10, lineTotal: 7 });
    expect(l).toMatchObject({ unitCost: 1.25, lineTotal: 6.25, description: 'Victoria plums' });
    expect(po.subtotal).toBe(25.85);
    const today = todayIn('UTC');
    expect(po.orderDate).toBe(today);
    expect(po.expectedDate).toBe(expectedDeliveryDate(today, { leadTimeDays: 2, deliveryDays: [] }));

    const got = await t.app.inject({
      method: 'GET',
      url: `/v1/purchase-orders/${po.id}`,
      headers: bearer(admin),
    });
    expect(got.statusCode).toBe(200);
    expect(got.json<{ data: Po }>().data.lines).toHaveLength(3);
  });

  it('defaults the expected date to tomorrow without catalogue terms', async () => {
    const po = await createPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: pears.id, quantity: 1 }],
    });
    expect(po.expectedDate).toBe(addDays(todayIn('UTC'), 1));
  });

  it('refuses lines it cannot price or order, naming each field', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/purchase-orders',
      headers: bearer(admin),
      payload: {
        vendorId: vendor.id,
        lines: [
          { itemId: plums.id, quantity: 1 },
          { itemId: pears.id, quantity: 1, orderUnit: 'case' },
          { itemId: '00000000-0000-4000-8000-000000000000', quantity: 1 },
          { itemId: pears.id, quantity: 2 },
        ],
      },
    });
    expect(bad.statusCode).toBe(422);
    const fields = bad.json().error.details.map((problem: { field: string }) => problem.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'lines[0].unitCost',
        'lines[1].orderUnit',
        'lines[2].itemId',
        'lines[3].itemId',
      ]),
    );
    const unknownVendor = await t.app.inject({
      method: 'POST',
      url: '/v1/purchase-orders',
      headers: bearer(admin),
      payload: {
        vendorId: '00000000-0000-4000-8000-000000000000',
        lines: [{ itemId: pears.id, quantity: 1 }],
      },
    });
    expect(unknownVendor.statusCode).toBe(422);
    expect(unknownVendor.json().error.details[0].field).toBe('vendorId');
    const inactive = await insertVendor(t.testDatabase.database, admin, { status: 'inactive' });
    const toInactive = await t.app.inject({
      method: 'POST',
      url: '/v1/purchase-orders',
      headers: bearer(admin),
      payload: { vendorId: inactive.id, lines: [{ itemId: pears.id, quantity: 1 }] },
    });
    expect(toInactive.statusCode).toBe(422);
    const zero = await t.app.inject({
      method: 'POST',
      url: '/v1/purchase-orders',
      headers: bearer(admin),
      payload: { vendorId: vendor.id, lines: [{ itemId: pears.id, quantity: 0 }] },
    });
    expect(zero.statusCode).toBe(400);
  });

  it('gives 50 concurrent orders 50 distinct consecutive numbers', async () => {
    const before = await createPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: pears.id, quantity: 1 }],
    });
    const created = await Promise.all(
      Array.from({ length: 50 }, () =>
        createPo(t.app, admin, { vendorId: vendor.id, lines: [{ itemId: pears.id, quantity: 1 }] }),
      ),
    );
    const numbers = created.map((po) => po.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 50 }, (_, index) => before.number + 1 + index));
  });

  it('changes a draft (lines replaced, subtotal recomputed) and nothing else', async () => {
    const po = await createPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: pears.id, quantity: 1 }],
    });
    const updated = await t.app.inject({
      method: 'PUT',
      url: `/v1/purchase-orders/${po.id}`,
      headers: bearer(admin),
      payload: { lines: [{ itemId: apples.id, quantity: 120 }], notes: 'More apples' },
    });
    expect(updated.statusCode).toBe(200);
    const data = updated.json<{ data: Po & { notes: string } }>().data;
    expect(data.lines).toHaveLength(1);
    expect(data.lines[0]).toMatchObject({ itemId: apples.id, unitCost: 0.3, lineTotal: 36 });
    expect(data.subtotal).toBe(36);
    expect(data.notes).toBe('More apples');

    await poAction(t.app, admin, po.id, 'send', { skipEmail: true });
    const late = await t.app.inject({
      method: 'PUT',
      url: `/v1/purchase-orders/${po.id}`,
      headers: bearer(admin),
      payload: { notes: 'too late' },
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toMatchObject({ code: 'INVALID_PO_STATE', details: { status: 'sent' } });
  });

  it('refuses every transition the state machine does not allow', async () => {
    const expectRefused = async (
      id: string,
      action: Parameters<typeof poAction>[3],
      status: string,
      body?: object,
    ) => {
      const response = await poAction(t.app, admin, id, action, body);
      expect(response.statusCode, `${action} on ${status}`).toBe(409);
      expect(response.json().error).toMatchObject({ code: 'INVALID_PO_STATE', details: { status } });
    };
    const line = { vendorId: vendor.id, lines: [{ itemId: pears.id, quantity: 2 }] };

    const draft = await createPo(t.app, admin, line);
    await expectRefused(draft.id, 'acknowledge', 'draft');
    await expectRefused(draft.id, 'close', 'draft', {});
    await expectRefused(draft.id, 'receipts', 'draft', {
      lines: [{ itemId: pears.id, quantityReceived: 1 }],
    });

    const sent = await sentPo(t.app, admin, line);
    expect(sent.status).toBe('sent');
    await expectRefused(sent.id, 'send', 'sent', { skipEmail: true });
    await expectRefused(sent.id, 'close', 'sent', {});
    expect((await poAction(t.app, admin, sent.id, 'acknowledge')).statusCode).toBe(200);
    await expectRefused(sent.id, 'acknowledge', 'sent');

    const partial = await sentPo(t.app, admin, line);
    const received = await poAction(t.app, admin, partial.id, 'receipts', {
      lines: [{ itemId: pears.id, quantityReceived: 1 }],
    });
    expect(received.statusCode).toBe(201);
    await expectRefused(partial.id, 'send', 'partially_received', { skipEmail: true });
    await expectRefused(partial.id, 'cancel', 'partially_received', { reason: 'no' });
    const closed = await poAction(t.app, admin, partial.id, 'close', { reason: 'vendor is out of pears' });
    expect(closed.statusCode).toBe(200);
    expect(closed.json<{ data: Po }>().data).toMatchObject({
      status: 'received',
      closeReason: 'vendor is out of pears',
      shortClosedAt: expect.any(String),
      receivedAt: expect.any(String),
    });
    expect(closed.json<{ data: Po }>().data.lines[0]).toMatchObject({
      receivedUnits: 1,
      outstandingUnits: 0,
    });
    await expectRefused(partial.id, 'close', 'received', {});
    await expectRefused(partial.id, 'cancel', 'received', { reason: 'no' });
    await expectRefused(partial.id, 'acknowledge', 'received');
    await expectRefused(partial.id, 'receipts', 'received', {
      lines: [{ itemId: pears.id, quantityReceived: 1 }],
    });

    const cancelled = await createPo(t.app, admin, line);
    const cancel = await poAction(t.app, admin, cancelled.id, 'cancel', { reason: 'ordered twice' });
    expect(cancel.json().data).toMatchObject({ status: 'cancelled', cancelReason: 'ordered twice' });
    await expectRefused(cancelled.id, 'send', 'cancelled', { skipEmail: true });
    await expectRefused(cancelled.id, 'cancel', 'cancelled', { reason: 'again' });
    await expectRefused(cancelled.id, 'acknowledge', 'cancelled');
    await expectRefused(cancelled.id, 'close', 'cancelled', {});
    await expectRefused(cancelled.id, 'receipts', 'cancelled', {
      lines: [{ itemId: pears.id, quantityReceived: 1 }],
    });

    const sentThenCancelled = await sentPo(t.app, admin, line);
    expect(
      (await poAction(t.app, admin, sentThenCancelled.id, 'cancel', { reason: 'late' })).statusCode,
    ).toBe(200);

    // The events of these changes went to the outbox in their transactions.
    const events = await t.testDatabase.database.db
      .selectFrom('outbox_events')
      .select(['type', 'payload'])
      .where('org_id', '=', admin.user.organization.id)
      .where('type', 'like', 'purchase_order:%')
      .execute();
    const types = new Set(events.map((event) => event.type));
    for (const type of ['created', 'updated', 'sent', 'acknowledged', 'cancelled', 'received']) {
      expect(types.has(`purchase_order:${type}`), type).toBe(true);
    }
    expect(events.find((event) => event.type === 'purchase_order:cancelled')?.payload).toMatchObject({
      purchaseOrderId: expect.any(String),
      number: expect.any(Number),
      vendorId: vendor.id,
      status: 'cancelled',
    });
  });

  it('refuses to send below the vendor’s or a catalogue line’s minimum unless allowed', async () => {
    const database = t.testDatabase.database;
    const picky = await insertVendor(database, admin, { minimumOrderValue: 100 });
    await insertCatalogueLine(database, admin, picky.id, apples.id, {
      unitCost: 1,
      unitsPerCase: 10,
      minimumOrderQuantity: 2,
      minimumOrderUnit: 'case',
    });
    const po = await createPo(t.app, admin, {
      vendorId: picky.id,
      lines: [{ itemId: apples.id, quantity: 15 }],
    });
    const refused = await poAction(t.app, admin, po.id, 'send', { skipEmail: true });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('BELOW_MINIMUM');
    expect(refused.json().error.details.shortfalls).toEqual([
      { field: 'subtotal', minimum: 100, ordered: 15, unit: 'USD' },
      expect.objectContaining({ lineNumber: 1, minimum: 2, ordered: 1.5, unit: 'case' }),
    ]);
    const allowed = await poAction(t.app, admin, po.id, 'send', { skipEmail: true, allowBelowMinimum: true });
    expect(allowed.statusCode).toBe(200);

    const noEmail = await insertVendor(database, admin, { email: null });
    const unaddressed = await createPo(t.app, admin, {
      vendorId: noEmail.id,
      lines: [{ itemId: pears.id, quantity: 1 }],
    });
    const noAddress = await poAction(t.app, admin, unaddressed.id, 'send', {});
    expect(noAddress.statusCode).toBe(422);
    expect(noAddress.json().error.details[0].field).toBe('to');

    // Without SMTP the mail is logged and kept in the outbox, with the attachment's name.
    const to = `buyer-${unaddressed.number}@vendor.example`;
    expect((await poAction(t.app, admin, unaddressed.id, 'send', { to })).statusCode).toBe(200);
    const { mail } = await lastMailTo(database, to);
    expect(mail).toMatchObject({ transport: 'log', attachment_names: [`${unaddressed.poNumber}.pdf`] });
    expect(mail?.body).toContain(unaddressed.poNumber);
  });

  it('lists orders newest first with filters', async () => {
    const other = await insertVendor(t.testDatabase.database, admin, { name: 'List Vendor' });
    const first = await createPo(t.app, admin, {
      vendorId: other.id,
      lines: [{ itemId: pears.id, quantity: 1 }],
    });
    const second = await sentPo(t.app, admin, {
      vendorId: other.id,
      lines: [{ itemId: pears.id, quantity: 1 }],
    });
    const listed = await t.app.inject({
      method: 'GET',
      url: `/v1/purchase-orders?vendorId=${other.id}`,
      headers: bearer(admin),
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().data.map((po: Po) => po.id)).toEqual([second.id, first.id]);
    expect(listed.json().data[0]).toMatchObject({ vendorName: 'List Vendor', lineCount: 1 });
    expect(listed.json().meta.pagination).toMatchObject({ total: 2 });
    const sentOnly = await t.app.inject({
      method: 'GET',
      url: `/v1/purchase-orders?vendorId=${other.id}&status=sent&dateFrom=${todayIn('UTC')}&dateTo=${todayIn('UTC')}`,
      headers: bearer(admin),
    });
    expect(sentOnly.json().data.map((po: Po) => po.id)).toEqual([second.id]);
  });

  it('renders the PDF with the number, the store, the vendor and every line', async () => {
    const po = await createPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [
        { itemId: apples.id, quantity: 2, orderUnit: 'case' },
        { itemId: pears.id, quantity: 4 },
      ],
    });
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/purchase-orders/${po.id}/pdf`,
      headers: bearer(admin),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="${po.poNumber}.pdf"`);
    const text = await pdfText(response.rawPayload);
    expect(text).toContain(po.poNumber);
    expect(text).toContain('Orchard Grocer');
    expect(text).toContain('Hill Farm');
    expect(text).toContain('Gala apples');
    expect(text).toContain('Conference pears');
    expect(text).toContain('HF-GALA');
    expect(text).toContain(`USD ${po.subtotal.toFixed(2)}`);
  });

  it('answers 404 for another store’s order and 403 without the permission', async () => {
    const po = await createPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: pears.id, quantity: 1 }],
    });
    const stranger = await registerStore(t.app, 'Other Shop');
    for (const [method, url] of [
      ['GET', `/v1/purchase-orders/${po.id}`],
      ['GET', `/v1/purchase-orders/${po.id}/pdf`],
      ['GET', `/v1/purchase-orders/${po.id}/receipts`],
    ] as const) {
      const response = await t.app.inject({ method, url, headers: bearer(stranger) });
      expect(response.statusCode, url).toBe(404);
    }
    for (const action of ['send', 'cancel', 'acknowledge', 'close'] as const) {
      const response = await poAction(
        t.app,
        stranger,
        po.id,
        action,
        action === 'cancel' ? { reason: 'x' } : {},
      );
      expect(response.statusCode, action).toBe(404);
    }
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/purchase-orders/${po.id}`,
      headers: bearer(stranger),
      payload: { notes: 'mine now' },
    });
    expect(put.statusCode).toBe(404);
    // Their vendor and item are unknown here, and ours there.
    const crossVendor = await t.app.inject({
      method: 'POST',
      url: '/v1/purchase-orders',
      headers: bearer(stranger),
      payload: { vendorId: vendor.id, lines: [{ itemId: pears.id, quantity: 1 }] },
    });
    expect(crossVendor.statusCode).toBe(422);
    const theirVendor = await insertVendor(t.testDatabase.database, stranger);
    const crossItem = await t.app.inject({
      method: 'POST',
      url: '/v1/purchase-orders',
      headers: bearer(stranger),
      payload: { vendorId: theirVendor.id, lines: [{ itemId: pears.id, quantity: 1, unitCost: 1 }] },
    });
    expect(crossItem.statusCode).toBe(422);
    expect(crossItem.json().error.details[0].field).toBe('lines[0].itemId');
    const listed = await t.app.inject({
      method: 'GET',
      url: '/v1/purchase-orders',
      headers: bearer(stranger),
    });
    expect(listed.json().data).toEqual([]);

    const employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
    const viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    const create = await t.app.inject({
      method: 'POST',
      url: '/v1/purchase-orders',
      headers: bearer(employee),
      payload: { vendorId: vendor.id, lines: [{ itemId: pears.id, quantity: 1 }] },
    });
    expect(create.statusCode).toBe(403);
    for (const action of ['send', 'acknowledge', 'close'] as const) {
      expect((await poAction(t.app, employee, po.id, action, {})).statusCode, action).toBe(403);
    }
    expect((await poAction(t.app, employee, po.id, 'cancel', { reason: 'x' })).statusCode).toBe(403);
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/purchase-orders/${po.id}`,
      headers: bearer(viewer),
    });
    expect(read.statusCode).toBe(200);
    const viewerReceipt = await poAction(t.app, viewer, po.id, 'receipts', {
      lines: [{ itemId: pears.id, quantityReceived: 1 }],
    });
    expect(viewerReceipt.statusCode).toBe(403);
    const viewerDirect = await t.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: bearer(viewer),
      payload: { lines: [{ itemId: pears.id, quantityReceived: 1 }] },
    });
    expect(viewerDirect.statusCode).toBe(403);
  });
});
