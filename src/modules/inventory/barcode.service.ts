import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import type { AuthContext } from '../auth/guard.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { type BarcodeType, normaliseBarcode } from './barcode.ts';
import { companyPrefix, productCatalog } from './catalog.ts';
import * as repo from './inventory.repository.ts';
import { loadContext } from './inventory.service.ts';

export interface Suggestion {
  name: string;
  brand: string;
  category: string;
  confidence: number;
  source: 'catalog' | 'catalog_same_maker' | 'store_same_maker';
}

/** How sure a suggestion is: the exact product beats "same maker" guesses. */
const CONFIDENCE = { exact: 0.95, storeSameMaker: 0.4, catalogSameMaker: 0.3 } as const;
const MAX_SUGGESTIONS = 5;

export class BarcodeService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;

  constructor(db: Kysely<DB>, settings: StoreSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  /**
   * Finds the store's item for a scanned code. UPC/EAN codes are checked and normalised first
   * (422 with the expected check digit when wrong); Code 128 is matched exactly against SKU and
   * barcode. When the store does not have it, suggestions come from what the store stocks from the
   * same maker and from the bundled catalogue, most confident first. Vendor catalogues and
   * invoice lines join as sources with their features.
   */
  async lookup(auth: AuthContext, input: { barcode: string; type: BarcodeType }) {
    const code = input.barcode.trim();
    const normalised = input.type === 'code128' ? null : normaliseBarcode(code, input.type);
    return withTenant(this.#db, auth.orgId, async (trx) => {
      let query = trx
        .selectFrom('inventory_items')
        .select('id')
        .where('org_id', '=', auth.orgId)
        .where('deleted_at', 'is', null);
      query = normalised
        ? query.where((eb) => eb.or([eb('gtin', '=', normalised.gtin), eb('item_upc', '=', code)]))
        : query.where((eb) => eb.or([eb('item_sku', '=', code), eb('item_upc', '=', code)]));
      const row = await query.orderBy('created_at').limit(1).executeTakeFirst();
      const barcode = {
        code,
        type: input.type,
        gtin: normalised?.gtin ?? null,
        format: normalised?.format ?? 'Code 128',
      };
      if (row) {
        const ctx = await loadContext(trx, auth.orgId, this.#settings);
        const [item] = await repo.apiItems(trx, auth.orgId, [row.id], ctx);
        if (item) return { found: true, barcode, item };
      }
      if (!normalised) return { found: false, barcode, suggestions: [] };

      const suggestions: Suggestion[] = [];
      const catalog = await productCatalog();
      const exact = catalog.byGtin.get(normalised.gtin);
      if (exact) {
        suggestions.push({
          name: exact.name,
          brand: exact.brand,
          category: exact.category,
          confidence: CONFIDENCE.exact,
          source: 'catalog',
        });
      }
      const prefix = companyPrefix(normalised.gtin);
      const sameMakerInStore = await trx
        .selectFrom('inventory_items')
        .select(['description', 'brand', 'category'])
        .where('org_id', '=', auth.orgId)
        .where('deleted_at', 'is', null)
        .where('gtin', 'like', `0${prefix}%`)
        .limit(MAX_SUGGESTIONS)
        .execute();
      for (const item of sameMakerInStore) {
        suggestions.push({
          name: item.description,
          brand: item.brand ?? '',
          category: item.category,
          confidence: CONFIDENCE.storeSameMaker,
          source: 'store_same_maker',
        });
      }
      for (const product of catalog.byCompanyPrefix.get(prefix) ?? []) {
        if (product.gtin === normalised.gtin) continue;
        suggestions.push({
          name: product.name,
          brand: product.brand,
          category: product.category,
          confidence: CONFIDENCE.catalogSameMaker,
          source: 'catalog_same_maker',
        });
      }
      const seen = new Set<string>();
      const ranked = suggestions
        .sort((a, b) => b.confidence - a.confidence)
        .filter((suggestion) => {
          const key = `${suggestion.name}|${suggestion.brand}`.toLowerCase();
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        })
        .slice(0, MAX_SUGGESTIONS);
      return { found: false, barcode, suggestions: ranked };
    });
  }
}
