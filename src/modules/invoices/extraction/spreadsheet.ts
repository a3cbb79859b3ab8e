import { HEADER_LABELS, LINE_COLUMN_LABELS } from './labels.ts';
import { LabelMatcher } from './match.ts';
import { type DecimalSeparator, guessDecimalSeparator, parseAmount, parseDate, round } from './normalise.ts';
import {
  type ExtractedInvoice,
  ExtractionFailure,
  type Field,
  type InvoiceHeader,
  type InvoiceLine,
  type VendorLayoutHints,
} from './types.ts';

type Role =
  | 'invoiceNumber'
  | 'invoiceDate'
  | 'dueDate'
  | 'currency'
  | 'vendorName'
  | 'description'
  | 'quantity'
  | 'unit'
  | 'unitCost'
  | 'lineTotal'
  | 'sku'
  | 'gtin'
  | 'taxRate';

const matcher = new LabelMatcher<Role>({
  invoiceNumber: [...HEADER_LABELS.invoiceNumber, ['invoice', 1], ['invoice no', 1], ['document', 0.6]],
  invoiceDate: [...HEADER_LABELS.invoiceDate, ['invoice date', 1]],
  dueDate: HEADER_LABELS.dueDate,
  currency: HEADER_LABELS.currency,
  vendorName: [
    ['vendor', 1],
    ['supplier', 1],
    ['vendor name', 1],
    ['lieferant', 1],
    ['fournisseur', 1],
    ['fornitore', 1],
  ],
  description: LINE_COLUMN_LABELS.description,
  quantity: LINE_COLUMN_LABELS.quantity,
  unit: LINE_COLUMN_LABELS.unit,
  unitCost: LINE_COLUMN_LABELS.unitCost,
  lineTotal: LINE_COLUMN_LABELS.lineTotal,
  sku: LINE_COLUMN_LABELS.sku,
  gtin: LINE_COLUMN_LABELS.gtin,
  taxRate: LINE_COLUMN_LABELS.taxRate,
});

type Cell = string | number | Date | undefined;

/** CSV text as rows of strings; the delimiter is the one that splits the first lines most evenly. */
export async function readCsv(text: string): Promise<Cell[][]> {
  const { parse } = await import('csv-parse/sync');
  const sample = text.split(/\r?\n/).slice(0, 20);
  let delimiter = ',';
  let bestScore = -1;
  for (const candidate of [',', ';', '\t', '|']) {
    const counts = sample.filter((line) => line.trim()).map((line) => line.split(candidate).length);
    const first = counts[0] ?? 1;
    const score = first > 1 ? counts.filter((count) => count === first).length * first : 0;
    if (score > bestScore) {
      bestScore = score;
      delimiter = candidate;
    }
  }
  try {
    const rows: string[][] = parse(text, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      bom: true,
    });
    return rows;
  } catch (error) {
    throw new ExtractionFailure(
      'corrupt_file',
      'The CSV file cannot be read (its quoting is broken): export it again from the portal.',
      { reason: error instanceof Error ? error.message : String(error) },
      { cause: error },
    );
  }
}

/** Every sheet of an XLSX workbook as rows of cell values (formulas as their results). */
export async function readXlsx(bytes: Uint8Array): Promise<Cell[][][]> {
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  } catch (error) {
    throw new ExtractionFailure(
      'corrupt_file',
      'The XLSX workbook cannot be opened (it is damaged or password-protected): save it again and upload the new file.',
      { reason: error instanceof Error ? error.message : String(error) },
      { cause: error },
    );
  }
  return workbook.worksheets.map((sheet) => {
    const rows: Cell[][] = [];
    sheet.eachRow({ includeEmpty: false }, (row) => {
      const values: Cell[] = [];
      row.eachCell({ includeEmpty: true }, (cell, column) => {
        const value = cell.value;
        let plain: Cell;
        if (value === null || value === undefined) plain = undefined;
        else if (value instanceof Date || typeof value === 'number' || typeof value === 'string')
          plain = value;
        else if (typeof value === 'object' && 'result' in value) plain = value.result as Cell;
        else if (typeof value === 'object' && 'richText' in value)
          plain = value.richText.map((part) => part.text).join('');
        else if (typeof value === 'object' && 'text' in value) plain = String(value.text);
        else plain = JSON.stringify(value);
        values[column - 1] = plain;
      });
      rows.push(values);
    });
    return rows;
  });
}

/**
 * Invoices from a table: the header row is the first of the first 20 whose cells are column
 * labels (at least two, one naming a quantity, price or amount); a column of invoice numbers
 * splits the rows into invoices (a portal's export of many), otherwise the table is one invoice.
 * Totals are the sums of the lines (line total, else quantity × unit price).
 */
export function invoicesFromTable(sheets: Cell[][][], hints?: VendorLayoutHints): ExtractedInvoice[] {
  const invoices: ExtractedInvoice[] = [];
  let sawHeader = false;
  for (const rows of sheets) {
    const found = findHeaderRow(rows);
    if (!found) continue;
    sawHeader = true;
    const { index, roles } = found;
    const sample = rows
      .slice(index + 1, index + 200)
      .flatMap((row) =>
        roles.map((role, column) =>
          role && ['unitCost', 'lineTotal'].includes(role) ? row[column] : undefined,
        ),
      )
      .filter((value): value is string => typeof value === 'string')
      .join(' ');
    const decimal = hints?.decimalSeparator ?? guessDecimalSeparator(sample);
    const groups = new Map<string, Cell[][]>();
    const numberColumn = roles.indexOf('invoiceNumber');
    for (const row of rows.slice(index + 1)) {
      if (!row.some((value) => value !== undefined && String(value).trim())) continue;
      const key = numberColumn === -1 ? '' : String(row[numberColumn] ?? '').trim();
      if (numberColumn !== -1 && !key) continue;
      const group = groups.get(key) ?? [];
      group.push(row);
      groups.set(key, group);
    }
    for (const [number, group] of groups) invoices.push(toInvoice(number, group, roles, decimal, hints));
  }
  if (!sawHeader) {
    throw new ExtractionFailure(
      'no_header_row',
      'No header row found in the spreadsheet: its first rows must name the columns (for example Description, Quantity, Unit price, Amount). Add a header row and upload it again.',
    );
  }
  return invoices;
}

