import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { companyKey } from '../modules/invoices/extraction/header.ts';
import { extractInvoice } from '../modules/invoices/extraction/index.ts';
import { normaliseTaxId, parseDate } from '../modules/invoices/extraction/normalise.ts';
import type {
  ExtractedInvoice,
  ExtractionResult,
  InvoiceLine,
} from '../modules/invoices/extraction/types.ts';

/**
 * `npm run eval:invoices [FOLDER] [-- --no-ocr] [--json]`: extracts every invoice under FOLDER
 * (default test/fixtures/invoices) and scores it against its expected fields: `<name>.json` beside
 * it in invoice2data's form (`invoice_number`, `date`, `date_due`, `amount`, `amount_untaxed`,
 * `amount_tax`, `currency`, `issuer`, `vat`, `lines` with `name`/`desc`, `qty`, `price_unit`/`price`,
 * `price_subtotal`), or, for a spreadsheet holding many invoices, a `*_invoice_totals.csv` beside
 * it (Online Retail II: `Invoice`, `InvoiceDate`, `line_count`, `total_quantity`, `total_gbp`). A
 * field is right when equal after normalising (numbers to 2 decimals, dates to ISO, ids without
 * spaces and a leading #, names without legal form and punctuation). Files without expected data
 * are listed, not scored. Prints per file and in total, text-layer/structured and OCR apart.
 */
const args = process.argv.slice(2);
const ocr = !args.includes('--no-ocr');
const asJson = args.includes('--json');
const folder = path.resolve(
  args.find((arg) => !arg.startsWith('--')) ??
    fileURLToPath(new URL('../../test/fixtures/invoices/', import.meta.url)),
);

const EXTENSIONS = /\.(pdf|png|jpe?g|tiff?|xml|csv|xlsx|txt)$/i;
const TOTALS = /_invoice_totals\.csv$/i;

interface Score {
  file: string;
  format: string;
  kind: 'text' | 'ocr';
  headerRight: number;
  headerTotal: number;
  linesRight: number;
  linesTotal: number;
  wrong: string[];
  failure?: string;
  scored: boolean;
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await files(full)));
    else if (EXTENSIONS.test(entry.name) && !TOTALS.test(entry.name)) found.push(full);
  }
  return found;
}

type Expected = Record<string, unknown>;

const money = (value: unknown) =>
  value === undefined || value === null || value === '' ? undefined : Math.round(Number(value) * 100) / 100;
