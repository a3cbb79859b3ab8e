import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../platform/http/errors.ts';

/**
 * What an upload is, decided from its bytes, never from its name: the first SNIFF_BYTES go
 * through `file-type` (magic numbers) and must be one of the kinds below. CSV, plain text and
 * XML have no magic number that says which they are: they are accepted when the name or the
 * declared type says csv, txt or xml AND every byte of the file is UTF-8 text without NUL,
 * checked while it streams. Anything else is a 415 naming what was detected.
 */

/** Kinds recognised by their magic numbers: file-type's `ext` → the MIME type stored and served. */
export const BINARY_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  jpg: 'image/jpeg',
  png: 'image/png',
  tif: 'image/tiff',
  webp: 'image/webp',
  gif: 'image/gif',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** Text kinds, told by the declared name or type, checked to be UTF-8 text without NUL. */
export const TEXT_TYPES: Readonly<Record<string, string>> = {
  csv: 'text/csv',
  txt: 'text/plain',
  xml: 'application/xml',
};

/** Every type an upload may be stored (and served) as. */
export const ALLOWED_MIME_TYPES = [...Object.values(BINARY_TYPES), ...Object.values(TEXT_TYPES)];

/** What a browser may show in place (Content-Disposition: inline); the rest is downloaded. */
const SHOWN_INLINE = new Set(['application/pdf', 'image/jpeg', 'image/png', 'image/gif', 'image/webp']);
export const dispositionFor = (mimeType: string): 'inline' | 'attachment' =>
  SHOWN_INLINE.has(mimeType) ? 'inline' : 'attachment';

/**
 * Bytes read before deciding. file-type needs 4,100 for most kinds; an XLSX is told from other
 * ZIPs by its first entries ([Content_Types].xml), which a larger sample holds whole.
 */
export const SNIFF_BYTES = 64 * 1024;

const DECLARED_TEXT_TYPES: Readonly<Record<string, string>> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/comma-separated-values': 'csv',
  'text/plain': 'txt',
  'application/xml': 'xml',
  'text/xml': 'xml',
};

/** The text kind the client says the file is, by its name's extension, else its declared type. */
export function declaredTextKind(filename: string, declaredType: string): string | undefined {
  const extension = path.extname(filename).slice(1).toLowerCase();
  if (extension in TEXT_TYPES) return extension;
  const type = declaredType.split(';')[0]!.trim().toLowerCase();
  return DECLARED_TEXT_TYPES[type];
}

export function unsupportedType(detected: string, reason?: string): AppError {
  const allowed = 'PDF, JPEG, PNG, TIFF, WebP, GIF, XLSX, or CSV/TXT/XML as UTF-8 text';
  return new AppError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `The file is ${detected}${reason ? ` (${reason})` : ''}: send ${allowed}`,
    { detectedType: detected, allowed: ALLOWED_MIME_TYPES },
  );
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError(
    413,
    'PAYLOAD_TOO_LARGE',
    `The file is larger than ${maxBytes} bytes (FILE_MAX_BYTES)`,
    {
      maxBytes,
    },
  );
}

/**
 * UTF-8 validity across chunk boundaries: a chunk is checked up to its last complete character;
 * the bytes of a character cut by the boundary are carried into the next chunk.
 */
class Utf8TextCheck {
  #carry: Buffer = Buffer.alloc(0);

  /** Why the bytes so far are not text, or null. */
  push(chunk: Buffer): string | null {
    if (chunk.includes(0)) return 'it contains NUL bytes';
    const bytes = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const cut = completeLength(bytes);
    if (!isUtf8(bytes.subarray(0, cut))) return 'it is not valid UTF-8 text';
    this.#carry = Buffer.from(bytes.subarray(cut));
    return null;
  }

  end(): string | null {
    return this.#carry.length > 0 ? 'it ends inside a UTF-8 character' : null;
  }
}

/** How many leading bytes end on a character boundary (a cut multi-byte character excluded). */
function completeLength(bytes: Buffer): number {
  for (let index = bytes.length - 1; index >= Math.max(0, bytes.length - 4); index--) {
    const byte = bytes[index]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return bytes.length - index < length ? index : bytes.length;
  }
  return bytes.length; // only continuation bytes at the end: invalid, and isUtf8 says so
}

