import { AppError, errors } from './errors.ts';

/**
 * An error met while reading the multipart body, as the client's fault (400/413/415) when it is:
 * busboy reports a truncated body, a bad boundary or a malformed part header as a plain Error,
 * which would otherwise be a 500. Errors of our own disk (they carry a syscall) stay 500s.
 * Shared by the routes that read multipart bodies themselves (bulk import, file upload).
 */
export function multipartError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  if (error instanceof AppError || 'syscall' in error) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_FILES_LIMIT') {
    return errors.validation('Send exactly one file, in a field named "file"', [
      { field: 'file', message: 'is sent more than once' },
    ]);
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return new AppError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'Send multipart/form-data with the file in a field named "file"',
    );
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return error;
  return new AppError(
    400,
    'MALFORMED_MULTIPART',
    `The multipart body could not be read (${error.message}): send multipart/form-data with the file in a part named "file"`,
  );
}
