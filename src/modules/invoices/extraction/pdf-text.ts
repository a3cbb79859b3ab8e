// PDF.js loading and its data folders are the document-processing module's (one copy, one load).
import type { PDFDocumentProxy } from 'pdfjs-dist/types/src/display/api.js';
import { dataFolders, loadPdfJs } from '../../files/processing/pdf.ts';
import type { TextItem } from './layout.ts';
import { ExtractionFailure } from './types.ts';

export interface PdfContent {
  pages: number;
  /** Text items of every page with positions; empty for a scan. */
  items: TextItem[];
  /** Pages whose text layer has (almost) no text: a scan, to be OCR'd. */
  pagesWithoutText: number[];
  /** An embedded e-invoice (ZUGFeRD / Factur-X / XRechnung attachment), as XML text. */
  embeddedXml?: { fileName: string; xml: string };
}

/** Fewer letters and digits than this on a page means a scan (maybe with a stamped page number). */
const MIN_TEXT_LAYER_CHARS = 32;

/** The names the ZUGFeRD/Factur-X/XRechnung specifications give their attachment, then any XML. */
const E_INVOICE_NAMES = ['factur-x.xml', 'zugferd-invoice.xml', 'xrechnung.xml', 'zugferd.xml'];

/**
 * A PDF's text items with coordinates (points, from the top left of the page) and its embedded
 * e-invoice, if any. Failures are ExtractionFailures: encrypted_pdf, corrupt_file, no_pages,
 * too_many_pages (checked before any page is read).
 */
export async function readPdf(bytes: Uint8Array, maxPages: number): Promise<PdfContent> {
  const { getDocument, VerbosityLevel } = await loadPdfJs();
  // PDF.js takes ownership of (detaches) the buffer it is given: hand it a copy.
  const task = getDocument({
    data: new Uint8Array(bytes),
    ...dataFolders(),
    verbosity: VerbosityLevel.ERRORS,
    stopAtErrors: false,
  });
  try {
    const document = await task.promise.catch((error: unknown) => {
      throw pdfFailure(error);
    });
    const pages = document.numPages;
    if (pages === 0) {
      throw new ExtractionFailure(
        'no_pages',
        'The PDF has no pages: export the invoice again from its source and upload the new file.',
      );
    }
    const embeddedXml = await embeddedInvoice(document);
    if (pages > maxPages) {
      throw new ExtractionFailure(
        'too_many_pages',
        `The PDF has ${pages} pages; invoices of at most ${maxPages} pages are read. Upload the invoice pages only (split the file), or enter this invoice by hand.`,
        { pages, maxPages },
      );
    }
    const items: TextItem[] = [];
    const pagesWithoutText: number[] = [];
    for (let number = 1; number <= pages; number++) {
      const page = await document.getPage(number);
      const viewport = page.getViewport({ scale: 1 });
      const content = await page.getTextContent();
      let letters = 0;
      for (const item of content.items) {
        if (!('str' in item) || !item.str.trim()) continue;
        const [a, b, , d, e, f] = item.transform as number[];
        // Rotated text (a vertical margin note) is not part of the invoice's rows.
        if (Math.abs(b!) > Math.abs(a!) * 0.1) continue;
        const height = Math.abs(d!) || item.height || 10;
        // PDF coordinates grow upwards from the baseline; rows are read top down.
        const [x, baseline] = viewport.convertToViewportPoint(e!, f!) as [number, number];
        items.push({
          page: number,
          x0: x,
          x1: x + item.width,
          y: baseline - height,
          height,
          text: item.str,
        });
        letters += item.str.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
      }
      if (letters < MIN_TEXT_LAYER_CHARS) pagesWithoutText.push(number);
      page.cleanup();
    }
    return { pages, items, pagesWithoutText, ...(embeddedXml ? { embeddedXml } : {}) };
  } catch (error) {
    throw pdfFailure(error);
  } finally {
    await task.destroy();
  }
}

async function embeddedInvoice(document: PDFDocumentProxy): Promise<PdfContent['embeddedXml']> {
  const attachments = await document.getAttachments().catch(() => null);
  if (!attachments) return undefined;
  const entries = [...attachments.entries()].filter(([, attachment]) => /\.xml$/i.test(attachment.filename));
  entries.sort(([, a], [, b]) => rank(a.filename) - rank(b.filename));
  for (const [id, attachment] of entries) {
    const content = attachment.content ?? (await document.getAttachmentContent(id).catch(() => null));
    if (!content) continue;
    const xml = new TextDecoder('utf-8').decode(content).replace(/^\ufeff/, '');
    if (/CrossIndustryInvoice|urn:oasis:names:specification:ubl/.test(xml.slice(0, 2000)))
      return { fileName: attachment.filename, xml };
  }
  return undefined;
}

function rank(fileName: string): number {
  const index = E_INVOICE_NAMES.indexOf(fileName.toLowerCase());
  return index === -1 ? E_INVOICE_NAMES.length : index;
}

function pdfFailure(error: unknown): unknown {
  if (error instanceof ExtractionFailure || !(error instanceof Error)) return error;
  if (error.name === 'PasswordException') {
    return new ExtractionFailure(
      'encrypted_pdf',
      'The PDF is protected by a password: ask the vendor for an unprotected copy, or print it to a new PDF and upload that.',
      undefined,
      { cause: error },
    );
  }
  if (
    ['InvalidPDFException', 'FormatError', 'UnknownErrorException', 'MissingPDFException'].includes(
      error.name,
    )
  ) {
    return new ExtractionFailure(
      'corrupt_file',
      `The PDF cannot be read (it is damaged or incomplete): download it again from the vendor and upload the new file.`,
      { reason: error.message },
      { cause: error },
    );
  }
  return error;
}
