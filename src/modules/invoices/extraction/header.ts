import { BUYER_LABELS, HEADER_LABELS, LEGAL_FORM, VENDOR_LABELS } from './labels.ts';
import { rowText } from './layout.ts';
import { LabelMatcher, tokens } from './match.ts';
import {
  addDays,
  currenciesIn,
  type DateOrder,
  type DecimalSeparator,
  normaliseTaxId,
  parseAmount,
  parseDate,
} from './normalise.ts';
import type {
  Field,
  FieldSource,
  HeaderFieldName,
  InvoiceHeader,
  LayoutCell,
  LayoutRow,
  VendorLayoutHints,
} from './types.ts';

export interface HeaderContext {
  rows: LayoutRow[];
  /** Rows of the line table: their labels are column headers, not header fields. */
  tableRows: Set<LayoutRow>;
  decimal: DecimalSeparator | undefined;
  dateOrder: DateOrder;
  /** True when an unambiguous date of the document fixed the order. */
  dateOrderSettled?: boolean;
  source: FieldSource;
  hints?: VendorLayoutHints;
}

type LabelledField =
  'invoiceNumber' | 'invoiceDate' | 'dueDate' | 'total' | 'subtotal' | 'tax' | 'vendorTaxId' | 'currency';
type Kind = 'id' | 'date' | 'amount' | 'taxId' | 'currency';

const KIND: Record<LabelledField, Kind> = {
  invoiceNumber: 'id',
  invoiceDate: 'date',
  dueDate: 'date',
  total: 'amount',
  subtotal: 'amount',
  tax: 'amount',
  vendorTaxId: 'taxId',
  currency: 'currency',
};

interface Candidate {
  field: LabelledField;
  value: string | number;
  score: number;
  order: number;
  fromHint: boolean;
  /** A date read with day and month both ≤ 12. */
  ambiguous?: boolean;
}

/** Confidence by where the value stood relative to its label. */
const PLACE = { remainder: 0.95, right: 0.95, below: 0.85 } as const;

/**
 * Header fields found by their labels: for each cell that starts with a known label (the
 * vendor's learned labels first), the value is the rest of the cell, the next cell to the right,
 * or the cell below it (labels printed as a table header over their values). Each kind of value is
 * checked (a date must parse, an amount must be one, an invoice number must hold a digit); among a
 * field's candidates the most specific label wins, then the first on the page.
 */