export interface InspectedUpload {
  /** The MIME type the file is stored and served as. */
  mimeType: string;
  /** Every byte of the upload, checked as it passes (size, and text validity for text kinds). */
  stream: Readable;
  /** Size and SHA-256 of what passed; complete once `stream` has ended. */
  digest(): { size: number; sha256: string };
  /** The error `stream` failed with, when it did: the upload's fault, not the storage's. */
  failure(): unknown;
}

/**
 * Reads the first bytes of an upload, decides its type (or throws 415), and returns a stream of
 * the whole upload that hashes and counts it on the way and fails with 413 past `maxBytes` or
 * with 415 when a text kind turns out not to be text. Only SNIFF_BYTES are ever held at once.
 */
export async function inspectUpload(
  source: Readable,
  declared: { filename: string; mimeType: string },
  maxBytes: number,
): Promise<InspectedUpload> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  try {
    while (headLength < SNIFF_BYTES) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        break;
      }
      head.push(next.value);
      headLength += next.value.length;
      if (headLength > maxBytes) throw tooLarge(maxBytes);
    }
  } catch (error) {
    await chunks.return?.();
    throw error;
  }
  const headBytes = Buffer.concat(head);

  let mimeType: string;
  let text: Utf8TextCheck | undefined;
  try {
    const { fileTypeFromBuffer } = await import('file-type');
    const detected = await fileTypeFromBuffer(headBytes);
    const binary = detected ? BINARY_TYPES[detected.ext] : undefined;
    if (binary) {
      mimeType = binary;
    } else if (detected && detected.ext !== 'xml') {
      throw unsupportedType(`${detected.mime} (${detected.ext})`);
    } else {
      const kind = declaredTextKind(declared.filename, declared.mimeType);
      text = new Utf8TextCheck();
      const problem = text.push(headBytes) ?? (ended ? text.end() : null);
      if (problem)
        throw unsupportedType(detected ? `${detected.mime} (${detected.ext})` : 'not text', problem);
      if (!kind) {
        throw unsupportedType(
          detected ? `${detected.mime} (${detected.ext})` : 'text of no recognised kind',
          'text is accepted when its name or declared type says csv, txt or xml',
        );
      }
      mimeType = TEXT_TYPES[kind]!;
    }
  } catch (error) {
    await chunks.return?.();
    throw error;
  }

  const hash = createHash('sha256');
  let size = headLength;
  let failure: unknown;
  async function* everything(): AsyncGenerator<Buffer> {
    try {
      hash.update(headBytes);
      yield headBytes;
      if (ended) return;
      for (;;) {
        const next = await chunks.next();
        if (next.done) break;
        const chunk = next.value;
        size += chunk.length;
        if (size > maxBytes) throw tooLarge(maxBytes);
        const problem = text?.push(chunk);
        if (problem) throw unsupportedType('not text', problem);
        hash.update(chunk);
        yield chunk;
      }
      const problem = text?.end();
      if (problem) throw unsupportedType('not text', problem);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // Stops reading the upload (and lets the multipart parser go) when it ends early.
      await chunks.return?.();
    }
  }

  let digest: { size: number; sha256: string } | undefined;
  return {
    mimeType,
    stream: Readable.from(everything(), { objectMode: false }),
    digest: () => (digest ??= { size, sha256: hash.digest('hex') }),
    failure: () => failure,
  };
}

/** Types a thumbnail is made for (images, and a PDF's first page). */
export const THUMBNAIL_SOURCES = new Set([
  'image/jpeg',
  'image/png',
  'image/tiff',
  'image/webp',
  'image/gif',
  'application/pdf',
]);

/** What POST /v1/files/:id/process can do with which types. */
export const PROCESSABLE: Record<'ocr' | 'image_analysis', ReadonlySet<string>> = {
  ocr: new Set(['application/pdf', 'image/png', 'image/jpeg', 'image/tiff', 'image/webp']),
  image_analysis: new Set(['image/jpeg', 'image/png', 'image/tiff', 'image/webp', 'image/gif']),
};
