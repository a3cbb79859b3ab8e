import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isProcessingError } from '../../files/processing/errors.ts';
import { extractText, type PageText } from '../../files/processing/ocr.ts';
import { ExtractionFailure } from './types.ts';

/**
 * A scan's or photo's text through the project's OCR (tesseract.js with the bundled English
 * model, one OCR at a time per process, pages with a text layer read from it). It reads a file, so
 * the bytes go to a temporary one, removed afterwards. Its failures become ExtractionFailures.
 */
export async function ocrPages(
  bytes: Uint8Array,
  mime: string,
  options: { maxPages: number; signal?: AbortSignal },
): Promise<PageText[]> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'invoice-ocr-'));
  try {
    const file = path.join(folder, 'input');
    await writeFile(file, bytes);
    const result = await extractText(file, mime, { maxPages: options.maxPages, signal: options.signal });
    return result.pageTexts;
  } catch (error) {
    if (isProcessingError(error)) {
      switch (error.code) {
        case 'PAGE_LIMIT_EXCEEDED':
          throw new ExtractionFailure(
            'too_many_pages',
            `The file has ${String((error.details as { pages?: number } | undefined)?.pages ?? 'too many')} pages; at most ${options.maxPages} are read. Upload the invoice pages only.`,
            error.details as Record<string, unknown> | undefined,
            { cause: error },
          );
        case 'IMAGE_TOO_LARGE':
          throw new ExtractionFailure(
            'image_too_large',
            'The image is too large to read: scan or photograph the invoice at a lower resolution (300 DPI is enough).',
            error.details as Record<string, unknown> | undefined,
            { cause: error },
          );
        case 'PDF_ENCRYPTED':
          throw new ExtractionFailure(
            'encrypted_pdf',
            'The PDF is protected by a password: upload an unprotected copy.',
            undefined,
            {
              cause: error,
            },
          );
        case 'EMPTY_DOCUMENT':
          throw new ExtractionFailure(
            'no_pages',
            'The file has no pages: upload the invoice again.',
            undefined,
            { cause: error },
          );
        default:
          throw new ExtractionFailure(
            'corrupt_file',
            'The image cannot be read (it is damaged or not an image): scan or photograph the invoice again.',
            { reason: error.message },
            { cause: error },
          );
      }
    }
    throw error;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