export function findHeader(context: HeaderContext): InvoiceHeader {
  const { rows, hints } = context;
  const matcher = new LabelMatcher<LabelledField>(HEADER_LABELS, hints?.labels);
  const candidates: Candidate[] = [];
  const buyerCells = buyerRegion(rows);
  let order = 0;
  rows.forEach((row, rowIndex) => {
    if (context.tableRows.has(row)) return;
    row.cells.forEach((cell, cellIndex) => {
      order++;
      for (const match of matcher.matchStart(cell.text)) {
        const field = match.key;
        if (field === 'vendorTaxId' && buyerCells.has(cell)) continue;
        const fromHint = match.weight > 1;
        const tryValue = (raw: string | undefined, place: keyof typeof PLACE) => {
          if (!raw) return false;
          const parsed = parseValue(KIND[field], raw, context, place === 'remainder');
          if (!parsed) return false;
          candidates.push({
            field,
            value: parsed.value,
            ambiguous: parsed.ambiguous,
            score: match.weight * PLACE[place],
            order,
            fromHint,
          });
          return true;
        };
        if (tryValue(match.remainder, 'remainder')) continue;
        const right = row.cells[cellIndex + 1];
        // The next cell belongs to this label unless it is a label itself.
        if (right && matcher.matchStart(right.text).length === 0 && tryValue(right.text, 'right')) continue;
        const below = cellBelow(rows, rowIndex, cell);
        if (below && matcher.matchStart(below.text).length === 0) tryValue(below.text, 'below');
      }
    });
  });

  // "Facture n° 562044387 du 02 Juillet 2015", "Rechnung 4711 vom 3.5.2026": the date after the number.
  if (!candidates.some((candidate) => candidate.field === 'invoiceDate')) {
    for (const row of rows) {
      if (context.tableRows.has(row)) continue;
      for (const cell of row.cells) {
        const match = matcher.matchStart(cell.text).find((m) => m.key === 'invoiceNumber');
        const after = match && /\b(?:du|vom|del|of|dated|van|from|d\.d\.)\s+(.*)$/i.exec(match.remainder);
        const date = after && parseDate(after[1]!, context.hints?.dateOrder ?? context.dateOrder);
        if (date && after[1]!.indexOf(date.raw) <= 3)
          candidates.push({ field: 'invoiceDate', value: date.value, score: 0.8, order: 0, fromHint: false });
      }
    }
  }

  const header: InvoiceHeader = {};
  const best = new Map<LabelledField, Candidate>();
  for (const candidate of candidates) {
    const current = best.get(candidate.field);
    if (!current || candidate.score > current.score + 1e-9) best.set(candidate.field, candidate);
  }
  const field = <T>(candidate: Candidate, value: T): Field<T> => ({
    value,
    confidence: round2(Math.min(1, candidate.score) * (context.source === 'ocr' ? 0.85 : 1)),
    source: candidate.fromHint ? 'hint' : context.source,
    ...(candidate.ambiguous
      ? {
          issues: [
            "Day and month could be swapped: the order came from the document's number format or the vendor's hints",
          ],
        }
      : {}),
  });
  for (const [name, candidate] of best) {
    if (candidate.ambiguous) candidate.score *= 0.8;
    (header as Record<string, Field<unknown>>)[name] = field(candidate, candidate.value);
  }

  const allText = rows.map((row) => rowText(row)).join('\n');
  if (!header.vendorTaxId) {
    const taxId = taxIdByPattern(rows, buyerCells);
    if (taxId) header.vendorTaxId = { value: taxId, confidence: 0.6, source: context.source };
  }
  if (!header.currency) {
    const [currency] = currenciesIn(allText);
    if (currency) {
      header.currency = {
        value: currency.code,
        // "$" is also the sign of the Canadian, Australian … dollars.
        confidence: currency.fromSymbol ? (currency.code === 'USD' ? 0.6 : 0.8) : 0.85,
        source: context.source,
      };
    }
  }
  const vendor = findVendorName(rows, buyerCells, allText);
  if (vendor) header.vendorName = { ...vendor, source: context.source };

  const terms = paymentTermsDays(allText);
  if (terms !== undefined)
    header.paymentTermsDays = { value: terms, confidence: 0.8, source: context.source };
  return header;
}

/** Fills what the hints know and the page did not say, and the due date from the terms. */
export function completeHeader(header: InvoiceHeader, hints: VendorLayoutHints | undefined): void {
  if (hints?.vendorName && (!header.vendorName || header.vendorName.confidence < 0.9)) {
    header.vendorName = { value: hints.vendorName, confidence: 0.95, source: 'hint' };
  }
  if (hints?.vendorTaxId && !header.vendorTaxId) {
    header.vendorTaxId = { value: normaliseTaxId(hints.vendorTaxId), confidence: 0.9, source: 'hint' };
  }
  if (hints?.currency && (!header.currency || header.currency.confidence < 0.8)) {
    header.currency = { value: hints.currency.toUpperCase(), confidence: 0.9, source: 'hint' };
  }
  if (!header.paymentTermsDays && hints?.paymentTermsDays !== undefined) {
    header.paymentTermsDays = { value: hints.paymentTermsDays, confidence: 0.8, source: 'hint' };
  }
  if (!header.dueDate && header.invoiceDate && header.paymentTermsDays) {
    header.dueDate = {
      value: addDays(header.invoiceDate.value, header.paymentTermsDays.value),
      confidence: round2(Math.min(header.invoiceDate.confidence, header.paymentTermsDays.confidence) * 0.9),
      source: header.paymentTermsDays.source,
      issues: [`Not printed: the invoice date plus ${header.paymentTermsDays.value} days of payment terms`],
    };
  }
}

