import type { Executor } from '../../platform/db/tenant.ts';
import type { InvoiceMatchMethod } from '../../platform/db/schema.ts';
import { gtinOf } from '../inventory/barcode.ts';
import * as repo from './invoices.repository.ts';

/**
 * Line → item matching, strongest evidence first: the barcode (normalised to GTIN-14 as the
 * barcode lookup does), the vendor's SKU as a person mapped it before (learned hints), the SKU in
 * the vendor's catalogue, then the description by trigram similarity. A description match is
 * taken only when it is clearly the best; otherwise the line stays unmatched with ranked
 * suggestions for a person to pick from.
 */

/** A description this similar (0–1) to one item, and clearly ahead of the next, is a match. */
export const DESCRIPTION_MATCH = 0.55;
/** How far ahead of the second candidate the first must be. */
export const DESCRIPTION_LEAD = 0.1;
const SUGGESTIONS = 3;

export interface LineToMatch {
  description: string;
  gtin: string | null;
  vendorSku: string | null;
}

export interface Suggestion {
  itemId: string;
  description: string;
  score: number;
}

export interface LineMatch {
  itemId: string | null;
  method: InvoiceMatchMethod | null;
  score: number | null;
  suggestions: Suggestion[];
}

export async function matchLines(
  db: Executor,
  orgId: string,
  vendorId: string | null,
  learnedSkus: Record<string, string>,
  lines: readonly LineToMatch[],
): Promise<LineMatch[]> {
  const gtins = lines.map((line) => (line.gtin ? gtinOf(line.gtin) : null));
  const byGtin = new Map(
    (await repo.itemsByGtin(db, orgId, [...new Set(gtins.filter((gtin) => gtin !== null))])).map((item) => [
      item.gtin!,
      item.id,
    ]),
  );
  const learned = new Map(Object.entries(learnedSkus).map(([sku, itemId]) => [sku.toLowerCase(), itemId]));
  // A learned mapping may point at an item deleted since: only live items count.
  const liveLearned = new Set(
    (await repo.liveItems(db, orgId, [...new Set(learned.values())])).map((item) => item.id),
  );
  const skus = lines.map((line) => line.vendorSku).filter((sku): sku is string => Boolean(sku));
  const catalogue = new Map(
    vendorId
      ? (await repo.catalogueBySku(db, orgId, vendorId, skus)).map((row) => [
          row.vendor_sku!.toLowerCase(),
          row.item_id,
        ])
      : [],
  );

  const matches: LineMatch[] = [];
  for (const [index, line] of lines.entries()) {
    const gtin = gtins[index];
    const sku = line.vendorSku?.toLowerCase();
    const found = (itemId: string | undefined, method: InvoiceMatchMethod): LineMatch | undefined =>
      itemId ? { itemId, method, score: 1, suggestions: [] } : undefined;
    const direct =
      (gtin ? found(byGtin.get(gtin), 'gtin') : undefined) ??
      (sku && liveLearned.has(learned.get(sku) ?? '') ? found(learned.get(sku), 'learned_sku') : undefined) ??
      (sku ? found(catalogue.get(sku), 'catalogue_sku') : undefined);
    if (direct) {
      matches.push(direct);
      continue;
    }
    matches.push(await byDescription(db, orgId, line.description));
  }
  return matches;
}

async function byDescription(db: Executor, orgId: string, description: string): Promise<LineMatch> {
  if (description.trim() === '') return { itemId: null, method: null, score: null, suggestions: [] };
  const candidates = (await repo.similarItems(db, orgId, description, SUGGESTIONS)).map((row) => ({
    itemId: row.id,
    description: row.description,
    score: Math.round(Number(row.score) * 1000) / 1000,
  }));
  const [best, second] = candidates;
  if (best && best.score >= DESCRIPTION_MATCH && best.score - (second?.score ?? 0) >= DESCRIPTION_LEAD) {
    return { itemId: best.itemId, method: 'description', score: best.score, suggestions: [] };
  }
  return { itemId: null, method: null, score: null, suggestions: candidates };
}

// ---------------------------------------------------------------------------------------------
// Three-way match

/** Relative price difference tolerated between invoice and order (rounding, small surcharges). */
export const PRICE_TOLERANCE = 0.02;
/** Absolute quantity difference tolerated (weighed goods). */
export const QUANTITY_TOLERANCE = 0.001;

export interface OrderFigures {
  poLineId: string;
  poNumber: number;
  orderedQuantity: number;
  receivedQuantity: number;
  unitCost: number;
}

export interface Conflict {
  item: string;
  issue: string;
  suggestions: string[];
  lineNumber: number;
  kind: 'unmatched' | 'price_variance' | 'quantity_ordered' | 'quantity_received';
  invoiced?: number;
  expected?: number;
}

const money = (value: number) => value.toFixed(2);
const qty = (value: number) => String(Math.round(value * 1000) / 1000);

/**
 * The conflicts of one invoice line against its purchase-order line: invoiced quantity against
 * ordered and received, invoiced unit cost against the order's. Each names both figures.
 */
export function threeWayConflicts(
  line: { lineNumber: number; description: string; quantity: number | null; unitCost: number | null },
  order: OrderFigures,
): Conflict[] {
  const conflicts: Conflict[] = [];
  const base = { item: line.description, lineNumber: line.lineNumber, suggestions: [] as string[] };
  if (line.unitCost !== null && order.unitCost > 0) {
    const change = (line.unitCost - order.unitCost) / order.unitCost;
    if (Math.abs(change) > PRICE_TOLERANCE) {
      conflicts.push({
        ...base,
        kind: 'price_variance',
        invoiced: line.unitCost,
        expected: order.unitCost,
        issue: `Price variance: invoiced ${money(line.unitCost)} per unit, PO #${order.poNumber} says ${money(order.unitCost)} (${change > 0 ? '+' : ''}${(change * 100).toFixed(1)} %)`,
        suggestions: ['Ask the vendor for a credit note', 'Approve to take the new price as the unit cost'],
      });
    }
  }
  if (line.quantity !== null) {
    if (Math.abs(line.quantity - order.orderedQuantity) > QUANTITY_TOLERANCE) {
      conflicts.push({
        ...base,
        kind: 'quantity_ordered',
        invoiced: line.quantity,
        expected: order.orderedQuantity,
        issue: `Quantity variance: invoiced ${qty(line.quantity)}, ordered ${qty(order.orderedQuantity)} on PO #${order.poNumber}`,
      });
    }
    if (order.receivedQuantity > 0 && Math.abs(line.quantity - order.receivedQuantity) > QUANTITY_TOLERANCE) {
      conflicts.push({
        ...base,
        kind: 'quantity_received',
        invoiced: line.quantity,
        expected: order.receivedQuantity,
        issue: `Quantity variance: invoiced ${qty(line.quantity)}, received ${qty(order.receivedQuantity)} against PO #${order.poNumber}`,
        suggestions: ['Reconcile the difference and claim a credit from the vendor'],
      });
    }
  }
  return conflicts;
}
