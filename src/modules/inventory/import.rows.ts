import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { CsvError, type InfoRecord, parse } from 'csv-parse';
import { AppError } from '../../platform/http/errors.ts';
import { textProblem } from '../../platform/http/input-guard.ts';
import { itemBarcode } from './barcode.ts';
import { NUMERIC_FIELDS } from './inventory.service.ts';

/**
 * Reading an import file as a stream of rows, and turning a row's cells into item fields. Nothing
 * here holds more than one row (plus the parser's buffer) in memory.
 */

export type FileKind = 'csv' | 'xlsx';

/** A cell as the readers hand it over: CSV gives text; XLSX also numbers, booleans and dates. */
export type Cell = string | number | boolean | Date;

export interface RawRow {
  /** The row number as the user sees it in the file (the header is row 1 of a simple CSV). */
  row: number;
  cells: Cell[];
}

function cellText(cell: Cell | undefined): string {
  if (cell === undefined) return '';
  return cell instanceof Date ? cell.toISOString().slice(0, 10) : String(cell).trim();
}

export const importError = (message: string, code = 'INVALID_IMPORT_FILE') =>
  new AppError(400, code, message);

/** Legacy Office (OLE2: .xls, .doc), PDF, PNG, JPEG, GIF, gzip. */
const BINARY_SIGNATURES = [
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
  Buffer.from('%PDF-'),
  Buffer.from([0x89, 0x50, 0x4e, 0x47]),
  Buffer.from([0xff, 0xd8, 0xff]),
  Buffer.from('GIF8'),
  Buffer.from([0x1f, 0x8b]),
];
const MAX_NULS_IN_TEXT_HEAD = 16;

function countNuls(bytes: Buffer): number {
  let count = 0;
  for (let index = bytes.indexOf(0); index !== -1; index = bytes.indexOf(0, index + 1)) count += 1;
  return count;
}

/** Decides the file kind from its first bytes (an XLSX is a ZIP) and its name; refuses anything else. */
export async function detectKind(path: string, filename: string): Promise<FileKind> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw importError('The file is empty', 'EMPTY_FILE');
    const head = Buffer.alloc(Math.min(size, 4096));
    await handle.read(head, 0, head.length, 0);
    const lower = filename.toLowerCase();
    if (head[0] === 0x50 && head[1] === 0x4b) {
      if (lower.endsWith('.xlsx') || lower.endsWith('.xlsm') || !lower.includes('.')) return 'xlsx';
      throw importError(
        'Only CSV and XLSX files can be imported (this looks like another ZIP-based file)',
        'UNSUPPORTED_FILE',
      );
    }
    // A stray NUL in a cell does not make a file binary: it is reported as that cell's error
    // (parseRow). Binary files start with a signature or have NULs all through them.
    const textLike =
      countNuls(head) <= MAX_NULS_IN_TEXT_HEAD &&
      !BINARY_SIGNATURES.some((signature) => head.subarray(0, signature.length).equals(signature));
    if (textLike && !/\.(xlsx|xls|pdf|json|zip)$/.test(lower)) return 'csv';
    throw importError('Only CSV and XLSX files can be imported', 'UNSUPPORTED_FILE');
  } finally {
    await handle.close();
  }
}

/** Semicolon, tab or comma: whichever the first line uses most (spreadsheets export all three). */
async function sniffDelimiter(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const firstLine = buffer.subarray(0, bytesRead).toString('utf8').split(/\r?\n/)[0] ?? '';
    const counts = [',', ';', '\t'].map(
      (delimiter) => [delimiter, firstLine.split(delimiter).length - 1] as const,
    );
    return counts.sort((a, b) => b[1] - a[1])[0]![0];
  } finally {
    await handle.close();
  }
}

async function* readRows(path: string, kind: FileKind): AsyncGenerator<RawRow> {
  if (kind === 'csv') {
    // The last line csv-parse read a whole row from. It runs ahead of the rows taken from the
    // stream, whose buffered rows are dropped when it fails.
    let lastParsedRow = 0;
    const parser = createReadStream(path).pipe(
      parse({
        bom: true,
        delimiter: await sniffDelimiter(path),
        relax_column_count: true,
        skip_empty_lines: true,
        trim: true,
        info: true,
        on_record: (record: string[], info: InfoRecord) => {
          lastParsedRow = info.lines;
          return record;
        },
      }),
    );
    try {
      for await (const { record, info } of parser as AsyncIterable<{
        record: string[];
        info: { lines: number };
      }>) {
        yield { row: info.lines, cells: record };
      }
    } catch (error) {
      // The client's file is at fault. For a quote left open, csv-parse names the line where the
      // file ended, so the message also says where the last readable row was.
      if (error instanceof CsvError) {
        throw importError(`The file is not valid CSV after row ${lastParsedRow}: ${error.message}`);
      }
      throw error;
    }
    return;
  }
  // Loaded on the first spreadsheet import, not at start-up: exceljs is 19 MB of resident memory.
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache',
    worksheets: 'emit',
  });
  let lastRow = 0;
  try {
    for await (const worksheet of workbook) {
      for await (const row of worksheet) {
        const values = row.values as unknown[];
        lastRow = row.number;
        // exceljs rows are 1-based: index 0 is always empty.
        yield { row: row.number, cells: Array.from(values.slice(1), cellValue) };
      }
      return; // the first sheet only
    }
  } catch (error) {
    // Only reading the workbook runs in here (a consumer's error is not thrown into a generator):
    // a ZIP that does not unpack, or a sheet that does not parse, is the file's fault.
    throw importError(
      `The file is not a readable XLSX workbook${lastRow ? ` after row ${lastRow}` : ''}: ${(error as Error).message}`,
    );
  }
}

