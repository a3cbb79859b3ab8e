import { stat } from 'node:fs/promises';
import type { Metadata, Sharp, SharpOptions } from 'sharp';
import { ProcessingError } from './errors.ts';

type SharpFactory = (input: string | Buffer, options?: SharpOptions) => Sharp;
let sharpModule: Promise<SharpFactory> | undefined;

/**
 * sharp, loaded on first use: the processing libraries together add about 100 MB of RSS (sharp
 * 26, PDF.js 41, the canvas 20, tesseract.js 7, zxing 5), which a server that never processes a
 * file should not carry.
 */
export function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then(({ default: sharp }) => {
    // libvips keeps recently opened files open in its operation cache; uploads are deleted after
    // processing and their space must come back, so files are never cached. Memory caching stays.
    sharp.cache({ files: 0 });
    return sharp;
  });
  return sharpModule;
}

export type ImageMime = 'image/jpeg' | 'image/png' | 'image/tiff' | 'image/webp' | 'image/gif';
export type DocumentKind = { kind: 'pdf' } | { kind: 'image'; mime: ImageMime };

const IMAGE_MIMES = new Set<string>(['image/jpeg', 'image/png', 'image/tiff', 'image/webp', 'image/gif']);
const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'image/tif': 'image/tiff',
  'image/x-tiff': 'image/tiff',
  'application/x-pdf': 'application/pdf',
};

/** The media type without parameters, lower-cased, with common aliases mapped. */
export function normaliseMime(mime: string): string {
  const bare = mime.split(';', 1)[0]!.trim().toLowerCase();
  return ALIASES[bare] ?? bare;
}

/** What kind of input `mime` is, if it is one of `accepted`; else UNSUPPORTED_MEDIA_TYPE. */
export function documentKind(mime: string, accepted: readonly string[]): DocumentKind {
  const type = normaliseMime(mime);
  if (accepted.includes(type)) {
    if (type === 'application/pdf') return { kind: 'pdf' };
    if (IMAGE_MIMES.has(type)) return { kind: 'image', mime: type as ImageMime };
  }
  throw new ProcessingError('UNSUPPORTED_MEDIA_TYPE', `Cannot process ${type || 'a file without a type'}`, {
    mime: type,
    accepted,
  });
}

/**
 * Checks the file exists (a missing file is the caller's bug, thrown as it is, not a property of
 * the upload) and is not empty.
 */
export async function checkFile(inputPath: string): Promise<number> {
  const { size } = await stat(inputPath);
  if (size === 0) throw new ProcessingError('CORRUPT_FILE', 'The file is empty');
  return size;
}

export interface ImageHeader {
  format: string;
  /** As stored, before EXIF orientation. */
  width: number;
  height: number;
  /** As displayed, after EXIF orientation. */
  orientedWidth: number;
  orientedHeight: number;
  /** Frames of a GIF/WebP, pages of a TIFF. */
  pages: number;
  /** Pixels per inch, when the file says. */
  density?: number;
}

/** sharp's failures on an input, as ProcessingErrors; anything else is thrown as it is. */
export function imageError(error: unknown): unknown {
  if (error instanceof ProcessingError || !(error instanceof Error)) return error;
  if (/Input (file|buffer) is missing/.test(error.message)) return error;
  if (/exceeds pixel limit/i.test(error.message)) {
    return new ProcessingError('IMAGE_TOO_LARGE', 'The image has more pixels than allowed', undefined, {
      cause: error,
    });
  }
  return new ProcessingError('CORRUPT_FILE', `Not a readable image: ${error.message}`, undefined, {
    cause: error,
  });
}

/**
 * Reads the header of the image (of its `page`, for a multi-page TIFF; no pixels are decoded)
 * and refuses it, before anything decodes it, when width × height is over `maxInputPixels`.
 */
export async function readImageHeader(
  inputPath: string,
  maxInputPixels: number,
  page = 0,
): Promise<ImageHeader> {
  const sharp = await loadSharp();
  let metadata: Metadata;
  try {
    // Only the header is read here; the limit is checked below, where the error can say the size.
    metadata = await sharp(inputPath, { limitInputPixels: false, page }).metadata();
  } catch (error) {
    throw imageError(error);
  }
  const { format, width, height } = metadata;
  if (!format || !width || !height) throw new ProcessingError('CORRUPT_FILE', 'Not a readable image');
  // A multi-page TIFF or animated GIF reports the height of all pages stacked.
  const pageHeight = metadata.pageHeight ?? height;
  if (width * pageHeight > maxInputPixels) {
    throw new ProcessingError('IMAGE_TOO_LARGE', `The image has more pixels than allowed`, {
      width,
      height: pageHeight,
      maxInputPixels,
    });
  }
  const rotated = (metadata.orientation ?? 1) >= 5;
  return {
    format,
    width,
    height: pageHeight,
    orientedWidth: rotated ? pageHeight : width,
    orientedHeight: rotated ? width : pageHeight,
    pages: metadata.pages ?? 1,
    ...(metadata.density ? { density: metadata.density } : {}),
  };
}

/**
 * Text PostgreSQL can store, in a text column or in jsonb: no NUL (a PDF's text layer or a QR code
 * may hold one), no lone UTF-16 surrogate.
 */
export function storableText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.toWellFormed().replace(/\u0000/g, '');
}

/** Storable text with Unix line ends, no blanks at the ends of lines, trimmed. */
export function cleanText(text: string): string {
  return storableText(text)
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+$/gm, '')
    .trim();
}
