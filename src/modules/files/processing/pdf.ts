import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/types/src/display/api.js';
import { ProcessingError } from './errors.ts';

import type * as PdfJsModule from 'pdfjs-dist/legacy/build/pdf.mjs';

type PdfJs = typeof PdfJsModule;
let pdfjsModule: Promise<PdfJs> | undefined;

/** PDF.js's legacy build, the one it asks Node to use; loaded on first use (about 40 MB). */
export function loadPdfJs(): Promise<PdfJs> {
  pdfjsModule ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjsModule;
}

/**
 * PDF.js's data folders, read from node_modules through the file system: standard fonts (for PDFs
 * that use Helvetica and friends without embedding them), CMaps (CJK encodings), the WASM image
 * decoders (JPEG 2000, JBIG2) and the ICC profile. Nothing is fetched.
 */
export function dataFolders() {
  const root = path.dirname(fileURLToPath(import.meta.resolve('pdfjs-dist/package.json')));
  const folder = (name: string) => path.join(root, name) + path.sep;
  return {
    standardFontDataUrl: folder('standard_fonts'),
    cMapUrl: folder('cmaps'),
    cMapPacked: true,
    wasmUrl: folder('wasm'),
    iccUrl: folder('iccs'),
  };
}

/** PDF.js's failures on a document, as ProcessingErrors; anything else is thrown as it is. */
function pdfError(error: unknown): unknown {
  if (error instanceof ProcessingError || !(error instanceof Error)) return error;
  if (error.name === 'PasswordException') {
    return new ProcessingError('PDF_ENCRYPTED', 'The PDF is protected by a password', undefined, {
      cause: error,
    });
  }
  if (['InvalidPDFException', 'FormatError', 'UnknownErrorException'].includes(error.name)) {
    return new ProcessingError('CORRUPT_FILE', `Not a readable PDF: ${error.message}`, undefined, {
      cause: error,
    });
  }
  return error;
}

export interface PdfOptions {
  /** Images inside the PDF larger than this (width × height) are not decoded. */
  maxImagePixels: number;
}

/**
 * Opens the PDF, runs `work` on it and always releases it. PDF.js runs on the calling thread in
 * Node (its worker is a "fake" one in the same thread): parsing and rendering block the event
 * loop while they run.
 */
export async function withPdf<T>(
  inputPath: string,
  options: PdfOptions,
  work: (document: PDFDocumentProxy) => Promise<T>,
): Promise<T> {
  const { getDocument, VerbosityLevel } = await loadPdfJs();
  const data = new Uint8Array(await readFile(inputPath));
  const task = getDocument({
    data,
    ...dataFolders(),
    maxImageSize: options.maxImagePixels,
    verbosity: VerbosityLevel.ERRORS,
  });
  try {
    const document = await task.promise.catch((error: unknown) => {
      throw pdfError(error);
    });
    if (document.numPages === 0) throw new ProcessingError('EMPTY_DOCUMENT', 'The PDF has no pages');
    return await work(document);
  } catch (error) {
    throw pdfError(error);
  } finally {
    await task.destroy();
  }
}

/** The page's text layer in reading order, one line per line of the PDF. */
export async function pageText(page: PDFPageProxy): Promise<string> {
  const content = await page.getTextContent();
  let text = '';
  for (const item of content.items) {
    if (!('str' in item)) continue;
    text += item.str;
    if (item.hasEOL) text += '\n';
  }
  return text;
}

export interface RenderedPage {
  /** RGBA, unpremultiplied, on white. */
  data: Buffer;
  width: number;
  height: number;
  /** The scale rendered at (1 = 72 DPI). */
  scale: number;
}

/**
 * Renders the page on white at `scale` (1 = 72 DPI), or smaller when that would take more than
 * `maxPixels`: a page can declare any size, and a 200-inch page at 300 DPI is 3.6 GP.
 */
export async function renderPage(
  page: PDFPageProxy,
  scale: number,
  maxPixels: number,
): Promise<RenderedPage> {
  const { createCanvas } = await import('@napi-rs/canvas');
  const unit = page.getViewport({ scale: 1 });
  const fitted = Math.min(scale, Math.sqrt(maxPixels / (unit.width * unit.height)));
  const viewport = page.getViewport({ scale: fitted });
  const width = Math.max(1, Math.floor(viewport.width));
  const height = Math.max(1, Math.floor(viewport.height));
  const canvas = createCanvas(width, height);
  try {
    // @napi-rs/canvas is the canvas PDF.js itself uses in Node (its optional dependency).
    await page.render({ canvas, viewport, background: '#ffffff' }).promise;
    const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    return {
      data: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength),
      width,
      height,
      scale: fitted,
    };
  } finally {
    page.cleanup();
  }
}