function parseValue(
  kind: Kind,
  raw: string,
  context: HeaderContext,
  inLabelCell: boolean,
): { value: string | number; ambiguous?: boolean } | undefined {
  const text = raw.trim();
  switch (kind) {
    case 'date': {
      const date = parseDate(text, context.hints?.dateOrder ?? context.dateOrder);
      // Within the label's own cell, the date must come first ("Date: 3 May 2026 (delivery …)").
      if (!date || (inLabelCell && text.indexOf(date.raw) > 3)) return undefined;
      return {
        value: date.value,
        ambiguous: date.ambiguous && !context.hints?.dateOrder && !context.dateOrderSettled,
      };
    }
    case 'amount': {
      const whole = parseAmount(text, context.decimal);
      if (whole !== undefined && /[.,]\d{1,2}\b|[€$£]|[A-Z]{3}/.test(text)) return { value: whole };
      if (whole !== undefined && !inLabelCell) return { value: whole };
      if (!inLabelCell) return undefined;
      // "Tax 15% on $ 112.90 … $16.94": the last amount of the cell.
      const amounts = [...text.matchAll(/[-(]?(?:[€$£]\s?)?\d[\d.,' ]*\d(?:\s?[€$£])?\)?/g)]
        .map((match) => ({ raw: match[0], value: parseAmount(match[0], context.decimal) }))
        .filter((amount) => amount.value !== undefined && /[.,]\d{2}\b/.test(amount.raw));
      const last = amounts.at(-1);
      return last ? { value: last.value! } : undefined;
    }
    case 'id': {
      const cleaned = text
        .replace(/\s+(?:du|vom|del|dated|van|d\.d\.)\s+.*$/i, '')
        .replace(/^(?:no|nr|n°|nº|num|number|numéro|numero|nummer)\b[\s.:#]*/i, '')
        .replace(/^#\s*/, '');
      const words = cleaned.split(/\s+/).filter(Boolean);
      if (!words.length || words.length > 4) {
        const first = words.find((word) => /\d/.test(word));
        return first && first.length <= 40 && !parseDate(first)
          ? { value: first.replace(/[,;:]$/, '') }
          : undefined;
      }
      const value = words.every((word) => /\d/.test(word) || /^[A-Z]{1,3}$/.test(word))
        ? words.join(' ')
        : words.find((word) => /\d/.test(word));
      if (!value || value.length > 40 || !/\d/.test(value)) return undefined;
      if (parseDate(value)?.raw === value) return undefined;
      if (/^[-(]?[€$£]/.test(value) || /^\d+[.,]\d{2}$/.test(value)) return undefined;
      return { value: value.replace(/[,;:]$/, '') };
    }
    case 'taxId': {
      const candidate = /[A-Z]{0,3}[\s.-]?[0-9][0-9A-Z\s./-]{5,20}[0-9A-Z]/i.exec(text)?.[0];
      if (!candidate) return undefined;
      const value = normaliseTaxId(candidate);
      if ((value.match(/\d/g)?.length ?? 0) < 6 || value.length > 18) return undefined;
      return { value };
    }
    case 'currency': {
      const code = /\b[A-Z]{3}\b/.exec(text)?.[0];
      return code ? { value: code } : undefined;
    }
  }
}

/** The first cell of the next rows (on the same page, close below) that overlaps the cell horizontally. */
function cellBelow(rows: LayoutRow[], rowIndex: number, cell: LayoutCell): LayoutCell | undefined {
  const row = rows[rowIndex]!;
  for (let i = rowIndex + 1; i < rows.length && i <= rowIndex + 2; i++) {
    const next = rows[i]!;
    if (next.page !== row.page || next.y - row.y > row.height * 3.5) return undefined;
    const below = next.cells.find((candidate) => overlap(candidate, cell) > 0);
    if (below) return below;
  }
  return undefined;
}

export function overlap(a: { x0: number; x1: number }, b: { x0: number; x1: number }): number {
  return Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
}

/**
 * Cells of the buyer's address block: the rest of a cell that starts with a buyer label ("Bill to",
 * "Rechnungsadresse", "Client") and the cells below it in the same column, up to six rows.
 */
function buyerRegion(rows: LayoutRow[]): Set<LayoutCell> {
  const matcher = new LabelMatcher<'buyer'>({
    buyer: BUYER_LABELS.map((label): [string, number] => [label, 1]),
  });
  const region = new Set<LayoutCell>();
  rows.forEach((row, rowIndex) => {
    for (const cell of row.cells) {
      if (!matcher.matchStart(cell.text).length) continue;
      region.add(cell);
      const column = { x0: cell.x0 - 5, x1: Math.max(cell.x1, cell.x0 + 120) };
      for (let i = rowIndex + 1; i < rows.length && i <= rowIndex + 6; i++) {
        const next = rows[i]!;
        if (next.page !== row.page || next.y - row.y > row.height * 10) break;
        for (const below of next.cells)
          if (overlap(below, column) > 0 && below.x0 >= column.x0) region.add(below);
      }
    }
  });
  return region;
}

const VAT_ID = new RegExp(
  '\\b(' +
    [
      'ATU(?:\\s?\\d){8}',
      'BE\\s?0?(?:[.\\s]?\\d){9}',
      'DE(?:\\s?\\d){9}',
      'FR(?:\\s?[0-9A-Z]){2}(?:\\s?\\d){9}',
      'IT(?:\\s?\\d){11}',
      'NL(?:\\s?\\d){9}\\s?B\\s?\\d\\s?\\d',
      'ES\\s?[0-9A-Z](?:\\s?\\d){7}\\s?[0-9A-Z]',
      'GB(?:\\s?\\d){9}',
      'PL(?:\\s?\\d){10}',
      'LU(?:\\s?\\d){8}',
      'DK(?:\\s?\\d){8}',
      'SE(?:\\s?\\d){12}',
      'CHE[-\\s]?\\d{3}\\.\\d{3}\\.\\d{3}',
    ].join('|') +
    ')\\b',
);

/** An EU/UK/Swiss VAT number anywhere outside the buyer's block. */
function taxIdByPattern(rows: LayoutRow[], buyerCells: Set<LayoutCell>): string | undefined {
  for (const row of rows) {
    for (const cell of row.cells) {
      if (buyerCells.has(cell) || /\b(your|uw|votre|ihre|customer|client|kunde|cliente)\b/i.test(cell.text))
        continue;
      const match = VAT_ID.exec(cell.text);
      if (match) return normaliseTaxId(match[1]!);
    }
  }
  return undefined;
}

/**
 * The vendor's name: after a vendor label ("Seller", "Lieferant"), else the company name (one
 * ending in a legal form: GmbH, B.V., Inc., S.r.l. …) that is not in the buyer's block, scored by
 * how often it appears, whether its name is in a web or mail domain of the document, and whether
 * it stands at the top of the first page or in a footer. Else the largest text at the top of the
 * first page, with a low confidence.
 */
function findVendorName(
  rows: LayoutRow[],
  buyerCells: Set<LayoutCell>,
  allText: string,
): { value: string; confidence: number } | undefined {
  const vendorLabels = new LabelMatcher<'vendor'>({
    vendor: VENDOR_LABELS.map((label): [string, number] => [label, 1]),
  });
  for (const [index, row] of rows.entries()) {
    for (const [cellIndex, cell] of row.cells.entries()) {
      const [match] = vendorLabels.matchStart(cell.text);
      if (!match) continue;
      const usable = (text: string | undefined) =>
        !!text && /\p{L}{2}/u.test(text) && !/\d{4,}/.test(text) && !/^\(/.test(text);
      const candidates = [match.remainder, row.cells[cellIndex + 1]?.text];
      for (let i = index + 1; i < rows.length && i <= index + 4 && rows[i]!.page === row.page; i++)
        candidates.push(rows[i]!.cells.find((below) => overlap(below, cell) > 0)?.text);
      const value = candidates.find(usable);
      if (value) return { value: value.trim(), confidence: 0.85 };
    }
  }
  const domains = [...allText.matchAll(/(?:www\.|@|https?:\/\/)([\w-]+(?:\.[\w-]+)*)/gi)]
    .map((match) => match[1]!.toLowerCase().replace(/^www\./, ''))
    .map((domain) => domain.replace(/[^a-z0-9]/g, ''));
  const pageHeights = new Map<number, number>();
  for (const row of rows)
    pageHeights.set(row.page, Math.max(pageHeights.get(row.page) ?? 0, row.y + row.height));

  const scores = new Map<string, { name: string; score: number; order: number }>();
  let order = 0;
  for (const row of rows) {
    const height = pageHeights.get(row.page) ?? 1;
    for (const cell of row.cells) {
      order++;
      if (buyerCells.has(cell)) continue;
      for (const part of cell.text.split(/\s+[-–—−|·•]\s+|\s{2,}|;/)) {
        const name = part.replace(/^(?:©|\(c\))\s*(?:\d{4}\s*)?/i, '').trim();
        if (name.length < 3 || name.length > 80 || !LEGAL_FORM.test(name) || /\d{3,}/.test(name)) continue;
        const key = companyKey(name);
        if (!key) continue;
        const entry = scores.get(key) ?? { name, score: 0, order };
        entry.score += entry.score < 3 ? 1 : 0;
        if (row.page === 1 && row.y < height * 0.25) entry.score += 0.5;
        if (row.y > height * 0.8) entry.score += 0.5;
        scores.set(key, entry);
      }
    }
  }
  for (const [key, entry] of scores) {
    const words = tokens(entry.name)
      .map((token) => token.text)
      .filter((word) => word.length >= 4 && !LEGAL_FORM.test(word));
    if (
      words.some((word) => domains.some((domain) => domain.includes(word))) ||
      domains.some((d) => d.includes(key))
    )
      entry.score += 2;
  }
  const best = [...scores.values()].sort((a, b) => b.score - a.score || a.order - b.order)[0];
  if (best) return { value: best.name, confidence: best.score >= 3 ? 0.8 : 0.6 };

  // The largest text at the top of the first page that is not a label: often the vendor's logo.
  const labels = new LabelMatcher<string>(HEADER_LABELS);
  const top = rows
    .filter((row) => row.page === 1 && row.y < (pageHeights.get(1) ?? 1) * 0.3)
    .flatMap((row) => row.cells.map((cell) => ({ cell, height: row.height })))
    .filter(
      ({ cell }) =>
        !buyerCells.has(cell) && /\p{L}{3}/u.test(cell.text) && !labels.matchStart(cell.text).length,
    )
    .filter(({ cell }) => !/\d{3,}|@|www\.|#|_/.test(cell.text))
    .sort((a, b) => b.height - a.height);
  const biggest = top[0];
  if (biggest && biggest.height > (top[Math.floor(top.length / 2)]?.height ?? 0) * 1.2)
    return { value: biggest.cell.text, confidence: 0.35 };
  return undefined;
}

/** A company name without its legal form and punctuation, lower case: to compare names. */
export function companyKey(name: string): string {
  let rest = name.trim();
  for (let i = 0; i < 3; i++) rest = rest.replace(LEGAL_FORM, '').replace(/[\s,]+$/, '');
  return rest.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** Days of the payment terms: "payable within 30 days", "Net 30", "Zahlbar innerhalb 14 Tagen", "à 30 jours". */
export function paymentTermsDays(text: string): number | undefined {
  const patterns = [
    /\bnet\s*(\d{1,3})\b(?!\s*[.,]\d)/i,
    /\b(?:payment terms?|terms|zahlungsziel|zahlungsbedingungen|conditions de paiement|termini di pagamento|betalingstermijn|betalingsvoorwaarden)\s*:?\s*(\d{1,3})\s*(?:days?|tage|tagen|jours|giorni|gg|dagen)\b/i,
    /\b(?:within|innerhalb(?: von)?|binnen|entro|sous|dans les|à)\s*(\d{1,3})\s*(?:days?|tagen|tage|jours|giorni|gg|dagen)\b/i,
    /\b(\d{1,3})\s*(?:days?|tage|tagen|jours|giorni|gg|dagen)\s*(?:net|netto|from|after|ab|nach|date)/i,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match) {
      const days = Number(match[1]);
      if (days > 0 && days <= 180) return days;
    }
  }
  return undefined;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export type { HeaderFieldName };
