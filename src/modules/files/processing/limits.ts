/**
 * The defaults every processing function starts from; each can be overridden per call. They bound
 * what one uploaded file can cost in memory and time, not what a good file needs.
 */

/**
 * Largest image decoded, in pixels (width × height, read from the header before decoding). 100 MP
 * passes any phone or scanner (a 48 MP photo, A3 at 600 DPI = 70 MP) and stops a decompression
 * bomb: a PNG of a few KB can declare 100,000 × 100,000 pixels (10 GP, 40 GB as RGBA). sharp's own
 * default is 268 MP. Also the largest image inside a PDF that PDF.js will decode.
 */
export const MAX_INPUT_PIXELS = 100_000_000;

/** A thumbnail's longest side, in pixels. */
export const THUMBNAIL_MAX_SIDE = 320;

/** Pages a document may have before extractText refuses it (PAGE_LIMIT_EXCEEDED). */
export const DEFAULT_MAX_PAGES = 20;

/** Resolution scanned PDF pages are rendered at for OCR: Tesseract is trained on about 300 DPI. */
export const OCR_DPI = 300;

/**
 * Largest image handed to Tesseract, in pixels; larger pages and photos are scaled down to it
 * (A4 at 300 DPI is 8.7 MP, A3 17.4 MP). Bounds the time and memory of one page.
 */
export const OCR_MAX_PIXELS = 16_000_000;

/**
 * A PDF page whose text layer has at least this many letters and digits is read from it; one with
 * fewer (a scan, perhaps with a stamped page number or "Scanned by …" line) is rendered and OCR'd.
 */
export const MIN_TEXT_LAYER_CHARS = 32;

/** Longest side barcode detection looks at; larger photos are scaled down to it. */
export const ANALYSIS_MAX_SIDE = 4096;
