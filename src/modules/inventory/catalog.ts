import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { gtinOf } from './barcode.ts';

/**
 * The bundled product catalogue (resources/catalog: an Open Food Facts subset, ODbL, attribution in
 * the README there). Loaded once, on first use, into maps by GTIN and by GS1 company prefix.
 */
export interface CatalogProduct {
  gtin: string;
  name: string;
  brand: string;
  category: string;
  quantity: string;
}

export interface Catalog {
  byGtin: Map<string, CatalogProduct>;
  byCompanyPrefix: Map<string, CatalogProduct[]>;
  size: number;
}

const CATALOG_FILE = new URL('../../../resources/catalog/open-food-facts-italy.csv', import.meta.url);

/** The GS1 company prefix is at least 7 digits of an EAN-13: products sharing it share a maker. */
export function companyPrefix(gtin: string): string {
  return gtin.slice(1, 8);
}

let loading: Promise<Catalog> | undefined;

export function productCatalog(): Promise<Catalog> {
  loading ??= readFile(CATALOG_FILE, 'utf8').then((text) => {
    const rows = parse<Record<string, string | undefined>>(text, {
      columns: true,
      skip_empty_lines: true,
      relax_column_count: true,
    });
    const byGtin = new Map<string, CatalogProduct>();
    const byCompanyPrefix = new Map<string, CatalogProduct[]>();
    for (const row of rows) {
      const gtin = gtinOf(row.code);
      const name = row.product_name?.trim();
      if (!gtin || !name) continue;
      const categories = (row.categories ?? '')
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      const product: CatalogProduct = {
        gtin,
        name,
        brand: (row.brands ?? '').split(',')[0]?.trim() ?? '',
        // Open Food Facts lists categories from general to specific: the last is the most useful.
        category: categories.at(-1) ?? '',
        quantity: row.quantity?.trim() ?? '',
      };
      byGtin.set(gtin, product);
      const prefix = companyPrefix(gtin);
      byCompanyPrefix.set(prefix, [...(byCompanyPrefix.get(prefix) ?? []), product]);
    }
    return { byGtin, byCompanyPrefix, size: byGtin.size };
  });
  return loading;
}
