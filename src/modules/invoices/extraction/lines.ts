import { overlap } from './header.ts';
import { HEADER_LABELS, LINE_COLUMN_LABELS } from './labels.ts';
import { cellWords } from './layout.ts';
import { LabelMatcher } from './match.ts';
import { amountsAgree, type DecimalSeparator, parseAmount } from './normalise.ts';
import type {
  Field,
  FieldSource,
  InvoiceLine,
  LayoutCell,
  LayoutRow,
  LineColumnRole,
  VendorLayoutHints,
} from './types.ts';

interface Column {
  role: LineColumnRole;
  x0: number;
  x1: number;
}

export interface TableResult {
  lines: InvoiceLine[];
  /** Header, line and continuation rows: not searched for header fields. */
  rows: Set<LayoutRow>;
  columns: LineColumnRole[];
}

const NUMERIC: LineColumnRole[] = ['quantity', 'unitCost', 'lineTotal', 'taxRate', 'discount'];
const columnMatcher = new LabelMatcher<Exclude<LineColumnRole, 'other'>>(LINE_COLUMN_LABELS);
const summaryMatcher = new LabelMatcher<string>({
  total: HEADER_LABELS.total,
  subtotal: HEADER_LABELS.subtotal,
  tax: HEADER_LABELS.tax,
});

/**
 * The line items: on each page, the table's header row is found by its column labels (at least
 * three, one of them a quantity or an amount); each column's role comes from its label, and
 * values are assigned to the column they overlap most. Rows below with an amount are lines; text
 * only rows right below a line continue its description. Subtotal and tax rows are skipped; a
 * grand total or a wide gap ends the table. Without a header row, rows holding a description and
 * numbers where quantity × price = amount are taken as lines.
 */
export function findLines(
  rows: LayoutRow[],
  decimal: DecimalSeparator | undefined,
  source: FieldSource,
  hints?: VendorLayoutHints,
): TableResult {
  const result: TableResult = { lines: [], rows: new Set(), columns: [] };
  const pages = [...new Set(rows.map((row) => row.page))];
  for (const page of pages) {
    const pageRows = rows.filter((row) => row.page === page);
    const headerIndex = pageRows.findIndex((row) => headerColumns(row) !== undefined);
    if (headerIndex === -1) continue;
    let columns = headerColumns(pageRows[headerIndex]!)!;
    if (hints?.lineColumns?.length === columns.length) {
      columns = columns.map((column, i) => ({ ...column, role: hints.lineColumns![i]! }));
    }
    result.rows.add(pageRows[headerIndex]!);
    const lines = readTable(pageRows.slice(headerIndex + 1), columns, decimal, source, result.rows);
    // Rows between the header and the last line (sub-headers, section titles) are the table's too.
    const lastLine = pageRows.findLastIndex((row) => result.rows.has(row));
    for (let i = headerIndex; i <= lastLine; i++) result.rows.add(pageRows[i]!);
    result.lines.push(...lines);
    if (!result.columns.length) result.columns = columns.map((column) => column.role);
  }
  if (!result.lines.length) {
    result.lines = arithmeticLines(rows, decimal, source, result.rows);
  }
  if (hints?.skuItems) {
    for (const line of result.lines) {
      const item = line.vendorSku && hints.skuItems[line.vendorSku.value];
      if (item) line.itemId = { value: item, confidence: 0.9, source: 'hint' };
    }
  }
  return result;
}

