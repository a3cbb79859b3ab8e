import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';

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
