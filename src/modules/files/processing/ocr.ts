import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker as ThreadWorker } from 'node:worker_threads';
import type { Worker as TesseractWorker } from 'tesseract.js';
import { ProcessingError } from './errors.ts';
import {
  checkFile,
  cleanText,
  documentKind,
  type ImageHeader,
  imageError,
  loadSharp,
  readImageHeader,
} from './input.ts';
import {
  DEFAULT_MAX_PAGES,
  MAX_INPUT_PIXELS,
  MIN_TEXT_LAYER_CHARS,
  OCR_DPI,
  OCR_MAX_PIXELS,
} from './limits.ts';
import { pageText, renderPage, withPdf } from './pdf.ts';

export const OCR_INPUT_TYPES = [
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/tiff',
  'image/webp',
] as const;

export type TextMethod = 'text-layer' | 'ocr';

export interface ExtractTextOptions {
  /**
   * Tesseract language code of the text, default `eng`. Its trained data must be installed as the
   * npm package `@tesseract.js-data/<code>` (only `eng` is); one language per call.
   */
  language?: string;
  /** Most pages read; a longer document is refused (PAGE_LIMIT_EXCEEDED). Default 20. */
  maxPages?: number;
  /** Largest image decoded, in pixels (width × height); default MAX_INPUT_PIXELS. */
  maxInputPixels?: number;
  /** Stops between pages and ends a running OCR (its worker is terminated); rejects with the reason. */
  signal?: AbortSignal;
}

export interface PageText {
  /** 1-based. */
  page: number;
  method: TextMethod;
  text: string;
  /** Tesseract's mean word confidence, 0-100; OCR'd pages only. */
  confidence?: number;
}

export interface ExtractedText {
  /** Every page's text, pages separated by a blank line. Empty when nothing was found. */
  text: string;
  /** Pages read. */
  pages: number;
  /** `ocr` when any page had to be OCR'd, else `text-layer`. */
  method: TextMethod;
  pageTexts: PageText[];
}

/**
 * The text of a PDF or an image. A PDF page with a text layer is read from it (no OCR); a page
 * without one (a scan) is rendered at 300 DPI and OCR'd; an image (every page of a TIFF) is OCR'd.
 * An image without text gives empty text. Errors: ProcessingError UNSUPPORTED_MEDIA_TYPE,
 * UNSUPPORTED_LANGUAGE, CORRUPT_FILE, PDF_ENCRYPTED, EMPTY_DOCUMENT, PAGE_LIMIT_EXCEEDED,
 * IMAGE_TOO_LARGE; the signal's reason when aborted.
 *
 * OCR runs in a tesseract.js worker thread started for the call and terminated at its end, with
 * the trained data read from node_modules: nothing is downloaded. One OCR runs at a time in the
 * process; a second call that needs OCR waits for the first to finish.
 */
