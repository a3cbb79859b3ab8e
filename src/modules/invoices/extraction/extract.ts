import { runChecks } from './checks.ts';
import { decodeText, detectFormat } from './detect.ts';
import { readEInvoice } from './e-invoice.ts';
import { completeHeader, findHeader } from './header.ts';
import { buildRows, rowsFromText, rowText } from './layout.ts';
import { findLines } from './lines.ts';
import { type DateOrder, guessDecimalSeparator } from './normalise.ts';
import { ocrPages } from './ocr.ts';
import { readPdf } from './pdf-text.ts';
import { invoicesFromTable, readCsv, readXlsx } from './spreadsheet.ts';
import {
  type ExtractedInvoice,
  type ExtractInput,
  type ExtractionResult,
  ExtractionFailure,
  type ExtractOptions,
  type FieldSource,
  type InvoiceFormat,
  type LayoutRow,
  type VendorLayoutHints,
} from './types.ts';

export const DEFAULT_MAX_PAGES = 50;

/**
 * Reads an invoice from a file's bytes. Structured data is read exactly when the file has it (an
 * e-invoice's XML, also when embedded in a Factur-X/ZUGFeRD PDF; a spreadsheet's columns);
 * otherwise the page text (a PDF's text layer, else OCR) is rebuilt into rows and columns and the
 * header fields and the line table are found by their labels, then checked by their arithmetic.
 * Throws an ExtractionFailure when the file gives no invoice; never returns a half-read one
 * without saying so (missing fields are absent, doubtful ones have a low confidence and issues).
 */
export async function extractInvoice(
  input: ExtractInput,
  options: ExtractOptions = {},
): Promise<ExtractionResult> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  if (!Number.isInteger(maxPages) || maxPages < 1)
    throw new RangeError('maxPages must be a positive integer');
  const hints = options.hints;
  const detected = await detectFormat(input.bytes, input.fileName, input.mediaType);
  switch (detected.kind) {
    case 'cii':
    case 'ubl': {
      const invoice = readEInvoice(decodeText(input.bytes) ?? '', detected.kind);
      return finish(detected.kind, 1, [invoice], hints);
    }
    case 'csv':
    case 'xlsx': {
      const sheets =
        detected.kind === 'csv'
          ? [await readCsv(decodeText(input.bytes) ?? '')]
          : await readXlsx(input.bytes);
      const invoices = invoicesFromTable(sheets, hints);
      if (!invoices.length) {
        throw new ExtractionFailure(
          'no_invoice_data',
          'The spreadsheet has a header row but no invoice lines below it.',
        );
      }
      return finish(detected.kind, 1, invoices, hints);
    }
    case 'text': {
      const rows = rowsFromText(decodeText(input.bytes) ?? '');
      return fromRows('text', 1, rows, 'text', hints);
    }
    case 'pdf': {
      const pdf = await readPdf(input.bytes, maxPages);
      if (pdf.embeddedXml) {
        const kind = /CrossIndustryInvoice/.test(pdf.embeddedXml.xml.slice(0, 2000)) ? 'cii' : 'ubl';
        const invoice = readEInvoice(pdf.embeddedXml.xml, kind);
        invoice.warnings.push(
          `Read from the e-invoice attached to the PDF (${pdf.embeddedXml.fileName}), not from its pages`,
        );
        return finish('facturx', pdf.pages, [invoice], hints);
      }
      let rows = buildRows(pdf.items);
      let source: FieldSource = 'text';
      let format: InvoiceFormat = 'pdf';
      if (pdf.pagesWithoutText.length) {
        if (pdf.pagesWithoutText.length === pdf.pages && options.ocr === false) {
          throw new ExtractionFailure(
            'no_text',
            'The PDF is a scan without a text layer and OCR is turned off: upload the original PDF from the vendor, or enter the invoice by hand.',
          );
        }
        if (options.ocr !== false) {
          const pages = await ocrPages(input.bytes, 'application/pdf', { maxPages, signal: options.signal });
          const ocrRows = pages
            .filter((page) => page.method === 'ocr')
            .flatMap((page) => rowsFromText(page.text, page.page));
          rows = [...rows.filter((row) => !pdf.pagesWithoutText.includes(row.page)), ...ocrRows].sort(
            (a, b) => a.page - b.page || a.y - b.y,
          );
          if (pdf.pagesWithoutText.length === pdf.pages) {
            source = 'ocr';
            format = 'pdf-ocr';
          }
        }
      }
      return fromRows(format, pdf.pages, rows, source, hints);
    }
    case 'image': {
      if (options.ocr === false) {
        throw new ExtractionFailure(
          'no_text',
          'The invoice is an image and OCR is turned off: upload the PDF from the vendor.',
        );
      }
      const pages = await ocrPages(input.bytes, detected.mime, { maxPages, signal: options.signal });
      const rows = pages.flatMap((page) => rowsFromText(page.text, page.page));
      return fromRows('image', pages.length, rows, 'ocr', hints);
    }
  }
}

