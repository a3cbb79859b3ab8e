import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { renderPage, withPdf } from '../src/modules/files/processing/pdf.ts';
import { extractInvoice } from '../src/modules/invoices/extraction/index.ts';
import { makePdf } from '../test/helpers/pdf.ts';

/**
 * Invoice extraction (src/modules/invoices/extraction/), what the invoice:process job spends its
 * time on, without the database: wall time per page of a text PDF (a 20-page invoice drawn with
 * pdfkit, 30 lines a page), per page of a scan (the first 2 pages of that invoice rasterised at
 * 200 DPI and put back into a PDF as images, so OCR reads them), and the peak RSS of a process that
 * reads a 100-page text invoice (measured in a child process, beside one that only loads the same
 * modules and bytes). Run alone: `node bench/invoices.ts`.
 */
export interface InvoiceFigures {
  textPages: number;
  textSeconds: number;
  textMsPerPage: number;
  textLines: number;
  ocrPages: number;
  ocrSeconds: number;
  ocrSecondsPerPage: number;
  ocrLines: number;
  largePages: number;
  largeSeconds: number;
  /** Peak RSS (MB) of the process that read the 100-page invoice, and of one that only loaded it. */
  largePeakRssMb: number;
  baselinePeakRssMb: number;
}

const LINES_PER_PAGE = 30;

/** A text invoice of `pages` pages: a header on each, 30 priced lines a page, totals at the end. */
export function longInvoicePdf(pages: number): Promise<Buffer> {
  return makePdf({ size: 'A4', margin: 40 }, (document) => {
    let total = 0;
    for (let page = 1; page <= pages; page++) {
      if (page > 1) document.addPage();
      document.font('Helvetica-Bold').fontSize(16).text('Greenvale Produce Co.', 40, 40);
      document.font('Helvetica').fontSize(9);
      document.text('41 Orchard Road, Salinas CA 93901', 40, 62);
      document.text('Invoice No', 40, 100).text('BENCH-2026-01', 150, 100);
      document.text('Invoice Date', 40, 114).text('02/03/2026', 150, 114);
      document.text(`Page ${page} of ${pages}`, 450, 100);
      document.font('Helvetica-Bold');
      const columns = [
        ['Item #', 40, 60, 'left'],
        ['Description', 105, 200, 'left'],
        ['Qty', 310, 40, 'right'],
        ['Unit Price', 360, 80, 'right'],
        ['Amount', 450, 100, 'right'],
      ] as const;
      for (const [label, x, width, align] of columns)
        document.text(label, x, 150, { width, align, lineBreak: false });
      document.font('Helvetica');
      for (let row = 0; row < LINES_PER_PAGE; row++) {
        const n = (page - 1) * LINES_PER_PAGE + row + 1;
        const quantity = 1 + (n % 12);
        const unit = 0.5 + ((n * 37) % 400) / 20;
        const amount = Math.round(quantity * unit * 100) / 100;
        total += amount;
        const cells = [
          `GV-${1000 + n}`,
          `Produce line ${n}, case`,
          String(quantity),
          unit.toFixed(2),
          amount.toFixed(2),
        ];
        cells.forEach((cell, i) => {
          const [, x, width, align] = columns[i]!;
          document.text(cell, x, 170 + row * 18, { width, align, lineBreak: false });
        });
      }
    }
    document.text('Total', 360, 720).text(`$${total.toFixed(2)}`, 450, 720, { width: 100, align: 'right' });
  });
}

/** The first `pages` pages of `pdf` rasterised at 200 DPI and put back into a PDF as images: a scan. */
async function scannedPdf(pdf: Buffer, pages: number): Promise<Buffer> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'invoice-bench-'));
  try {
    const file = path.join(folder, 'text.pdf');
    await writeFile(file, pdf);
    const images = await withPdf(file, { maxImagePixels: 50_000_000 }, async (document) => {
      const pngs: Buffer[] = [];
      for (let number = 1; number <= pages; number++) {
        const rendered = await renderPage(await document.getPage(number), 200 / 72, 20_000_000);
        pngs.push(
          await sharp(rendered.data, { raw: { width: rendered.width, height: rendered.height, channels: 4 } })
            .flatten({ background: '#ffffff' })
            .greyscale()
            .png()
            .toBuffer(),
        );
      }
      return pngs;
    });
    return makePdf({ size: 'A4', margin: 0, autoFirstPage: false }, (document) => {
      for (const png of images) {
        document.addPage({ size: 'A4', margin: 0 });
        document.image(png, 0, 0, { width: document.page.width, height: document.page.height });
      }
    });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The child process behind the RSS figure: loads the modules, makes the PDF, reads it (or not). */
async function rssChild(pages: number, extract: boolean) {
  const bytes = await longInvoicePdf(pages);
  const start = process.hrtime.bigint();
  if (extract) await extractInvoice({ bytes: new Uint8Array(bytes) }, { maxPages: pages, ocr: false });
  process.stdout.write(
    JSON.stringify({ seconds: seconds(start), maxRssMb: process.resourceUsage().maxRSS / 1024 }),
  );
}

function runChild(pages: number, extract: boolean): { seconds: number; maxRssMb: number } {
  const result = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--rss-child', String(pages), extract ? 'extract' : 'load'],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`rss child failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { seconds: number; maxRssMb: number };
}

export async function runInvoiceBench(
  options: { textPages?: number; ocrPages?: number; largePages?: number } = {},
): Promise<InvoiceFigures> {
  const textPages = options.textPages ?? 20;
  const ocrPages = options.ocrPages ?? 2;
  const largePages = options.largePages ?? 100;

  const text = await longInvoicePdf(textPages);
  // One warm-up read: PDF.js and the modules load once per process, not per invoice.
  await extractInvoice({ bytes: new Uint8Array(await longInvoicePdf(1)) }, { ocr: false });
  let start = process.hrtime.bigint();
  const read = await extractInvoice({ bytes: new Uint8Array(text) }, { ocr: false });
  const textSeconds = seconds(start);

  const scan = await scannedPdf(text, ocrPages);
  start = process.hrtime.bigint();
  const ocr = await extractInvoice({ bytes: new Uint8Array(scan) }, { maxPages: ocrPages });
  const ocrSeconds = seconds(start);

  const large = runChild(largePages, true);
  const baseline = runChild(largePages, false);
  return {
    textPages,
    textSeconds: round(textSeconds),
    textMsPerPage: round((textSeconds * 1000) / textPages, 1),
    textLines: read.lines.length,
    ocrPages,
    ocrSeconds: round(ocrSeconds),
    ocrSecondsPerPage: round(ocrSeconds / ocrPages),
    ocrLines: ocr.lines.length,
    largePages,
    largeSeconds: round(large.seconds),
    largePeakRssMb: Math.round(large.maxRssMb),
    baselinePeakRssMb: Math.round(baseline.maxRssMb),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--rss-child') {
    await rssChild(Number(process.argv[3]), process.argv[4] === 'extract');
  } else {
    console.log(JSON.stringify(await runInvoiceBench(), null, 2));
  }
}