/** The columns of a table header row, or undefined when the row is not one. */
function headerColumns(row: LayoutRow): Column[] | undefined {
  const columns: Column[] = [];
  for (const cell of row.cells) {
    const perChar = (cell.x1 - cell.x0) / Math.max(1, cell.text.length);
    const matches = columnMatcher.matchAll(cell.text);
    // "Price incl. VAT", "Preis inkl. MwSt.": a qualifier joins the next label into this one.
    for (let i = matches.length - 2; i >= 0; i--) {
      const between = cell.text.slice(matches[i]!.to, matches[i + 1]!.from);
      if (
        /\b(incl|inkl|including|excl|exkl|excluding|ohne|mit|with|without|ex|hors|avec|sans|ivato|escl|iva incl)\b/i.test(
          between,
        )
      ) {
        matches[i]!.to = matches[i + 1]!.to;
        matches.splice(i + 1, 1);
      }
    }
    // A cell that is mostly not labels ("Invoice INV/2023/03/0008") is not a column header.
    const covered = matches.reduce((sum, match) => sum + match.to - match.from, 0);
    if (covered < cell.text.replace(/[^\p{L}\p{N}]/gu, '').length * 0.5) continue;
    for (const match of matches) {
      columns.push({ role: match.key, x0: cell.x0 + match.from * perChar, x1: cell.x0 + match.to * perChar });
    }
  }
  if (
    columns.length < 3 ||
    !columns.some((column) => ['quantity', 'unitCost', 'lineTotal'].includes(column.role))
  )
    return undefined;
  if (!columns.some((column) => column.role === 'description' || column.role === 'sku')) return undefined;
  // Two columns with the same price label ("Price" and "Price incl. VAT"): the one on the right is the amount.
  const prices = columns.filter((column) => column.role === 'unitCost');
  if (prices.length > 1 && !columns.some((column) => column.role === 'lineTotal'))
    prices.at(-1)!.role = 'lineTotal';
  const totals = columns.filter((column) => column.role === 'lineTotal');
  if (totals.length > 1 && !columns.some((column) => column.role === 'unitCost'))
    totals[0]!.role = 'unitCost';
  return columns;
}

function readTable(
  rows: LayoutRow[],
  columns: Column[],
  decimal: DecimalSeparator | undefined,
  source: FieldSource,
  tableRows: Set<LayoutRow>,
): InvoiceLine[] {
  const lines: InvoiceLine[] = [];
  const raws: Map<LineColumnRole, string>[] = [];
  const descriptionColumns = columns.filter((column) => column.role === 'description');
  const textStart =
    Math.min(...columns.filter((c) => !NUMERIC.includes(c.role)).map((column) => column.x0)) - 8;
  const hasPrices = columns.some((column) => column.role === 'unitCost' || column.role === 'lineTotal');
  let previous: { row: LayoutRow; line: number } | undefined;
  let lastRow: LayoutRow | undefined;
  const lineSpacing: number[] = [];
  for (const row of rows) {
    const gap = lastRow ? row.y - lastRow.y : 0;
    const typical = lineSpacing.length ? median(lineSpacing) : row.height * 2;
    if (lines.length && gap > Math.max(typical * 3.5, row.height * 6)) break;
    const firstCell = row.cells[0]!;
    const summary = summaryMatcher.matchStart(row.cells.map((cell) => cell.text).join(' '));
    const summaryAnywhere = row.cells.some((cell) => summaryMatcher.matchStart(cell.text).length);
    if (summary.length || summaryAnywhere) {
      if (lines.length && summary.some((match) => match.key === 'total' && match.weight >= 0.9)) break;
      previous = undefined;
      lastRow = row;
      continue;
    }
    const values = assign(row.cells, columns);
    const money = (role: LineColumnRole) => {
      const raw = values.get(role);
      return raw === undefined ? undefined : leadingAmount(raw, decimal);
    };
    const isLine =
      (money('lineTotal') !== undefined ||
        money('unitCost') !== undefined ||
        (!hasPrices && money('quantity') !== undefined)) &&
      [...values.keys()].some((role) => !NUMERIC.includes(role));
    if (isLine) {
      if (lastRow && lines.length) lineSpacing.push(row.y - lastRow.y);
      raws.push(values);
      lines.push(toLine(values, decimal, source));
      tableRows.add(row);
      previous = { row, line: lines.length - 1 };
    } else if (
      previous &&
      row.y - previous.row.y <= row.height * 2.6 &&
      firstCell.x0 >= textStart &&
      row.cells.every(
        (cell) =>
          descriptionColumns.some((column) => overlap(cell, column) > -20) ||
          cell.x1 < (descriptionColumns[0]?.x1 ?? 0) + 40,
      ) &&
      !row.cells.some(
        (cell) => parseAmount(cell.text, decimal) !== undefined && /[.,]\d{2}\b/.test(cell.text),
      )
    ) {
      const line = lines[previous.line]!;
      const text = row.cells.map((cell) => cell.text).join(' ');
      if (line.description) line.description.value += '\n' + text;
      else line.description = { value: text, confidence: 0.7, source };
      tableRows.add(row);
      previous = { row, line: previous.line };
    } else {
      previous = undefined;
    }
    lastRow = row;
  }
  // A "description" column whose values are all codes is the SKU column ("Artikel" | "Omschrijving").
  if (descriptionColumns.length > 1) {
    const codeLike = (text: string | undefined) =>
      !!text && /^[A-Z0-9][\w\-./]*$/i.test(text) && /\d/.test(text);
    lines.forEach((line, index) => {
      const raw = raws[index]!;
      const parts = (raw.get('description') ?? '').split('\ue000');
      if (parts.length > 1 && codeLike(parts[0])) {
        line.vendorSku ??= { value: parts[0]!, confidence: 0.8, source };
        line.description = {
          value:
            parts.slice(1).join(' ') +
            (line.description?.value.includes('\n')
              ? line.description.value.slice(line.description.value.indexOf('\n'))
              : ''),
          confidence: 0.85,
          source,
        };
      }
    });
  }
  for (const line of lines) {
    if (line.description) line.description.value = line.description.value.replace(/\ue000/g, ' ').trim();
  }
  return lines;
}