function findHeaderRow(rows: Cell[][]): { index: number; roles: (Role | undefined)[] } | undefined {
  for (let index = 0; index < Math.min(rows.length, 20); index++) {
    const row = rows[index]!;
    const roles = row.map((value) => {
      if (typeof value !== 'string' || !value.trim() || /^\s*[-\d.,]+\s*$/.test(value)) return undefined;
      const [match] = matcher.matchStart(value.replace(/([a-z])([A-Z])/g, '$1 $2'));
      return match?.key;
    });
    const known = roles.filter(Boolean);
    if (
      known.length >= 2 &&
      known.some((role) => role === 'quantity' || role === 'unitCost' || role === 'lineTotal')
    ) {
      // A role named twice keeps its first column.
      const seen = new Set<Role>();
      return {
        index,
        roles: roles.map((role) => {
          if (!role || seen.has(role)) return undefined;
          seen.add(role);
          return role;
        }),
      };
    }
  }
  return undefined;
}

function toInvoice(
  number: string,
  rows: Cell[][],
  roles: (Role | undefined)[],
  decimal: DecimalSeparator | undefined,
  hints?: VendorLayoutHints,
): ExtractedInvoice {
  const column = (role: Role) => roles.indexOf(role);
  const get = (row: Cell[], role: Role): Cell => (column(role) === -1 ? undefined : row[column(role)]);
  const num = (value: Cell): number | undefined =>
    typeof value === 'number' ? value : typeof value === 'string' ? parseAmount(value, decimal) : undefined;
  const str = (value: Cell): string | undefined => {
    if (value === undefined) return undefined;
    const text = value instanceof Date ? value.toISOString() : String(value);
    return text.trim() || undefined;
  };
  const date = (value: Cell): string | undefined => {
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    if (typeof value === 'number' && value > 20000 && value < 80000) {
      // An Excel serial day number.
      return new Date(Date.UTC(1899, 11, 30) + value * 86_400_000).toISOString().slice(0, 10);
    }
    return typeof value === 'string'
      ? parseDate(value, hints?.dateOrder ?? (decimal === '.' ? 'MDY' : 'DMY'))?.value
      : undefined;
  };
  const exact = <T>(value: T | undefined, confidence = 0.98): Field<T> | undefined =>
    value === undefined ? undefined : { value, confidence, source: 'structured' };
  const warnings: string[] = [];
  const lines: InvoiceLine[] = rows.map((row) => {
    const line: InvoiceLine = {};
    const quantity = num(get(row, 'quantity'));
    const unitCost = num(get(row, 'unitCost'));
    let lineTotal = num(get(row, 'lineTotal'));
    let totalIssue: string[] | undefined;
    if (lineTotal === undefined && quantity !== undefined && unitCost !== undefined) {
      lineTotal = round(quantity * unitCost);
      totalIssue = ['Not in the file: quantity × unit cost'];
    }
    const fields: InvoiceLine = {
      description: exact(str(get(row, 'description'))),
      quantity: exact(quantity),
      unit: exact(str(get(row, 'unit'))),
      unitCost: exact(unitCost),
      lineTotal:
        lineTotal === undefined
          ? undefined
          : {
              value: lineTotal,
              confidence: 0.98,
              source: 'structured',
              ...(totalIssue ? { issues: totalIssue } : {}),
            },
      vendorSku: exact(str(get(row, 'sku'))),
      gtin: exact(str(get(row, 'gtin'))?.replace(/\s/g, '')),
      taxRate: exact(num(get(row, 'taxRate'))),
    };
    for (const [key, value] of Object.entries(fields))
      if (value !== undefined) (line as Record<string, unknown>)[key] = value;
    if (hints?.skuItems && line.vendorSku && hints.skuItems[line.vendorSku.value])
      line.itemId = { value: hints.skuItems[line.vendorSku.value]!, confidence: 0.9, source: 'hint' };
    return line;
  });
  const first = rows[0]!;
  const header: InvoiceHeader = {};
  const set = <K extends keyof InvoiceHeader>(key: K, value: InvoiceHeader[K] | undefined) => {
    if (value !== undefined) header[key] = value;
  };
  set('invoiceNumber', exact(number || undefined));
  set('invoiceDate', exact(date(get(first, 'invoiceDate'))));
  set('dueDate', exact(date(get(first, 'dueDate'))));
  set('currency', exact(str(get(first, 'currency'))?.toUpperCase()));
  set('vendorName', exact(str(get(first, 'vendorName'))));
  const totals = lines.map((line) => line.lineTotal?.value);
  if (totals.length && totals.every((value) => value !== undefined)) {
    header.total = {
      value: round(totals.reduce((a, b) => a + b, 0)),
      confidence: 0.9,
      source: 'structured',
      issues: ['The sum of the lines: the file has no total, so tax is not known'],
    };
  } else warnings.push('Some lines have no amount: no total computed');
  return { header, lines, checks: [], warnings };
}
