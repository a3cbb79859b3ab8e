import { AppError } from '../../platform/http/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import { purgeDeletedFiles, storeThumbnail, withStoredFileOnDisk } from './files.service.ts';
import { isProcessingError } from './processing/errors.ts';

type FilesPlatform = Pick<Platform, 'database' | 'storage' | 'scratch' | 'config'>;

/** A file deleted (or purged) before its job ran: nothing left to do, not an error to retry. */
const isGone = (error: unknown) => error instanceof AppError && error.status === 404;

/**
 * The files module's jobs. The processing libraries (sharp, PDF.js, tesseract.js, zxing-wasm) load
 * on a job's first use, so an API process that never runs one does not carry them. Their errors
 * (a corrupt or encrypted file, too many pages, a decompression bomb) are properties of the file:
 * such a job fails at once instead of retrying.
 */
export function defineFileJobs(queue: JobQueue, platform: FilesPlatform): void {
  queue.define<{ fileId: string }>({
    type: 'files:thumbnail',
    description: 'Make the thumbnail of an uploaded image or PDF (first page)',
    retryLimit: 2,
    expireInSeconds: 600,
    permanent: isProcessingError,
    async run(job) {
      const orgId = job.orgId!;
      try {
        return await withStoredFileOnDisk(platform, orgId, job.payload.fileId, async (filePath, file) => {
          const { makeThumbnail } = await import('./processing/thumbnail.ts');
          const thumbnail = await makeThumbnail(filePath, file.mimeType);
          const stored = await storeThumbnail(platform, orgId, file.id, thumbnail.buffer, thumbnail.mime);
          return { width: thumbnail.width, height: thumbnail.height, bytes: stored.size };
        });
      } catch (error) {
        if (isGone(error)) return { skipped: 'the file was deleted' };
        throw error;
      }
    },
  });

  queue.define<{ fileId: string; type: 'ocr' | 'image_analysis'; language?: string }>({
    type: 'files:process',
    description:
      'OCR (text of a PDF or an image) or image analysis (size, format, barcodes) of an uploaded file',
    retryLimit: 2,
    expireInSeconds: 1800,
    permanent: (error) => isProcessingError(error) || isGone(error),
    async run(job) {
      const { fileId, type, language } = job.payload;
      return withStoredFileOnDisk(platform, job.orgId!, fileId, async (filePath, file) => {
        await job.progress(10);
        if (type === 'ocr') {
          const { extractText } = await import('./processing/ocr.ts');
          const text = await extractText(filePath, file.mimeType, {
            ...(language ? { language } : {}),
            signal: job.signal,
          });
          return {
            fileId,
            type,
            text: text.text,
            pages: text.pages,
            method: text.method,
            pageTexts: text.pageTexts,
          };
        }
        const { analyseImage } = await import('./processing/image-analysis.ts');
        return { fileId, type, ...(await analyseImage(filePath)) };
      });
    },
  });

  queue.define({
    type: 'files:purge',
    description: 'Remove the bytes of files deleted more than FILE_RETENTION_DAYS ago',
    defaultSchedule: { name: 'Purge deleted files', cron: '30 3 * * *' },
    retryLimit: 3,
    async run(job) {
      // Scheduled per store, at night in its zone; the purge itself covers every store's expired
      // files and is safe to run concurrently, so whichever store's slot comes first does the work.
      return purgeDeletedFiles(platform, new Date(), job.logger);
    },
  });
}
