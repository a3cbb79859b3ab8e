import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { multipart } from '../../../test/helpers/multipart.ts';

let t: TestApp;
let store: Session;
let milk: { id: string };
let soup: { id: string };

beforeAll(async () => {
  t = await createTestApp();
  store = await registerStore(t.app, 'Scanner Store');
  milk = await createItem(t.app, store, {
    description: 'Whole Milk',
    category: 'Dairy',
    itemUpc: '036000291452',
  });
  soup = await createItem(t.app, store, {
    description: 'Zuppa',
    category: 'Dry goods',
    itemUpc: '012000003455',
    itemSku: 'SOUP-ZZ',
  });
});
afterAll(() => t.close());

const lookup = (barcode: string, type: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/inventory/barcode-lookup',
    headers: bearer(store),
    payload: { barcode, type },
  });

describe('POST /v1/inventory/barcode-lookup', () => {
  it('finds an item by its UPC-A and by the EAN-13 form of the same code', async () => {
    for (const [barcode, type] of [
      ['036000291452', 'upc'],
      ['0036000291452', 'ean'],
    ]) {
      const response = await lookup(barcode!, type!);
      expect(response.statusCode).toBe(200);
      expect(response.json().data).toMatchObject({
        found: true,
        item: { id: milk.id },
        barcode: { gtin: '00036000291452' },
      });
    }
  });

  it('finds a UPC-A item from its UPC-E (zero-suppressed) code', async () => {
    const response = await lookup('01234505', 'upc');
    expect(response.json().data).toMatchObject({
      found: true,
      item: { id: soup.id },
      barcode: { format: 'UPC-E' },
    });
  });

  it('answers 422 naming the expected check digit for a mistyped code', async () => {
    const response = await lookup('036000291453', 'upc');
    expect(response.statusCode).toBe(422);
    expect(response.json().error).toMatchObject({
      code: 'INVALID_BARCODE',
      details: { expectedCheckDigit: 2 },
    });
    expect(response.json().error.message).toContain('expected 2');
  });

  it('matches Code 128 exactly against SKU and barcode text', async () => {
    expect((await lookup('SOUP-ZZ', 'code128')).json().data).toMatchObject({
      found: true,
      item: { id: soup.id },
    });
    expect((await lookup('soup-zz', 'code128')).json().data).toMatchObject({ found: false, suggestions: [] });
  });

  it('suggests the catalogue product for an unknown code, with high confidence', async () => {
    const response = await lookup('8076809570787', 'ean');
    const data = response.json().data;
    expect(data.found).toBe(false);
    expect(data.suggestions[0]).toEqual({
      name: 'Preparato per zuppa di cereali e legumi',
      brand: 'Barilla',
      category: 'Zuppa di cereali',
      confidence: 0.95,
      source: 'catalog',
    });
  });

  it('suggests products of the same maker, ranked below exact matches', async () => {
    await createItem(t.app, store, {
      description: 'Conad Insalata',
      category: 'Produce',
      brand: 'Conad',
      itemUpc: '8003170050792',
    });
    const response = await lookup('8003170099999', 'ean');
    const suggestions = response.json().data.suggestions;
    expect(suggestions.length).toBeGreaterThan(1);
    expect(suggestions.length).toBeLessThanOrEqual(5);
    expect(suggestions[0]).toMatchObject({
      name: 'Conad Insalata',
      source: 'store_same_maker',
      confidence: 0.4,
    });
    expect(
      suggestions.slice(1).every((s: { source: string; brand: string }) => s.source === 'catalog_same_maker'),
    ).toBe(true);
    const confidences = suggestions.map((s: { confidence: number }) => s.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
  });

  it('answers 400 for a bad type or an empty code', async () => {
    expect((await lookup('036000291452', 'qr')).statusCode).toBe(400);
    expect((await lookup('', 'upc')).statusCode).toBe(400);
  });
});

describe('barcodes written to items', () => {
  const send = (method: 'POST' | 'PUT', url: string, payload: object) =>
    t.app.inject({ method, url, headers: bearer(store), payload });
  const importCsv = (content: string, options: object = {}) => {
    const form = multipart({
      options: JSON.stringify(options),
      file: { filename: 'codes.csv', content, contentType: 'text/csv' },
    });
    return t.app.inject({
      method: 'POST',
      url: '/v1/inventory/bulk-import',
      headers: { ...bearer(store), ...form.headers },
      payload: form.payload,
    });
  };
  const itemsNamed = (description: string) =>
    t.testDatabase.database.db
      .selectFrom('inventory_items')
      .select(['id', 'item_upc', 'gtin'])
      .where('org_id', '=', store.user.organization.id)
      .where('description', '=', description)
      .execute();

  it('refuses a create whose UPC/EAN check digit is wrong: 400 naming the field and the digit', async () => {
    for (const [code, format, expected] of [
      ['036000291453', 'UPC-A', 2],
      ['4006381333932', 'EAN-13', 1],
      ['04252615', 'EAN-8', 0],
    ] as const) {
      const response = await send('POST', '/v1/inventory', {
        description: 'Mistyped code',
        category: 'Dairy',
        itemUpc: code,
        remainingStock: 3,
      });
      expect(response.statusCode, code).toBe(400);
      const error = response.json().error;
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.message).toContain(
        `itemUpc: wrong check digit for ${format} ${code}: expected ${expected}`,
      );
      expect(error.details).toEqual([
        expect.objectContaining({ field: 'itemUpc', format, expectedCheckDigit: expected }),
      ]);
    }
    expect(await itemsNamed('Mistyped code')).toEqual([]);
  });

  it('refuses an update to a mistyped code and leaves the item as it was', async () => {
    const item = await createItem(t.app, store, { description: 'Relabelled', itemUpc: '4006381333931' });
    const response = await send('PUT', `/v1/inventory/${item.id}`, {
      description: 'Relabelled twice',
      itemUpc: '036000291453',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details).toEqual([
      expect.objectContaining({ field: 'itemUpc', expectedCheckDigit: 2 }),
    ]);
    expect(await itemsNamed('Relabelled')).toEqual([
      { id: item.id, item_upc: '4006381333931', gtin: '04006381333931' },
    ]);
    const history = await t.app.inject({
      method: 'GET',
      url: `/v1/inventory/${item.id}/history`,
      headers: bearer(store),
    });
    expect(history.json().data.changes.map((change: { field: string }) => change.field)).toEqual(['created']);
  });

  it('reports a mistyped code in an import as a row error naming the row, column and digit', async () => {
    const response = await importCsv(
      [
        'Item Description,Category,UPC,Qty',
        'Import good,Dairy,5000112637922,2',
        'Import bad UPC-A,Dairy,036000291453,2',
        'Import bad EAN-13,Dairy,4006381333932,2',
        'Import in-store,Dairy,PLU-4011,2',
      ].join('\n'),
    );
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json().data;
    expect(result).toMatchObject({ processed: 4, created: 2, errorCount: 2 });
    expect(result.errors).toEqual([
      {
        row: 3,
        field: 'itemUpc',
        message: 'column C (UPC): wrong check digit for UPC-A 036000291453: expected 2, got 3',
      },
      {
        row: 4,
        field: 'itemUpc',
        message: 'column C (UPC): wrong check digit for EAN-13 4006381333932: expected 1, got 2',
      },
    ]);
    expect(await itemsNamed('Import bad UPC-A')).toEqual([]);
    expect(await itemsNamed('Import in-store')).toEqual([
      { id: expect.any(String), item_upc: 'PLU-4011', gtin: null },
    ]);
    // An update by import is checked the same way, and changes nothing.
    const update = await importCsv(['sku,upc', 'SOUP-ZZ,012000003456'].join('\n'), { updateExisting: true });
    expect(update.json().data).toMatchObject({ updated: 0, errorCount: 1 });
    expect(update.json().data.errors[0].message).toContain('expected 5, got 6');
  });

  it('scans every good code it stored, whichever form it was written and scanned in', async () => {
    const upcA = await createItem(t.app, store, { description: 'Written UPC-A', itemUpc: ' 012345678905 ' });
    const ean13 = await createItem(t.app, store, {
      description: 'Written EAN-13',
      itemUpc: '4006381333931x',
    });
    expect((await send('PUT', `/v1/inventory/${ean13.id}`, { itemUpc: '5901234123457' })).statusCode).toBe(
      200,
    );
    const imported = await importCsv(
      ['description,category,barcode', 'Written UPC-E,Dry goods,04252614'].join('\n'),
    );
    expect(imported.json().data).toMatchObject({ created: 1, errorCount: 0 });
    const [upcE] = await itemsNamed('Written UPC-E');
    expect(await itemsNamed('Written UPC-A')).toEqual([
      { id: upcA.id, item_upc: '012345678905', gtin: '00012345678905' },
    ]);
    for (const [barcode, type, id] of [
      ['012345678905', 'upc', upcA.id],
      ['0012345678905', 'ean', upcA.id],
      ['5901234123457', 'ean', ean13.id],
      ['04252614', 'upc', upcE!.id],
      ['042100005264', 'upc', upcE!.id],
    ] as const) {
      const response = await lookup(barcode, type);
      expect(response.statusCode, `${barcode} ${response.body}`).toBe(200);
      expect(response.json().data, barcode).toMatchObject({ found: true, item: { id } });
    }
  });
});
