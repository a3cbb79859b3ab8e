import type { Readable } from 'node:stream';

/**
 * Where uploaded documents live: one interface, two drivers. `local` keeps objects on disk under
 * DATA_DIR/files (local-storage.ts, the embedded default); `s3` keeps them in an S3-compatible
 * bucket (s3-storage.ts: AWS, MinIO, Ceph, R2…). Callers never see paths or buckets, only keys.
 */
export interface Storage {
  readonly kind: 'local' | 's3';
  /** Proves the store can take a write: writes, reads back and removes a probe object. */
  check(): Promise<void>;
  /**
   * Stores `body` under `key`, replacing what was there. Either the whole body is stored or
   * nothing is: a body that fails midway (its stream errors) leaves no object, not a partial one.
   */
  put(key: string, body: Readable, options: PutOptions): Promise<{ size: number }>;
  /**
   * Reads an object, or the inclusive byte range of it. Throws StorageNotFoundError when there is
   * no such object and RangeNotSatisfiableError when the range starts past its end.
   */
  get(key: string, range?: ByteRange): Promise<StoredObject>;
  /** Removes an object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** The object's size, or undefined when there is none. */
  stat(key: string): Promise<ObjectStat | undefined>;
  /**
   * A URL anyone holding it can GET the object from for `seconds`, answered with this file name
   * and type. Only drivers whose objects are reachable by URL have it (S3).
   */
  presignedGetUrl?(key: string, seconds: number, answer: PresignedAnswer): Promise<string>;
  /** Lets go of connections (the platform calls it when it closes). */
  close?(): void;
}

export interface PutOptions {
  contentType: string;
  /** When known in advance; a driver may use it to send the body in one request. */
  contentLength?: number;
}

/** Bytes `start` to `end`, both included (as in an HTTP Range header). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObject {
  body: Readable;
  /** The whole object's size. */
  size: number;
  /** Bytes in `body`: the range's length, or the size. */
  contentLength: number;
  /** The range served, with `end` clamped to the object's last byte; absent for the whole object. */
  range?: ByteRange;
}

export interface ObjectStat {
  size: number;
}

export interface PresignedAnswer {
  filename: string;
  contentType: string;
  /** Content-Disposition type: inline for what a browser may show, else attachment. */
  disposition?: 'inline' | 'attachment';
}

export class StorageNotFoundError extends Error {
  override name = 'StorageNotFoundError';
  readonly code = 'ENOENT';
  constructor(key: string) {
    super(`No stored object under ${key}`);
  }
}

export class RangeNotSatisfiableError extends Error {
  override name = 'RangeNotSatisfiableError';
  readonly size: number;
  constructor(size: number) {
    super(`The range is not satisfiable for an object of ${size} bytes`);
    this.size = size;
  }
}

/**
 * Keys are slash-separated segments of letters, digits, `.`, `_` and `-`, never `.` or `..`
 * and never starting with a dot (the local driver's temporary files do): the same key is a safe
 * relative path on disk and a plain S3 key.
 */
const KEY = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}\/){0,7}[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export function assertValidKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`Invalid storage key: ${JSON.stringify(key.slice(0, 100))}`);
}

/**
 * Resolves a range against an object's size: `end` is clamped to the last byte. Throws
 * RangeNotSatisfiableError for a range that starts past the end (or an empty object).
 */
export function clampRange(range: ByteRange, size: number): ByteRange {
  if (
    !Number.isSafeInteger(range.start) ||
    !Number.isSafeInteger(range.end) ||
    range.start < 0 ||
    range.end < range.start ||
    range.start >= size
  ) {
    throw new RangeNotSatisfiableError(size);
  }
  return { start: range.start, end: Math.min(range.end, size - 1) };
}
