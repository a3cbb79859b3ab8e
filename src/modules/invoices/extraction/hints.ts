import { tokens } from './match.ts';
import { normaliseTaxId, parseAmount, parseDate } from './normalise.ts';
import type { ExtractionResult, HeaderFieldName, LayoutRow, VendorLayoutHints } from './types.ts';

/** What a person corrected on one extracted invoice. */
export interface Corrections {
  /** Header fields as they should have been read (dates ISO, amounts numbers). */
  header?: Partial<Record<HeaderFieldName, string | number>>;
  /** Lines a person fixed or mapped to an item: index in `extraction.lines`. */
  lines?: { index: number; vendorSku?: string; itemId?: string }[];
}

const LEARNABLE_LABEL_FIELDS: HeaderFieldName[] = [
  'invoiceNumber',
  'invoiceDate',
  'dueDate',
  'total',
  'subtotal',
  'tax',
  'vendorTaxId',
];

/**
 * The vendor's hints after a person corrected an extraction: for each corrected header field, the
 * label printed before (or above) the corrected value on the page is kept, so the next invoice
 * finds it first; the date order and decimal separator that reproduce the corrected values; the
 * vendor's name, tax id and currency as confirmed; the line table's column order when its lines
 * passed their checks; and the SKU → item mappings of corrected lines. Never forgets what it had.
 */
export function learnHints(
  previous: VendorLayoutHints | undefined,
  extraction: ExtractionResult,
  corrections: Corrections,
): VendorLayoutHints {
  const hints: VendorLayoutHints = structuredClone(previous ?? {});
  const header = corrections.header ?? {};
  const rows = extraction.layout ?? [];
  for (const field of LEARNABLE_LABEL_FIELDS) {
    const value = header[field];
    if (value === undefined) continue;
    const label = labelBefore(rows, field, value, hints);
    if (label) {
      const labels = (hints.labels ??= {});
      const list = (labels[field] ??= []);
      if (!list.includes(label)) list.unshift(label);
    }
  }
  if (typeof header.vendorName === 'string') hints.vendorName = header.vendorName;
  if (header.vendorTaxId !== undefined) hints.vendorTaxId = normaliseTaxId(String(header.vendorTaxId));
  if (typeof header.currency === 'string') hints.currency = header.currency.toUpperCase();
  if (typeof header.paymentTermsDays === 'number') hints.paymentTermsDays = header.paymentTermsDays;
  else if (
    typeof header.dueDate === 'string' &&
    typeof (header.invoiceDate ?? extraction.header.invoiceDate?.value) === 'string'
  ) {
    const from = Date.parse(String(header.invoiceDate ?? extraction.header.invoiceDate!.value));
    const days = Math.round((Date.parse(header.dueDate) - from) / 86_400_000);
    // A due date a round number of days after the invoice date is the vendor's terms.
    if ([7, 10, 14, 15, 20, 21, 28, 30, 45, 60, 90].includes(days) && !rowsMention(rows, header.dueDate))
      hints.paymentTermsDays = days;
  }

  const columns = extraction.lineColumns;
  const linesChecked = extraction.checks.filter((check) => check.name === 'line_arithmetic');
  if (
    columns?.length &&
    linesChecked.length &&
    linesChecked.every((check) => check.passed) &&
    !corrections.lines?.length
  )
    hints.lineColumns = columns;

  for (const line of corrections.lines ?? []) {
    const sku = line.vendorSku ?? extraction.lines[line.index]?.vendorSku?.value;
    if (sku && line.itemId) (hints.skuItems ??= {})[sku] = line.itemId;
  }
  return hints;
}

/** Whether a date (ISO) is printed on the page in some form. */
function rowsMention(rows: LayoutRow[], isoDate: string): boolean {
  return rows.some((row) => row.cells.some((cell) => parseDate(cell.text)?.value === isoDate));
}

/**
 * The label of the cell holding the corrected value: its own text before the value, the cell to
 * its left, or the cell above. The date order / decimal separator that make the cell read as the
 * value are recorded on the way.
 */
function labelBefore(
  rows: LayoutRow[],
  field: HeaderFieldName,
  value: string | number,
  hints: VendorLayoutHints,
): string | undefined {
  for (const [rowIndex, row] of rows.entries()) {
    for (const [cellIndex, cell] of row.cells.entries()) {
      const at = findValue(cell.text, field, value, hints);
      if (at === undefined) continue;
      const own = cleanLabel(cell.text.slice(0, at));
      if (own) return own;
      const left = row.cells[cellIndex - 1];
      if (left && findValue(left.text, field, value, hints) === undefined) {
        const label = cleanLabel(left.text);
        if (label) return label;
      }
      const above = rows[rowIndex - 1];
      const over =
        above?.page === row.page
          ? above.cells.find((c) => Math.min(c.x1, cell.x1) - Math.max(c.x0, cell.x0) > 0)
          : undefined;
      if (over) {
        const label = cleanLabel(over.text);
        if (label) return label;
      }
    }
  }
  return undefined;
}

/** Where in the text the value is printed, or undefined. */
function findValue(
  text: string,
  field: HeaderFieldName,
  value: string | number,
  hints: VendorLayoutHints,
): number | undefined {
  if (typeof value === 'number') {
    for (const match of text.matchAll(/[-(]?(?:[€$£]\s?)?\d[\d.,' ]*\d|\d/g)) {
      for (const decimal of [',', '.'] as const) {
        if (parseAmount(match[0].trim(), decimal) === value) {
          if (/[.,]\d{3}$/.test(match[0]) && !/[.,].*[.,]/.test(match[0])) hints.decimalSeparator ??= decimal;
          return match.index;
        }
      }
    }
    return undefined;
  }
  if (field === 'invoiceDate' || field === 'dueDate') {
    for (const order of ['DMY', 'MDY', 'YMD'] as const) {
      const date = parseDate(text, order);
      if (date?.value === value) {
        if (date.ambiguous) hints.dateOrder = order;
        return text.indexOf(date.raw);
      }
    }
    return undefined;
  }
  if (field === 'vendorTaxId') {
    const compact = normaliseTaxId(text);
    const index = compact.indexOf(normaliseTaxId(value));
    return index === -1 ? undefined : Math.min(index, text.search(/[A-Z0-9]{2}/i));
  }
  const index = text.indexOf(value);
  return index === -1 ? undefined : index;
}

/** A label's words (at most six, letters first), or undefined when the text is not a label. */
function cleanLabel(text: string): string | undefined {
  const words = tokens(text).map((token) => token.text);
  if (!words.length || words.length > 6 || !/\p{L}/u.test(words[0]!)) return undefined;
  return words.join(' ');
}
