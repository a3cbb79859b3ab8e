import type { Sharp } from 'sharp';
import { imageError, checkFile, documentKind, loadSharp, readImageHeader } from './input.ts';
import { MAX_INPUT_PIXELS, THUMBNAIL_MAX_SIDE } from './limits.ts';
import { renderPage, withPdf } from './pdf.ts';

export const THUMBNAIL_INPUT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/tiff',
  'image/webp',
  'image/gif',
  'application/pdf',
] as const;

export interface ThumbnailOptions {
  /** Longest side of the thumbnail; default 320. An image already smaller is never enlarged. */
  maxSide?: number;
  /** Output format; default WebP (about a third of PNG's size for photos). */
  format?: 'webp' | 'png';
  /** Largest input decoded, in pixels; default MAX_INPUT_PIXELS. */
  maxInputPixels?: number;
}

export interface Thumbnail {
  buffer: Buffer;
  mime: 'image/webp' | 'image/png';
  width: number;
  height: number;
}

/**
 * A small preview of an image (JPEG, PNG, TIFF, WebP, GIF: the first page or frame) or of a PDF's
 * first page, at most `maxSide` pixels on its longest side, turned upright by its EXIF
 * orientation. Errors: ProcessingError UNSUPPORTED_MEDIA_TYPE, CORRUPT_FILE, IMAGE_TOO_LARGE,
 * and for PDFs PDF_ENCRYPTED and EMPTY_DOCUMENT.
 */
export async function makeThumbnail(
  inputPath: string,
  mime: string,
  options: ThumbnailOptions = {},
): Promise<Thumbnail> {
  const maxSide = options.maxSide ?? THUMBNAIL_MAX_SIDE;
  const format = options.format ?? 'webp';
  const maxInputPixels = options.maxInputPixels ?? MAX_INPUT_PIXELS;
  const kind = documentKind(mime, THUMBNAIL_INPUT_TYPES);
  await checkFile(inputPath);
  const sharp = await loadSharp();

  let pipeline: Sharp;
  if (kind.kind === 'pdf') {
    const page = await withPdf(inputPath, { maxImagePixels: maxInputPixels }, async (document) => {
      const first = await document.getPage(1);
      // Rendered at twice the thumbnail's size, then scaled down: sharper than rendering at size.
      // "Never enlarges" holds against the page's size at 72 DPI, as for an image.
      const { width, height } = first.getViewport({ scale: 1 });
      const target = Math.min(maxSide, Math.max(width, height));
      const scale = (2 * target) / Math.max(width, height);
      return renderPage(first, scale, 4 * maxSide * maxSide);
    });
    pipeline = sharp(page.data, { raw: { width: page.width, height: page.height, channels: 4 } });
    const target = Math.round(Math.max(page.width, page.height) / 2);
    pipeline.resize(target, target, { fit: 'inside', withoutEnlargement: true });
  } else {
    await readImageHeader(inputPath, maxInputPixels);
    pipeline = sharp(inputPath, { limitInputPixels: maxInputPixels })
      .autoOrient()
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  }

  try {
    const { data, info } = await (
      format === 'png' ? pipeline.png() : pipeline.webp({ quality: 80 })
    ).toBuffer({
      resolveWithObject: true,
    });
    return {
      buffer: data,
      mime: format === 'png' ? 'image/png' : 'image/webp',
      width: info.width,
      height: info.height,
    };
  } catch (error) {
    throw imageError(error);
  }
}