/** A data row of an import file: its row number as the file shows it, and its fields. */
export interface PendingRow {
  row: number;
  parsed: ParsedRow;
}

/**
 * The file's data rows, parsed against its header row, in batches of `size` (the last may be
 * shorter). Blank rows are skipped; a file without a recognisable header, or without any rows,
 * is refused. Rows are parsed as the batches are asked for, so a caller that asks for the next
 * batch while the database applies the previous one overlaps the two.
 */
export async function* readBatches(path: string, kind: FileKind, size: number): AsyncGenerator<PendingRow[]> {
  let columns: Map<number, ImportField> | null = null;
  let captions: string[] = [];
  let batch: PendingRow[] = [];
  for await (const raw of readRows(path, kind)) {
    if (raw.cells.every((cell) => cellText(cell) === '')) continue;
    if (!columns) {
      columns = mapHeader(raw.cells);
      captions = raw.cells.map(cellText);
      if (!columns) {
        throw importError(
          'No recognisable header row: the first row must name the columns, with at least a description, SKU or UPC column',
          'NO_HEADER',
        );
      }
      continue;
    }
    batch.push({ row: raw.row, parsed: parseRow(raw.cells, columns, captions) });
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (!columns) throw importError('The file has no rows', 'EMPTY_FILE');
  if (batch.length > 0) yield batch;
}

/** exceljs cell values (formulas, rich text, hyperlinks, errors) reduced to a plain cell. */
function cellValue(value: unknown): Cell {
  if (value === null || value === undefined) return '';
  if (
    value instanceof Date ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  if (typeof value === 'object') {
    const cell = value as { result?: unknown; text?: unknown; richText?: Array<{ text: string }> };
    if (cell.result !== undefined) return cellValue(cell.result);
    if (cell.richText) return cell.richText.map((part) => part.text).join('');
    if (typeof cell.text === 'string') return cell.text;
  }
  return '';
}

/** The import's fields, and the header captions each is recognised by (compared without case, spaces or punctuation). */
const HEADER_ALIASES = {
  description: [
    'description',
    'itemdescription',
    'name',
    'itemname',
    'product',
    'productname',
    'item',
    'title',
  ],
  category: ['category', 'categoryname', 'cat', 'productcategory'],
  brand: ['brand', 'brands', 'brandname', 'manufacturer'],
  department: ['department', 'dept'],
  itemSku: ['itemsku', 'sku', 'itemcode', 'productcode', 'articlenumber', 'stockcode', 'plu'],
  itemUpc: ['itemupc', 'upc', 'ean', 'barcode', 'gtin', 'upcean', 'ean13', 'upccode'],
  packSize: ['packsize', 'pack', 'size', 'unitsize'],
  qtyShipped: ['qtyshipped', 'quantityshipped', 'shipped'],
  remainingStock: [
    'remainingstock',
    'qty',
    'quantity',
    'stock',
    'onhand',
    'qtyonhand',
    'instock',
    'stocklevel',
  ],
  salesWeekly: ['salesweekly', 'weeklysales'],
  location: ['location', 'loc', 'storelocation'],
  aisle: ['aisle'],
  row: ['row', 'shelfrow'],
  bin: ['bin', 'shelf'],
  expirationDate: [
    'expirationdate',
    'expiry',
    'expirydate',
    'expiration',
    'bestbefore',
    'bestby',
    'usebydate',
    'expdate',
    'exp',
  ],
  unitCost: ['unitcost', 'cost', 'costeach', 'unitprice'],
  vendorCost: ['vendorcost', 'suppliercost'],
  custCostEach: ['custcosteach', 'customercost'],
  unitRetail: ['unitretail', 'retail', 'retailprice', 'price', 'sellprice', 'sellingprice'],
  advertisingFlag: ['advertisingflag', 'advertised', 'onad', 'ad'],
  orderType: ['ordertype'],
  vendorId: ['vendorid', 'supplierid'],
  reorderPoint: ['reorderpoint', 'minstock', 'parlevel', 'par', 'minimum', 'minqty'],
  shelfLifeDays: ['shelflifedays', 'shelflife', 'shelflifeindays'],
  lotCode: ['lotcode', 'lot', 'batch', 'lotnumber', 'batchnumber'],
} as const;

export type ImportField = keyof typeof HEADER_ALIASES;

const ALIAS_TO_FIELD = new Map<string, ImportField>(
  (Object.entries(HEADER_ALIASES) as Array<[ImportField, readonly string[]]>).flatMap(([field, aliases]) =>
    aliases.map((alias) => [alias, field] as [string, ImportField]),
  ),
);

const squash = (caption: string) => caption.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Column index → field, from a header row; null when the row has no recognisable item column. */
function mapHeader(cells: Cell[]): Map<number, ImportField> | null {
  const columns = new Map<number, ImportField>();
  cells.forEach((cell, index) => {
    const field = ALIAS_TO_FIELD.get(squash(cellText(cell)));
    if (field && ![...columns.values()].includes(field)) columns.set(index, field);
  });
  const fields = new Set(columns.values());
  const identifies = fields.has('description') || fields.has('itemSku') || fields.has('itemUpc');
  return identifies ? columns : null;
}

const TEXT_LIMITS: Partial<Record<ImportField, number>> = {
  description: 500,
  category: 100,
  brand: 200,
  department: 100,
  itemSku: 64,
  itemUpc: 32,
  packSize: 100,
  location: 100,
  aisle: 50,
  row: 50,
  bin: 50,
  orderType: 50,
  lotCode: 100,
};
/** The item's numeric fields, plus the opening stock an import row may carry. */
const NUMBER_FIELDS = new Set<ImportField>([...NUMERIC_FIELDS, 'remainingStock']);

export interface ParsedRow {
  values: Partial<Record<ImportField, string | number | boolean>>;
  errors: Array<{ field: ImportField; message: string }>;
}

function parseNumber(raw: string): number | null {
  const cleaned = raw.replace(/[\s$€£]/g, '');
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(cleaned)) return Number(cleaned.replaceAll(',', ''));
  if (/^-?\d+([.,]\d+)?$/.test(cleaned)) return Number(cleaned.replace(',', '.'));
  return null;
}

function parseDate(raw: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(raw);
  if (!match) return null;
  const date = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ||
    date.toISOString().slice(0, 10) !== `${match[1]}-${match[2]}-${match[3]}`
    ? null
    : date.toISOString().slice(0, 10);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A column as a spreadsheet names it (0 → A, 26 → AA), with its header caption when there is one. */
export function columnLabel(index: number, caption?: string): string {
  let letters = '';
  for (let rest = index + 1; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
  }
  return caption ? `column ${letters} (${caption})` : `column ${letters}`;
}

/** Converts and checks one row's cells; empty cells are absent values, not errors. */
export function parseRow(
  cells: Cell[],
  columns: Map<number, ImportField>,
  captions: string[] = [],
): ParsedRow {
  const values: ParsedRow['values'] = {};
  const errors: ParsedRow['errors'] = [];
  for (const [index, field] of columns) {
    const cell = cells[index];
    const text = cellText(cell);
    if (text === '') continue;
    // Checked before anything else reads the text: PostgreSQL cannot store a NUL, and the
    // messages below quote the cell.
    const textIssue = textProblem(text);
    if (textIssue) {
      errors.push({ field, message: `${columnLabel(index, captions[index])} ${textIssue}` });
      continue;
    }
    if (field === 'expirationDate') {
      const date = cell instanceof Date ? cellText(cell) : parseDate(text);
      if (date) values.expirationDate = date;
      else errors.push({ field, message: `'${text}' is not a date: use YYYY-MM-DD` });
      continue;
    }
    if (field === 'shelfLifeDays') {
      const days = typeof cell === 'number' ? cell : parseNumber(text);
      if (days === null || !Number.isInteger(days) || days < 1 || days > 3650)
        errors.push({ field, message: `'${text}' is not a shelf life in whole days (1–3650)` });
      else values.shelfLifeDays = days;
      continue;
    }
    if (NUMBER_FIELDS.has(field)) {
      const number = typeof cell === 'number' ? cell : parseNumber(text);
      if (number === null || !Number.isFinite(number))
        errors.push({ field, message: `'${text}' is not a number` });
      else if (number < 0) errors.push({ field, message: 'must not be negative' });
      else if (number > 1_000_000_000) errors.push({ field, message: 'is too large' });
      else values[field] = number;
      continue;
    }
    if (field === 'advertisingFlag') {
      const lowered = text.toLowerCase();
      if (['true', 'yes', 'y', '1', 'x'].includes(lowered)) values.advertisingFlag = true;
      else if (['false', 'no', 'n', '0'].includes(lowered)) values.advertisingFlag = false;
      else errors.push({ field, message: `'${text}' is not yes/no` });
      continue;
    }
    if (field === 'vendorId' && !UUID.test(text)) {
      errors.push({ field, message: 'is not a vendor id (UUID)' });
      continue;
    }
    const limit = TEXT_LIMITS[field];
    if (limit && text.length > limit) {
      errors.push({ field, message: `is longer than ${limit} characters` });
      continue;
    }
    if (field === 'itemUpc') {
      // The same check as a create and as the barcode lookup: a code that is stored can be scanned.
      const barcode = itemBarcode(text);
      if ('problem' in barcode) {
        errors.push({ field, message: `${columnLabel(index, captions[index])}: ${barcode.problem.message}` });
        continue;
      }
    }
    values[field] = text;
  }
  return { values, errors };
}
