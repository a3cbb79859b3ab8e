import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { type FilePart, multipart } from '../../../test/helpers/multipart.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ importMaxBytes: 64 * 1024 });
});
afterAll(() => t.close());

const upload = (session: Session, file: FilePart | undefined, options?: object) => {
  const form = multipart({
    ...(options ? { options: JSON.stringify(options) } : {}),
    ...(file ? { file } : {}),
  });
  return t.app.inject({
    method: 'POST',
    url: '/v1/inventory/bulk-import',
    headers: { ...bearer(session), ...form.headers },
    payload: form.payload,
  });
};
const csv = (content: string, filename = 'items.csv'): FilePart => ({
  filename,
  content,
  contentType: 'text/csv',
});
const itemsOf = (session: Session) =>
  t.testDatabase.database.db
    .selectFrom('inventory_items')
    .selectAll()
    .where('org_id', '=', session.user.organization.id)
    .where('deleted_at', 'is', null)
    // Rows of one import share a creation time: order by name to compare.
    .orderBy('description')
    .execute();

describe('bulk import', () => {
  it('applies the good rows and reports each bad one with its row number as seen in the file', async () => {
    const store = await registerStore(t.app, 'Import A');
    const response = await upload(
      store,
      csv(
        [
          'Item Description,Category,SKU,UPC,Qty,Expiry,Price',
          'Gala Apples,Produce,APL-1,036000291452,40,2031-05-01,1.99',
          'Bad Qty,Produce,BAD-1,,lots,,',
          ',Produce,NODESC-1,,5,,',
          'Bad Date,Dairy,BAD-2,,3,01/05/2031,',
          'Bananas,Produce,BAN-1,,"1,200",,0.25',
        ].join('\n'),
      ),
    );
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json().data;
    expect(result).toMatchObject({
      processed: 5,
      created: 2,
      updated: 0,
      skipped: 0,
      errorCount: 3,
      validateOnly: false,
    });
    expect(result.errors).toEqual([
      { row: 3, field: 'remainingStock', message: "'lots' is not a number" },
      { row: 4, field: 'description', message: 'is required for a new item' },
      { row: 5, field: 'expirationDate', message: "'01/05/2031' is not a date: use YYYY-MM-DD" },
    ]);
    const items = await itemsOf(store);
    expect(items.map((item) => [item.description, Number(item.remaining_stock), item.gtin])).toEqual([
      ['Bananas', 1200, null],
      ['Gala Apples', 40, '00036000291452'],
    ]);
    const apples = items[1]!;
    const lots = await t.testDatabase.database.db
      .selectFrom('inventory_lots')
      .selectAll()
      .where('item_id', '=', apples.id)
      .execute();
    expect(lots).toMatchObject([{ expiration_date: '2031-05-01' }]);
    expect(Number(lots[0]!.quantity)).toBe(40);
    const movements = await t.testDatabase.database.db
      .selectFrom('stock_movements')
      .selectAll()
      .where('item_id', '=', apples.id)
      .execute();
    expect(movements).toMatchObject([{ type: 'receipt', reason: 'received' }]);
  });

  it('stores every column of a row as the item, its opening lot, receipt and history say', async () => {
    const store = await registerStore(t.app, 'Import full row');
    // No vendors API yet: the vendor row is written directly.
    const { id: vendorId } = await t.testDatabase.database.db
      .insertInto('vendors')
      .values({ org_id: store.user.organization.id, name: 'Valley Dairy Co-op' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const header = [
      'description,category,brand,department,sku,upc,pack size,qty shipped,qty,weekly sales,location,aisle',
      'row,bin,expiry,unit cost,vendor cost,cust cost each,unit retail,advertising flag,order type',
      'vendor id',
      'reorder point,lot code,shelf life days',
    ].join(',');
    const row = [
      'Greek Yoghurt 500 g,Dairy,Hillside,Chilled,YOG-500,036000291452,500 g,24,18,6.5,Cooler 2,A4',
      'R2,B7,2031-06-30,1.2345,1.1,1.5,2.49,true,standing',
      vendorId,
      '4,L-0630,21',
    ].join(',');
    const response = await upload(store, csv(`${header}\n${row}`));
    expect(response.json().data, response.body).toMatchObject({ created: 1, errorCount: 0 });
    const [stored] = await itemsOf(store);

    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/inventory/${stored!.id}`,
      headers: bearer(store),
    });
    const item = read.json().data;
    expect(item).toMatchObject({
      description: 'Greek Yoghurt 500 g',
      category: 'Dairy',
      brand: 'Hillside',
      department: 'Chilled',
      itemSku: 'YOG-500',
      itemUpc: '036000291452',
      packSize: '500 g',
      qtyShipped: 24,
      remainingStock: 18,
      salesWeekly: 6.5,
      location: 'Cooler 2',
      aisle: 'A4',
      row: 'R2',
      bin: 'B7',
      unitCost: 1.2345,
      vendorCost: 1.1,
      custCostEach: 1.5,
      unitRetail: 2.49,
      advertisingFlag: true,
      orderType: 'standing',
      reorderPoint: 4,
      shelfLifeDays: 21,
      expirationDate: '2031-06-30',
      vendorId,
    });
    expect(stored!.gtin).toBe('00036000291452');
    expect(item.lots).toEqual([
      expect.objectContaining({
        lotCode: 'L-0630',
        quantity: 18,
        expirationDate: '2031-06-30',
        unitCost: 1.2345,
      }),
    ]);

    const [movement] = await t.testDatabase.database.db
      .selectFrom('stock_movements')
      .selectAll()
      .where('item_id', '=', stored!.id)
      .execute();
    expect(movement).toMatchObject({
      type: 'receipt',
      reason: 'received',
      notes: 'Opening stock (bulk import)',
      user_id: store.user.id,
      lots: [{ lotId: item.lots[0].id, quantity: 18 }],
    });
    expect(
      [movement!.quantity, movement!.stock_before, movement!.stock_after, movement!.unit_cost].map(Number),
    ).toEqual([18, 0, 18, 1.2345]);

    const history = await t.app.inject({
      method: 'GET',
      url: `/v1/inventory/${stored!.id}/history`,
      headers: bearer(store),
    });
    expect(history.json().data.changes).toEqual([
      expect.objectContaining({
        field: 'created',
        oldValue: null,
        newValue: 'Greek Yoghurt 500 g',
        changedBy: store.user.id,
        reason: 'bulk import',
      }),
    ]);
  });

  it('leaves the non-null defaults to a file without those columns', async () => {
    const store = await registerStore(t.app, 'Import defaults');
    const response = await upload(store, csv('description,category\nOat milk 1 l,Dairy'));
    expect(response.json().data, response.body).toMatchObject({ created: 1, errorCount: 0 });
    const [stored] = await itemsOf(store);
    expect(stored).toMatchObject({
      advertising_flag: false,
      remaining_stock: '0.000',
      earliest_expiry: null,
    });
    expect(Number(stored!.qty_shipped)).toBe(0);
  });

  it('recognises snake_case and camelCase headers and semicolon-separated files', async () => {
    const store = await registerStore(t.app, 'Import B');
    const response = await upload(
      store,
      csv(
        [
          'item_sku;description;category;remaining_stock;unitRetail;reorderPoint',
          'S-1;Feta;Dairy;12;4,50;3',
        ].join('\r\n'),
      ),
    );
    expect(response.json().data).toMatchObject({ created: 1, errorCount: 0 });
    const [item] = await itemsOf(store);
    expect(item).toMatchObject({ item_sku: 'S-1', unit_retail: '4.5000', reorder_point: '3.000' });
  });

  it('matches existing items by SKU, else barcode: error, skip or update as the options say', async () => {
    const store = await registerStore(t.app, 'Import C');
    const bySku = await createItem(t.app, store, {
      description: 'Old name',
      itemSku: 'K-1',
      remainingStock: 5,
    });
    const byUpc = await createItem(t.app, store, {
      description: 'Scanned',
      itemUpc: '96385074',
      remainingStock: 2,
    });
    const file = () =>
      csv(
        [
          'sku,upc,description,category,qty',
          'K-1,,New name,Produce,9',
          ',0000096385074,Scanned v2,Produce,',
        ].join('\n'),
      );

    const refused = (await upload(store, file())).json().data;
    expect(refused).toMatchObject({ created: 0, updated: 0, errorCount: 2 });
    expect(refused.errors[0]).toMatchObject({ row: 2, field: 'itemSku' });
    expect(refused.errors[0].message).toMatch(/already exists/);

    expect((await upload(store, file(), { skipDuplicates: true })).json().data).toMatchObject({
      skipped: 2,
      created: 0,
      updated: 0,
    });

    const updated = (await upload(store, file(), { updateExisting: true })).json().data;
    expect(updated).toMatchObject({ updated: 2, created: 0, errorCount: 0 });
    const item = (
      await t.app.inject({ method: 'GET', url: `/v1/inventory/${bySku.id}`, headers: bearer(store) })
    ).json().data;
    expect(item).toMatchObject({ description: 'New name', remainingStock: 9 });
    const scanned = (
      await t.app.inject({ method: 'GET', url: `/v1/inventory/${byUpc.id}`, headers: bearer(store) })
    ).json().data;
    expect(scanned).toMatchObject({ description: 'Scanned v2', remainingStock: 2 });
    const counts = await t.testDatabase.database.db
      .selectFrom('stock_movements')
      .select('type')
      .where('item_id', '=', bySku.id)
      .orderBy('occurred_at')
      .execute();
    expect(counts.map((row) => row.type)).toEqual(['receipt', 'count']);
  });

  it('reports a SKU repeated within the file against its first row', async () => {
    const store = await registerStore(t.app, 'Import D');
    const result = (
      await upload(
        store,
        csv(['sku,description,category', 'D-1,First,Produce', 'D-1,Second,Produce'].join('\n')),
      )
    ).json().data;
    expect(result).toMatchObject({ created: 1, errorCount: 1 });
    expect(result.errors[0]).toEqual({ row: 3, field: 'itemSku', message: 'duplicates row 2 of this file' });
  });

  it('changes nothing with validateOnly, but reports what would happen', async () => {
    const store = await registerStore(t.app, 'Import E');
    const result = (
      await upload(store, csv(['description,category,qty', 'Kale,Produce,3', 'Leeks,Produce,x'].join('\n')), {
        validateOnly: true,
      })
    ).json().data;
    expect(result).toMatchObject({ processed: 2, created: 1, errorCount: 1, validateOnly: true });
    expect(await itemsOf(store)).toEqual([]);
  });

  it('imports an XLSX workbook (first sheet), with real date and number cells', async () => {
    const store = await registerStore(t.app, 'Import F');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Stock');
    sheet.addRow(['UPC', 'Item Description', 'Category', 'Qty', 'Expiry', 'Unit Cost']);
    sheet.addRow(['8076809570787', 'Zuppa cereali', 'Dry goods', 14, new Date(Date.UTC(2031, 0, 15)), 1.35]);
    sheet.addRow(['', 'Crackers', 'Dry goods', 'seven', '', '']);
    sheet.addRow([]);
    sheet.addRow(['', 'Grissini', 'Bakery', 3, '', '']);
    const buffer = Buffer.from(await workbook.xlsx.writeBuffer());
    const result = (await upload(store, { filename: 'stock.xlsx', content: buffer })).json().data;
    expect(result).toMatchObject({ processed: 3, created: 2, errorCount: 1 });
    expect(result.errors).toEqual([{ row: 3, field: 'remainingStock', message: "'seven' is not a number" }]);
    const items = await itemsOf(store);
    expect(items[0]).toMatchObject({ description: 'Grissini' });
    expect(items[1]).toMatchObject({
      description: 'Zuppa cereali',
      gtin: '08076809570787',
      earliest_expiry: '2031-01-15',
      unit_cost: '1.3500',
    });
  });

  it('keeps matching and inserting after refreshing statistics mid-import (past 5,000 rows)', async () => {
    const store = await registerStore(t.app, 'Import Big');
    await createItem(t.app, store, { description: 'Existing', itemSku: 'OLD-1' });
    // Short rows: the test app's upload limit is 64 KB.
    const rows = Array.from({ length: 5200 }, (_, index) => `i${index},p,`);
    rows[5100] = 'again,p,OLD-1'; // after the mid-import ANALYZE: still matched against the store
    const response = await upload(store, csv(['description,category,sku', ...rows].join('\n')));
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toMatchObject({ processed: 5200, created: 5199, errorCount: 1 });
    expect(response.json().data.errors).toEqual([
      expect.objectContaining({
        row: 5102,
        field: 'itemSku',
        message: expect.stringContaining('already exists'),
      }),
    ]);
    expect((await itemsOf(store)).length).toBe(5200);
  });

  it('applies all or nothing: a failure part-way leaves no row behind', async () => {
    const store = await registerStore(t.app, 'Import G');
    await sql`
      create or replace function fail_on_boom() returns trigger language plpgsql as $$
      begin
        if new.description = 'BOOM' then raise exception 'simulated crash'; end if;
        return new;
      end $$`.execute(t.testDatabase.database.db);
    await sql`create trigger boom before insert on inventory_items for each row execute function fail_on_boom()`.execute(
      t.testDatabase.database.db,
    );
    try {
      // The second batch's insert fails while the third batch is read and its lookups queued.
      const rows = Array.from({ length: 1200 }, (_, index) => `Item ${index},Produce,${index}`);
      rows[650] = 'BOOM,Produce,650';
      const response = await upload(store, csv(['description,category,qty', ...rows].join('\n')));
      expect(response.statusCode).toBe(500);
      expect(await itemsOf(store)).toEqual([]);
    } finally {
      await sql`drop trigger boom on inventory_items`.execute(t.testDatabase.database.db);
    }
  });

  it('refuses a malformed CSV line with 400 naming it, and keeps none of the rows before it', async () => {
    const store = await registerStore(t.app, 'Import G2');
    // Two batches are in (the second still being written) when line 1,102 turns out unreadable.
    const rows = Array.from({ length: 1200 }, (_, index) => `Item ${index},Produce,${index}`);
    rows[1100] = '"Unclosed quote,Produce,1';
    const response = await upload(store, csv(['description,category,qty', ...rows].join('\n')));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      success: false,
      error: {
        code: 'INVALID_IMPORT_FILE',
        message: expect.stringMatching(/^The file is not valid CSV after row 1101: Quote Not Closed/),
      },
    });
    expect(await itemsOf(store)).toEqual([]);
  });

  it.each([
    [
      'a PDF',
      { filename: 'invoice.pdf', content: Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n', 'latin1') },
      400,
      'UNSUPPORTED_FILE',
    ],
    [
      'a legacy XLS',
      { filename: 'old.xls', content: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]) },
      400,
      'UNSUPPORTED_FILE',
    ],
    ['an empty file', { filename: 'empty.csv', content: '' }, 400, 'EMPTY_FILE'],
    [
      'a damaged XLSX',
      { filename: 'stock.xlsx', content: Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(600, 7)]) },
      400,
      'INVALID_IMPORT_FILE',
    ],
    [
      'a file with no recognisable header',
      { filename: 'x.csv', content: 'foo,bar\n1,2\n' },
      400,
      'NO_HEADER',
    ],
    [
      'a file larger than the limit',
      { filename: 'big.csv', content: `description,category\n${'x,y\n'.repeat(20_000)}` },
      413,
      'PAYLOAD_TOO_LARGE',
    ],
  ])('refuses %s', async (_case, file, status, code) => {
    const store = await registerStore(t.app, 'Import H');
    const response = await upload(store, file);
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ success: false, error: { code } });
    expect(await itemsOf(store)).toEqual([]);
  });

  it('refuses a request without a file, with bad options, or not multipart', async () => {
    const store = await registerStore(t.app, 'Import I');
    expect((await upload(store, undefined, { validateOnly: true })).statusCode).toBe(400);
    const badOptions = multipart({
      options: '{"validateOnly": "maybe"}',
      file: csv('description,category\na,b'),
    });
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/inventory/bulk-import',
          headers: { ...bearer(store), ...badOptions.headers },
          payload: badOptions.payload,
        })
      ).statusCode,
    ).toBe(400);
    const json = await t.app.inject({
      method: 'POST',
      url: '/v1/inventory/bulk-import',
      headers: bearer(store),
      payload: { file: 'x' },
    });
    expect(json.statusCode).toBe(415);
  });
});