const id = (value: unknown) => String(value).replace(/^#/, '').replace(/\s+/g, '').toLowerCase();
const text = (value: unknown) => String(value).split('\n')[0]!.replace(/\s+/g, ' ').trim().toLowerCase();

const HEADER_FIELDS: [string, keyof ExtractedInvoice['header'], (value: unknown) => unknown][] = [
  ['invoice_number', 'invoiceNumber', id],
  ['date', 'invoiceDate', (value) => parseDate(String(value), 'YMD')?.value ?? String(value)],
  ['date_due', 'dueDate', (value) => parseDate(String(value), 'YMD')?.value ?? String(value)],
  ['amount', 'total', money],
  ['amount_untaxed', 'subtotal', money],
  ['amount_tax', 'tax', money],
  ['currency', 'currency', (value) => String(value).toUpperCase()],
  ['issuer', 'vendorName', (value) => companyKey(String(value))],
  ['vat', 'vendorTaxId', (value) => normaliseTaxId(String(value))],
];

function scoreInvoice2data(invoice: ExtractedInvoice, expected: Expected, score: Score): void {
  for (const [key, field, normalise] of HEADER_FIELDS) {
    if (expected[key] === undefined || expected[key] === null) continue;
    score.headerTotal++;
    const got = invoice.header[field]?.value;
    if (got !== undefined && normalise(got) === normalise(expected[key])) score.headerRight++;
    else score.wrong.push(`${key}: expected ${JSON.stringify(expected[key])}, got ${JSON.stringify(got)}`);
  }
  const lines = Array.isArray(expected.lines) ? (expected.lines as Expected[]) : [];
  const unused = new Set(invoice.lines);
  for (const line of lines) {
    const name = line.name ?? line.desc;
    if (name === undefined) continue;
    score.linesTotal++;
    const numbers: [keyof InvoiceLine, unknown][] = [
      ['quantity', line.qty],
      ['unitCost', line.price_unit ?? line.price],
      ['lineTotal', line.price_subtotal],
    ];
    const match = [...unused].find(
      (got) =>
        got.description !== undefined &&
        text(got.description.value) === text(name) &&
        numbers.every(
          ([field, value]) =>
            value === undefined || money(got[field]?.value as number | undefined) === money(value),
        ),
    );
    if (match) {
      score.linesRight++;
      unused.delete(match);
    } else score.wrong.push(`line "${text(name)}" not found`);
  }
}

async function totalsBeside(file: string): Promise<Map<string, Expected> | undefined> {
  const dir = path.dirname(file);
  const totalsFile = (await readdir(dir)).find((name) => TOTALS.test(name));
  if (!totalsFile) return undefined;
  const { parse } = await import('csv-parse/sync');
  const rows: Expected[] = parse(await readFile(path.join(dir, totalsFile)), { columns: true });
  return new Map(rows.map((row) => [String(row.Invoice), row]));
}

function scoreTotals(result: ExtractionResult, totals: Map<string, Expected>, score: Score): void {
  const seen = new Set<string>();
  for (const invoice of result.invoices) {
    const number = invoice.header.invoiceNumber?.value;
    const expected = number === undefined ? undefined : totals.get(number);
    if (!expected) continue;
    seen.add(number!);
    score.headerTotal += 3;
    score.headerRight++;
    const date = String(expected.InvoiceDate).slice(0, 10);
    if (invoice.header.invoiceDate?.value === date) score.headerRight++;
    else score.wrong.push(`${number} date: expected ${date}, got ${invoice.header.invoiceDate?.value}`);
    if (money(invoice.header.total?.value) === money(expected.total_gbp)) score.headerRight++;
    else
      score.wrong.push(
        `${number} total: expected ${String(expected.total_gbp)}, got ${invoice.header.total?.value}`,
      );
    const count = Number(expected.line_count);
    score.linesTotal += count;
    const quantity = invoice.lines.reduce((sum, line) => sum + (line.quantity?.value ?? 0), 0);
    if (invoice.lines.length === count && quantity === Number(expected.total_quantity))
      score.linesRight += count;
    else
      score.wrong.push(
        `${number} lines: expected ${count} (quantity ${String(expected.total_quantity)}), got ${invoice.lines.length} (${quantity})`,
      );
  }
  // Invoices the file should hold but the extraction missed count as wrong.
  for (const [number, expected] of totals) {
    if (seen.has(number)) continue;
    score.headerTotal += 3;
    score.linesTotal += Number(expected.line_count);
    score.wrong.push(`${number}: not extracted`);
  }
}

const scores: Score[] = [];
for (const file of await files(folder)) {
  const relative = path.relative(folder, file);
  const score: Score = {
    file: relative,
    format: '',
    kind: 'text',
    headerRight: 0,
    headerTotal: 0,
    linesRight: 0,
    linesTotal: 0,
    wrong: [],
    scored: false,
  };
  const jsonFile = file.replace(/\.[^.]+$/, '.json');
  const expected = await readFile(jsonFile, 'utf8')
    .then((json) => {
      const parsed = JSON.parse(json) as Expected | Expected[];
      return Array.isArray(parsed) ? parsed[0] : parsed;
    })
    .catch(() => undefined);
  const totals = /\.(csv|xlsx)$/i.test(file) ? await totalsBeside(file) : undefined;
  if (/\.(png|jpe?g|tiff?)$/i.test(file) && !ocr) continue;
  try {
    const result = await extractInvoice(
      { bytes: await readFile(file), fileName: path.basename(file) },
      { ocr },
    );
    score.format = result.format;
    score.kind = ['image', 'pdf-ocr'].includes(result.format) ? 'ocr' : 'text';
    if (expected) {
      score.scored = true;
      scoreInvoice2data(result, expected, score);
    } else if (totals) {
      score.scored = true;
      scoreTotals(result, totals, score);
    }
  } catch (error) {
    score.failure =
      error instanceof Error
        ? `${(error as { code?: string }).code ?? error.name}: ${error.message}`
        : String(error);
    if (expected) {
      score.scored = true;
      scoreInvoice2data({ header: {}, lines: [], checks: [], warnings: [] }, expected, score);
    }
  }
  scores.push(score);
}

const percent = (right: number, total: number) => (total ? `${((100 * right) / total).toFixed(1)}%` : '—');
if (asJson) {
  console.log(JSON.stringify(scores, null, 2));
} else {
  console.log(`| file | format | header fields | lines |`);
  console.log(`|---|---|---|---|`);
  for (const score of scores) {
    const header = score.scored ? `${score.headerRight}/${score.headerTotal}` : 'not scored';
    const lines = score.scored && score.linesTotal ? `${score.linesRight}/${score.linesTotal}` : '—';
    console.log(
      `| ${score.file} | ${score.failure ? `failed (${score.failure.split(':')[0]})` : score.format} | ${header} | ${lines} |`,
    );
  }
  const folders = [...new Set(scores.map((score) => score.file.split(path.sep)[0]!))].filter(
    (name) => !EXTENSIONS.test(name),
  );
  const groups: [string, Score[]][] = [];
  for (const kind of ['text', 'ocr'] as const) {
    const label = kind === 'text' ? 'text layer / structured' : 'OCR';
    groups.push([label, scores.filter((score) => score.scored && score.kind === kind)]);
    if (folders.length > 1) {
      for (const name of folders)
        groups.push([
          `${label}, ${name}/`,
          scores.filter(
            (score) => score.scored && score.kind === kind && score.file.startsWith(name + path.sep),
          ),
        ]);
    }
  }
  for (const [label, group] of groups) {
    if (!group.length) continue;
    const sum = (key: 'headerRight' | 'headerTotal' | 'linesRight' | 'linesTotal') =>
      group.reduce((total, score) => total + score[key], 0);
    console.log(
      `| **total, ${label}** (${group.length} files) | | ${sum('headerRight')}/${sum('headerTotal')} = ${percent(sum('headerRight'), sum('headerTotal'))} | ${sum('linesRight')}/${sum('linesTotal')} = ${percent(sum('linesRight'), sum('linesTotal'))} |`,
    );
  }
  if (args.includes('--verbose')) {
    for (const score of scores.filter((s) => s.wrong.length || s.failure)) {
      console.log(`\n${score.file}${score.failure ? ` — ${score.failure}` : ''}`);
      for (const wrong of score.wrong.slice(0, 15)) console.log(`  ${wrong}`);
      if (score.wrong.length > 15) console.log(`  … ${score.wrong.length - 15} more`);
    }
  }
}