export async function extractText(
  inputPath: string,
  mime: string,
  options: ExtractTextOptions = {},
): Promise<ExtractedText> {
  const kind = documentKind(mime, OCR_INPUT_TYPES);
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  if (!Number.isInteger(maxPages) || maxPages < 1)
    throw new RangeError('maxPages must be a positive integer');
  const maxInputPixels = options.maxInputPixels ?? MAX_INPUT_PIXELS;
  const langPath = trainedDataFolder(options.language ?? 'eng');
  const { signal } = options;
  await checkFile(inputPath);
  signal?.throwIfAborted();

  const ocr = new OcrSession(options.language ?? 'eng', langPath, signal);
  const pageTexts: PageText[] = [];
  try {
    if (kind.kind === 'pdf') {
      await withPdf(inputPath, { maxImagePixels: maxInputPixels }, async (document) => {
        checkPageCount(document.numPages, maxPages);
        for (let number = 1; number <= document.numPages; number++) {
          signal?.throwIfAborted();
          const page = await document.getPage(number);
          const layer = cleanText(await pageText(page));
          if (countLettersAndDigits(layer) >= MIN_TEXT_LAYER_CHARS) {
            page.cleanup();
            pageTexts.push({ page: number, method: 'text-layer', text: layer });
            continue;
          }
          const rendered = await renderPage(page, OCR_DPI / 72, OCR_MAX_PIXELS);
          const sharp = await loadSharp();
          const png = await sharp(rendered.data, {
            raw: { width: rendered.width, height: rendered.height, channels: 4 },
          })
            .greyscale()
            .png({ compressionLevel: 1 })
            .toBuffer();
          pageTexts.push({ page: number, method: 'ocr', ...(await ocr.recognize(png, 72 * rendered.scale)) });
        }
      });
    } else {
      const first = await readImageHeader(inputPath, maxInputPixels);
      // Only a TIFF's pages are pages of a document; a GIF's or WebP's frames are an animation.
      const pages = kind.mime === 'image/tiff' ? first.pages : 1;
      checkPageCount(pages, maxPages);
      for (let index = 0; index < pages; index++) {
        signal?.throwIfAborted();
        // A TIFF's pages may each have their own size.
        const header = index === 0 ? first : await readImageHeader(inputPath, maxInputPixels, index);
        const { png, dpi } = await ocrImage(inputPath, index, header, maxInputPixels);
        pageTexts.push({ page: index + 1, method: 'ocr', ...(await ocr.recognize(png, dpi)) });
      }
    }
  } finally {
    await ocr.close();
  }

  return {
    text: pageTexts
      .map((page) => page.text)
      .join('\n\n')
      .trim(),
    pages: pageTexts.length,
    method: pageTexts.some((page) => page.method === 'ocr') ? 'ocr' : 'text-layer',
    pageTexts,
  };
}

/**
 * One page of an image as Tesseract gets it: upright, grey, at most OCR_MAX_PIXELS, as PNG; and
 * its resolution, when the file states a believable one.
 */
async function ocrImage(
  inputPath: string,
  page: number,
  header: ImageHeader,
  maxInputPixels: number,
): Promise<{ png: Buffer; dpi: number | undefined }> {
  const sharp = await loadSharp();
  const shrink = Math.min(1, Math.sqrt(OCR_MAX_PIXELS / (header.width * header.height)));
  const pipeline = sharp(inputPath, { limitInputPixels: maxInputPixels, page }).autoOrient();
  if (shrink < 1) {
    pipeline.resize(Math.round(header.orientedWidth * shrink), Math.round(header.orientedHeight * shrink));
  }
  try {
    const png = await pipeline.greyscale().png({ compressionLevel: 1 }).toBuffer();
    // 72 and 96 are what cameras and editors write whatever the real resolution: only a
    // scanner's value is passed on; otherwise Tesseract estimates it from the text.
    const dpi = header.density && header.density >= 150 ? header.density * shrink : undefined;
    return { png, dpi };
  } catch (error) {
    throw imageError(error);
  }
}

function checkPageCount(pages: number, maxPages: number): void {
  if (pages > maxPages) {
    throw new ProcessingError(
      'PAGE_LIMIT_EXCEEDED',
      `The document has ${pages} pages; at most ${maxPages} are read`,
      {
        pages,
        maxPages,
      },
    );
  }
}

function countLettersAndDigits(text: string): number {
  return text.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
}

/**
 * The folder holding `<language>.traineddata.gz` (the LSTM model, integer-quantised: what
 * tesseract.js itself would download), from the npm package @tesseract.js-data/<language>.
 */
function trainedDataFolder(language: string): string {
  const unsupported = (why: string) =>
    new ProcessingError('UNSUPPORTED_LANGUAGE', `No OCR for language "${language}": ${why}`, { language });
  if (!/^[a-z]{3}(_[a-z]+)*$/.test(language)) {
    throw unsupported('give one Tesseract language code, such as eng');
  }
  let root: string;
  try {
    root = path.dirname(fileURLToPath(import.meta.resolve(`@tesseract.js-data/${language}/package.json`)));
  } catch {
    throw unsupported(`its trained data (@tesseract.js-data/${language}) is not installed`);
  }
  const folder = path.join(root, '4.0.0_best_int');
  if (!existsSync(path.join(folder, `${language}.traineddata.gz`))) {
    throw unsupported(`@tesseract.js-data/${language} has no 4.0.0_best_int model`);
  }
  return folder;
}