/** The text of each column in the row; a cell spanning several columns is split into its words. */
function assign(cells: LayoutCell[], columns: Column[]): Map<LineColumnRole, string> {
  const values = new Map<LineColumnRole, string>();
  const put = (cell: LayoutCell) => {
    let best: Column | undefined;
    let bestOverlap = -Infinity;
    for (const column of columns) {
      const amount = overlap(cell, column);
      // No overlap: the nearer column, as a negative overlap (distance).
      if (amount > bestOverlap) {
        bestOverlap = amount;
        best = column;
      }
    }
    if (!best) return;
    const current = values.get(best.role);
    // Two description columns are kept apart by a private-use character, to tell a code column from the text later.
    values.set(
      best.role,
      current === undefined
        ? cell.text
        : current + (best.role === 'description' ? '\ue000' : ' ') + cell.text,
    );
  };
  for (const cell of cells) {
    const spanned = columns.filter((column) => overlap(cell, column) > 2);
    const numericSpan = spanned.filter((column) => NUMERIC.includes(column.role));
    if (spanned.length > 1 && numericSpan.length > 1 && /\s/.test(cell.text)) {
      for (const word of cellWords(cell)) put(word);
    } else put(cell);
  }
  return values;
}

function leadingAmount(raw: string, decimal: DecimalSeparator | undefined): number | undefined {
  // An id or a phone number is not an amount; a sentence is not a cell of amounts.
  if (raw.length > 24 || /^\d{8,}$/.test(raw.trim())) return undefined;
  const whole = parseAmount(raw, decimal);
  if (whole !== undefined) return whole;
  const first = /^[-(]?\s*(?:[€$£]\s?)?\d[\d.,' ]*/.exec(raw.trim())?.[0];
  return first ? parseAmount(first.trim(), decimal) : undefined;
}

function toLine(
  values: Map<LineColumnRole, string>,
  decimal: DecimalSeparator | undefined,
  source: FieldSource,
): InvoiceLine {
  const line: InvoiceLine = {};
  const confidence = source === 'ocr' ? 0.75 : 0.9;
  const field = <T>(value: T, c = confidence): Field<T> => ({ value, confidence: c, source });
  const description = values.get('description');
  if (description !== undefined) {
    let text = description;
    // "[SKU] Name" and "*barcode* Name": a code printed before the name.
    const bracketed = /^\[([^\]]{1,40})\]\s*(.*)$/s.exec(text.replace(/\ue000/g, ' '));
    const starred = /^\*(\d{6,14})\*\s*(.*)$/s.exec(text.replace(/\ue000/g, ' '));
    if (bracketed) {
      line.vendorSku = field(bracketed[1]!.trim());
      text = bracketed[2]!;
    } else if (starred) {
      line.gtin = field(starred[1]!);
      text = starred[2]!;
    }
    if (text.trim()) line.description = field(text.includes('\ue000') ? text : text.trim());
  }
  const quantity = values.get('quantity');
  if (quantity !== undefined) {
    const match = /^\s*([-\d.,' ]*\d)\s*(\p{L}[\p{L}.²³]*)?\s*$/u.exec(quantity);
    const amount = match ? parseAmount(match[1]!.trim(), decimal) : undefined;
    if (amount !== undefined) line.quantity = field(amount);
    if (match?.[2] && !values.has('unit')) line.unit = field(match[2]);
  }
  const unit = values.get('unit');
  if (unit !== undefined && /\p{L}/u.test(unit)) line.unit = field(unit.trim());
  const unitCost = values.get('unitCost');
  if (unitCost !== undefined) {
    const value = leadingAmount(unitCost, decimal);
    if (value !== undefined) line.unitCost = field(value);
  }
  const total = values.get('lineTotal');
  if (total !== undefined) {
    const value = leadingAmount(total, decimal);
    if (value !== undefined) line.lineTotal = field(value);
  }
  const rate = values.get('taxRate');
  if (rate !== undefined) {
    const match = /(\d+(?:[.,]\d+)?)\s*%/.exec(rate) ?? /^\s*(\d+(?:[.,]\d+)?)\s*$/.exec(rate);
    if (match) line.taxRate = field(Number(match[1]!.replace(',', '.')));
  }
  const sku = values.get('sku');
  if (sku !== undefined) line.vendorSku = field(sku.trim());
  const gtin = values.get('gtin');
  if (gtin !== undefined && /^\d{8,14}$/.test(gtin.replace(/\s/g, '')))
    line.gtin = field(gtin.replace(/\s/g, ''));
  const discount = values.get('discount');
  if (discount !== undefined) {
    const value = leadingAmount(discount.replace('%', ''), decimal);
    if (value !== undefined) line.discountPercent = field(value);
  }
  return line;
}

/**
 * Lines of a table without a recognisable header (or OCR text): rows that start with text and end
 * in numbers, of which two multiply to a third (quantity × unit price = amount).
 */
function arithmeticLines(
  rows: LayoutRow[],
  decimal: DecimalSeparator | undefined,
  source: FieldSource,
  tableRows: Set<LayoutRow>,
): InvoiceLine[] {
  const lines: InvoiceLine[] = [];
  for (const row of rows) {
    const text = row.cells.map((cell) => cell.text).join('  ');
    const words = text.split(/\s+/);
    const numbers: number[] = [];
    while (words.length) {
      const word = words.at(-1)!;
      if (/^[€$£]$|^[A-Z]{3}$/.test(word)) {
        words.pop();
        continue;
      }
      const value = parseAmount(word, decimal);
      if (value === undefined || /%$/.test(word)) break;
      numbers.unshift(value);
      words.pop();
    }
    const description = words.join(' ').trim();
    if (numbers.length < 3 || !/\p{L}{3}/u.test(description) || summaryMatcher.matchStart(description).length)
      continue;
    const total = numbers.at(-1)!;
    let found: [number, number] | undefined;
    for (let i = 0; i < numbers.length - 1 && !found; i++) {
      for (let j = i + 1; j < numbers.length - 1 && !found; j++) {
        if (total !== 0 && amountsAgree(numbers[i]! * numbers[j]!, total)) found = [i, j];
      }
    }
    if (!found) continue;
    // The quantity is the first of the pair unless it has decimals and the second does not.
    const [a, b] = found.map((index) => numbers[index]!) as [number, number];
    const [quantity, unitCost] = Number.isInteger(b) && !Number.isInteger(a) ? [b, a] : [a, b];
    const confidence = source === 'ocr' ? 0.6 : 0.7;
    lines.push({
      description: { value: description, confidence, source },
      quantity: { value: quantity, confidence, source },
      unitCost: { value: unitCost, confidence, source },
      lineTotal: { value: total, confidence, source },
    });
    tableRows.add(row);
  }
  return lines;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
