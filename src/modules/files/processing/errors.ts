import { AppError } from '../../../platform/http/errors.ts';

/**
 * Why a document could not be processed. Every one is a property of the file (or of the options
 * asked for), so running the same job again gives the same answer: a job should fail for good on
 * a ProcessingError and retry only on other errors (a missing file, a crashed worker).
 */
export type ProcessingErrorCode =
  /** The MIME type is not one this function reads. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** The bytes are not a readable image or PDF (truncated, damaged, or not what the type says). */
  | 'CORRUPT_FILE'
  /** The PDF needs a password to open. */
  | 'PDF_ENCRYPTED'
  /** The PDF has no pages. */
  | 'EMPTY_DOCUMENT'
  /** More pages than the caller allows (`maxPages`). */
  | 'PAGE_LIMIT_EXCEEDED'
  /** More pixels than allowed: a decompression bomb, or simply too large to decode safely. */
  | 'IMAGE_TOO_LARGE'
  /** No trained OCR data is installed for the language asked for. */
  | 'UNSUPPORTED_LANGUAGE';

const STATUS: Record<ProcessingErrorCode, number> = {
  UNSUPPORTED_MEDIA_TYPE: 415,
  CORRUPT_FILE: 422,
  PDF_ENCRYPTED: 422,
  EMPTY_DOCUMENT: 422,
  PAGE_LIMIT_EXCEEDED: 422,
  IMAGE_TOO_LARGE: 422,
  UNSUPPORTED_LANGUAGE: 422,
};

/** An AppError, so a route that lets one through renders it in the envelope with its code. */
export class ProcessingError extends AppError {
  override name = 'ProcessingError';
  declare readonly code: ProcessingErrorCode;

  constructor(
    code: ProcessingErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(STATUS[code], code, message, details);
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

export function isProcessingError(error: unknown, code?: ProcessingErrorCode): error is ProcessingError {
  return error instanceof ProcessingError && (code === undefined || error.code === code);
}