function fromRows(
  format: InvoiceFormat,
  pages: number,
  rows: LayoutRow[],
  source: FieldSource,
  hints: VendorLayoutHints | undefined,
): ExtractionResult {
  const text = rows.map((row) => rowText(row)).join('\n');
  if ((text.match(/[\p{L}\p{N}]/gu)?.length ?? 0) < 10) {
    throw new ExtractionFailure(
      'no_text',
      source === 'ocr'
        ? 'No text could be read from the scan: scan or photograph the invoice again, flat, in good light and at 300 DPI.'
        : 'The file has no text to read: upload the original invoice from the vendor.',
    );
  }
  const decimal = hints?.decimalSeparator ?? guessDecimalSeparator(text);
  const guessed = guessDateOrder(text, decimal);
  const dateOrder: DateOrder = hints?.dateOrder ?? guessed.order;
  const table = findLines(rows, decimal, source, hints);
  const header = findHeader({
    rows,
    tableRows: table.rows,
    decimal,
    dateOrder,
    dateOrderSettled: guessed.settled,
    source,
    hints,
  });
  const invoice: ExtractedInvoice = { header, lines: table.lines, checks: [], warnings: [] };
  if (!header.invoiceNumber && !header.total && !table.lines.length) {
    throw new ExtractionFailure(
      'no_invoice_data',
      'No invoice number, total or line items were found: is this an invoice? If it is, enter it by hand and its layout will be learned.',
    );
  }
  const result = finish(format, pages, [invoice], hints);
  result.layout = rows;
  if (table.columns.length) result.lineColumns = table.columns;
  return result;
}

/**
 * Day–month order for dates like 03/04/2026: US month-first when the document writes dollars with
 * a decimal point, else day first (as Europe and most of the world).
 */
function guessDateOrder(text: string, decimal: string | undefined): { order: DateOrder; settled: boolean } {
  // An unambiguous date in the document settles it.
  for (const match of text.matchAll(/(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)/g)) {
    if (Number(match[1]) > 12) return { order: 'DMY', settled: true };
    if (Number(match[2]) > 12) return { order: 'MDY', settled: true };
  }
  return { order: decimal === '.' && /\$|USD/.test(text) ? 'MDY' : 'DMY', settled: false };
}

function finish(
  format: InvoiceFormat,
  pages: number,
  invoices: ExtractedInvoice[],
  hints: VendorLayoutHints | undefined,
): ExtractionResult {
  for (const invoice of invoices) {
    completeHeader(invoice.header, hints);
    runChecks(invoice);
    if (!invoice.header.invoiceNumber) invoice.warnings.push('No invoice number found');
    if (!invoice.header.total) invoice.warnings.push('No total found');
    if (!invoice.lines.length) invoice.warnings.push('No line items found');
  }
  const [first] = invoices;
  return {
    format,
    pages,
    header: first!.header,
    lines: first!.lines,
    checks: first!.checks,
    warnings: [
      ...first!.warnings,
      ...(invoices.length > 1 ? [`The file holds ${invoices.length} invoices: see invoices`] : []),
    ],
    invoices,
  };
}