/** The end of the previous OCR session in this process; the next one starts after it. */
let previousSession: Promise<void> = Promise.resolve();

/**
 * One tesseract.js worker, started on the first page that needs OCR (a PDF with a text layer
 * never starts one) and terminated by close(). Holds the process's OCR turn while it lives.
 */
class OcrSession {
  #worker: Promise<TesseractWorker> | undefined;
  #release: (() => void) | undefined;
  /** Rejects when the signal aborts, a job fails or the worker thread dies; raced against every step. */
  #failed: Promise<never>;
  #fail!: (reason: unknown) => void;
  /** Resolves when the worker thread has ended, whenever that was. */
  #exited: Promise<unknown> = Promise.resolve();
  #closing = false;
  readonly #language: string;
  readonly #langPath: string;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.#fail(this.#signal?.reason);

  constructor(language: string, langPath: string, signal: AbortSignal | undefined) {
    this.#language = language;
    this.#langPath = langPath;
    this.#signal = signal;
    this.#failed = new Promise<never>((_, reject) => {
      this.#fail = reject;
    });
    this.#failed.catch(() => {});
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  async recognize(png: Buffer, dpi: number | undefined): Promise<{ text: string; confidence: number }> {
    try {
      const worker = await this.#race((this.#worker ??= this.#start()));
      await this.#race(worker.setParameters({ user_defined_dpi: dpi ? String(Math.round(dpi)) : '0' }));
      const { data } = await this.#race(worker.recognize(png));
      return { text: cleanText(data.text), confidence: Math.round(data.confidence) };
    } catch (error) {
      // tesseract.js rejects with the worker's message text, not an Error.
      throw error instanceof Error || error === this.#signal?.reason
        ? error
        : new Error(`OCR failed: ${String(error)}`);
    }
  }

  async #start(): Promise<TesseractWorker> {
    // The next session waits for this one and for every one before it, even when this one is
    // aborted while it waits its turn.
    const turn = previousSession;
    const mine = new Promise<void>((resolve) => {
      this.#release = resolve;
    });
    previousSession = turn.then(() => mine);
    await this.#race(turn);
    const { createWorker, OEM } = await import('tesseract.js');
    const starting = createWorker(this.#language, OEM.LSTM_ONLY, {
      langPath: this.#langPath,
      // The data is read from langPath on every start; never written elsewhere (the default
      // writes <language>.traineddata into the working directory).
      cacheMethod: 'none',
      gzip: true,
      // Without a handler, tesseract.js throws a failed job's error from the worker's message
      // listener: an uncaught exception that ends the process. And when the trained data fails
      // to load, createWorker never settles: only this handler hears of it.
      errorHandler: (error: unknown) => this.#fail(error),
    });
    let worker: TesseractWorker;
    try {
      worker = await this.#race(starting);
    } catch (error) {
      // Aborted while starting: a worker that still comes up is ended when it does.
      void starting.then((late) => late.terminate()).catch(() => {});
      throw error;
    }
    // A job running when the thread dies would never settle: fail the session instead.
    const thread = (worker as unknown as { worker: ThreadWorker }).worker;
    this.#exited = new Promise((resolve) => thread.once('exit', resolve));
    thread.on('error', (error) => this.#fail(error));
    thread.once('exit', (code) => {
      if (!this.#closing) this.#fail(new Error(`The OCR worker exited with code ${code}`));
    });
    return worker;
  }

  #race<T>(step: Promise<T>): Promise<T> {
    return Promise.race([step, this.#failed]);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    try {
      const worker = await this.#worker?.catch(() => undefined);
      if (worker) {
        await worker.terminate();
        // Its memory is returned before the next session starts.
        await this.#exited;
      }
    } finally {
      this.#release?.();
    }
  }
}
