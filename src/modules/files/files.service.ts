import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { DB, FileCategory } from '../../platform/db/schema.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { paginate, type Pagination } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import { timeOrderedId } from '../../platform/ids.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Platform } from '../../platform/platform.ts';
import type { ByteRange, Storage, StoredObject } from '../../platform/storage/storage.ts';
import type { AuthContext } from '../auth/guard.ts';
import { dispositionFor, inspectUpload, PROCESSABLE, THUMBNAIL_SOURCES } from './file-types.ts';
import * as repo from './files.repository.ts';
import type { FileRow } from './files.repository.ts';
import type { FileRecord, ListQuery, UploadMetadata } from './files.schemas.ts';

/** How long a presigned download URL (FILE_DOWNLOAD_REDIRECT) stays valid. */
export const PRESIGNED_URL_SECONDS = 300;

/** Where a file's objects live: everything of one file under one prefix. */
export const originalKeyOf = (orgId: string, fileId: string) => `${orgId}/${fileId}/original`;

const THUMBNAIL_TYPES: Readonly<Record<string, string>> = {
  'image/webp': 'webp',
  'image/jpeg': 'jpg',
  'image/png': 'png',
};
const THUMBNAIL_TYPE_BY_EXTENSION = Object.fromEntries(
  Object.entries(THUMBNAIL_TYPES).map(([type, extension]) => [extension, type]),
);

export function toFileRecord(row: FileRow): FileRecord {
  const url = `/v1/files/${row.id}`;
  return {
    id: row.id,
    fileId: row.id,
    url,
    ...(row.thumbnail_key ? { thumbnailUrl: `${url}/thumbnail` } : {}),
    category: row.category,
    metadata: {
      filename: row.original_filename,
      size: Number(row.size_bytes),
      mimeType: row.mime_type,
      uploadedAt: new Date(row.created_at).toISOString(),
    },
    sha256: row.sha256,
    title: row.title,
    description: row.description,
    tags: row.tags,
    relatedId: row.related_id,
    uploadedBy: row.uploaded_by,
    deletedAt: row.deleted_at ? new Date(row.deleted_at).toISOString() : null,
  };
}

/** An upload whose bytes are stored and checked, and that has no row yet. */
export interface StagedFile {
  id: string;
  orgId: string;
  key: string;
  filename: string;
  mimeType: string;
  size: number;
  sha256: string;
}

export type DownloadAnswer =
  | { kind: 'redirect'; url: string }
  | { kind: 'not-modified'; etag: string }
  | { kind: 'unsatisfiable'; size: number }
  | { kind: 'bytes'; file: FileRow; etag: string; object: StoredObject };

export interface DownloadConditions {
  range?: string | undefined;
  ifRange?: string | undefined;
  ifNoneMatch?: string | undefined;
  /** A HEAD request: the headers only, so storage is not read. */
  headOnly?: boolean;
}

const notFound = () => errors.notFound('File');

/** What an upload of this category needs beyond `inventory:write`. */
export function assertMayUpload(auth: AuthContext, category: FileCategory): void {
  if (category === 'invoice' && !auth.permissions.has('invoice:process')) {
    throw errors.forbidden("Uploading an invoice needs the 'invoice:process' permission");
  }
}

export interface FilesServiceOptions {
  db: Kysely<DB>;
  storage: Storage;
  logger: Logger;
  maxBytes: number;
  /** FILE_DOWNLOAD_REDIRECT: answer downloads with a presigned URL where the storage has them. */
  downloadRedirect: boolean;
  /** Thumbnails and processing are queued here (files.jobs.ts). */
  queue: JobQueue;
}

export class FilesService {
  readonly #db: Kysely<DB>;
  readonly #storage: Storage;
  readonly #logger: Logger;
  readonly maxBytes: number;
  readonly #downloadRedirect: boolean;
  readonly #queue: JobQueue;

  constructor(options: FilesServiceOptions) {
    this.#queue = options.queue;
    this.#db = options.db;
    this.#storage = options.storage;
    this.#logger = options.logger;
    this.maxBytes = options.maxBytes;
    this.#downloadRedirect = options.downloadRedirect;
  }

  /**
   * Streams an upload into storage under a new id: its type decided from its first bytes (415
   * if not allowed), hashed and counted on the way, refused past FILE_MAX_BYTES (413). Nothing
   * stays stored when it fails; the upload's own errors (413, 415, a broken multipart body) are
   * thrown as they are, a failure of the storage as a 503.
   */
  async stage(
    auth: AuthContext,
    upload: { filename: string; declaredType: string; body: Readable },
  ): Promise<StagedFile> {
    const inspected = await inspectUpload(
      upload.body,
      { filename: upload.filename, mimeType: upload.declaredType },
      this.maxBytes,
    );
    const id = timeOrderedId();
    const key = originalKeyOf(auth.orgId, id);
    try {
      await this.#storage.put(key, inspected.stream, { contentType: inspected.mimeType });
    } catch (error) {
      const failure = inspected.failure();
      if (failure !== undefined) throw failure as Error;
      this.#logger.error({ err: error, key }, 'storing an upload failed');
      throw new AppError(503, 'STORAGE_UNAVAILABLE', 'File storage is not available; try again later');
    }
    const { size, sha256 } = inspected.digest();
    return {
      id,
      orgId: auth.orgId,
      key,
      filename: upload.filename,
      mimeType: inspected.mimeType,
      size,
      sha256,
    };
  }

  /** Removes the bytes of an upload that will not be recorded. */
  async discard(staged: StagedFile): Promise<void> {
    await this.#storage.delete(staged.key).catch((error: unknown) => {
      this.#logger.error({ err: error, key: staged.key }, 'could not remove the bytes of a refused upload');
    });
  }

  /** Writes the row of a staged upload; if that fails, its bytes are removed. */
  async record(
    auth: AuthContext,
    staged: StagedFile,
    fields: { category: FileCategory; metadata: UploadMetadata },
  ): Promise<FileRecord> {
    try {
      const row = await withTenant(this.#db, auth.orgId, async (trx) => {
        const inserted = await repo.insertFile(trx, {
          id: staged.id,
          org_id: auth.orgId,
          category: fields.category,
          original_filename: staged.filename,
          mime_type: staged.mimeType,
          size_bytes: staged.size,
          sha256: staged.sha256,
          storage_key: staged.key,
          title: fields.metadata.title ?? null,
          description: fields.metadata.description ?? null,
          tags: [...new Set(fields.metadata.tags ?? [])],
          related_id: fields.metadata.relatedId ?? null,
          uploaded_by: auth.userId,
        });
        // In the same transaction: a recorded image always gets its thumbnail made.
        if (THUMBNAIL_SOURCES.has(staged.mimeType)) {
          await this.#queue.enqueue(
            trx,
            'files:thumbnail',
            { fileId: staged.id },
            { orgId: auth.orgId, priority: 'low' },
          );
        }
        return inserted;
      });
      return toFileRecord(row);
    } catch (error) {
      await this.discard(staged);
      throw error;
    }
  }

  /**
   * POST /v1/files/:id/process: queues OCR or image analysis of a stored file; the result is read
   * through the job (GET /v1/jobs/:id).
   */
  async process(
    auth: AuthContext,
    id: string,
    request: { type: 'ocr' | 'image_analysis'; options?: { language?: string } },
  ): Promise<{ jobId: string; status: 'processing' }> {
    const file = await this.#live(auth, id);
    if (file.category === 'invoice' && !auth.permissions.has('invoice:process')) {
      throw errors.forbidden("Processing an invoice needs the 'invoice:process' permission");
    }
    if (!PROCESSABLE[request.type].has(file.mime_type)) {
      throw new AppError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `${request.type} reads ${[...PROCESSABLE[request.type]].join(', ')}; this file is ${file.mime_type}`,
      );
    }
    const jobId = await withTenant(this.#db, auth.orgId, (trx) =>
      this.#queue.enqueue(
        trx,
        'files:process',
        {
          fileId: id,
          type: request.type,
          ...(request.options?.language ? { language: request.options.language } : {}),
        },
        { orgId: auth.orgId, requestedBy: auth.userId },
      ),
    );
    return { jobId: jobId!, status: 'processing' };
  }

  async list(auth: AuthContext, query: ListQuery): Promise<{ files: FileRecord[]; pagination: Pagination }> {
    if (query.includeDeleted && auth.role !== 'admin') {
      throw errors.forbidden('Only admins list deleted files (includeDeleted)');
    }
    const { rows, total } = await withTenant(this.#db, auth.orgId, (trx) =>
      repo.listFiles(trx, auth.orgId, query),
    );
    return { files: rows.map(toFileRecord), pagination: paginate(query.page, query.limit, total) };
  }

  async get(auth: AuthContext, id: string): Promise<FileRecord> {
    return toFileRecord(await this.#live(auth, id));
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    const deleted = await withTenant(this.#db, auth.orgId, (trx) =>
      repo.softDeleteFile(trx, auth.orgId, id, new Date()),
    );
    if (!deleted) throw notFound();
  }

  /**
   * What to answer a download with: a redirect to a presigned URL (S3 with
   * FILE_DOWNLOAD_REDIRECT), 304 when the client has these bytes (If-None-Match), 416 for a range
   * past the end, else the bytes, whole or the one range asked for.
   */
  async download(auth: AuthContext, id: string, conditions: DownloadConditions): Promise<DownloadAnswer> {
    const file = await this.#live(auth, id);
    const etag = `"${file.sha256}"`;
    if (this.#downloadRedirect && this.#storage.presignedGetUrl) {
      const url = await this.#storage.presignedGetUrl(file.storage_key, PRESIGNED_URL_SECONDS, {
        filename: file.original_filename,
        contentType: file.mime_type,
        disposition: dispositionFor(file.mime_type),
      });
      return { kind: 'redirect', url };
    }
    if (conditions.ifNoneMatch !== undefined && etagMatches(conditions.ifNoneMatch, etag)) {
      return { kind: 'not-modified', etag };
    }
    const size = Number(file.size_bytes);
    // If-Range: the range only holds for the bytes the client has; other bytes are sent whole.
    const rangeApplies = conditions.ifRange === undefined || conditions.ifRange.trim() === etag;
    const range =
      rangeApplies && conditions.range !== undefined ? parseRange(conditions.range, size) : undefined;
    if (range === 'unsatisfiable') return { kind: 'unsatisfiable', size };
    const object: StoredObject = conditions.headOnly
      ? {
          body: Readable.from([]),
          size,
          contentLength: range ? range.end - range.start + 1 : size,
          ...(range ? { range } : {}),
        }
      : await this.#storage.get(file.storage_key, range);
    return { kind: 'bytes', file, etag, object };
  }

  async thumbnail(auth: AuthContext, id: string): Promise<{ object: StoredObject; mimeType: string }> {
    const file = await this.#live(auth, id);
    if (!file.thumbnail_key) throw errors.notFound('Thumbnail');
    const extension = path.extname(file.thumbnail_key).slice(1);
    const object = await this.#storage.get(file.thumbnail_key);
    return { object, mimeType: THUMBNAIL_TYPE_BY_EXTENSION[extension] ?? 'application/octet-stream' };
  }

  async #live(auth: AuthContext, id: string): Promise<FileRow> {
    const file = await withTenant(this.#db, auth.orgId, (trx) => repo.findLiveFile(trx, auth.orgId, id));
    if (!file) throw notFound();
    return file;
  }
}

/** If-None-Match: `*`, or a list of entity tags (weak ones compare by their opaque part). */
function etagMatches(header: string, etag: string): boolean {
  const wanted = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  return wanted.includes('*') || wanted.includes(etag);
}

/**
 * One `bytes=` range against a size, as RFC 9110 reads it: `a-b`, `a-` or `-n` (the last n
 * bytes). A header that is not one valid range (another unit, several ranges, garbage) is
 * ignored, and the whole file is sent, as the RFC allows. A valid range that starts past the end
 * (or any range of an empty file) is unsatisfiable: 416.
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

// ---------------------------------------------------------------------------------------------
// For jobs (processing, thumbnails, the purge): they run outside a request, on the platform.

type FilesPlatform = Pick<Platform, 'database' | 'storage' | 'scratch' | 'config'>;

export interface StoredFileInfo {
  id: string;
  orgId: string;
  category: FileCategory;
  filename: string;
  mimeType: string;
  size: number;
  sha256: string;
}

async function liveFileFor(platform: FilesPlatform, orgId: string, fileId: string): Promise<FileRow> {
  const file = await withTenant(platform.database.db, orgId, (trx) => repo.findLiveFile(trx, orgId, fileId));
  if (!file) throw notFound();
  return file;
}

const infoOf = (file: FileRow): StoredFileInfo => ({
  id: file.id,
  orgId: file.org_id,
  category: file.category,
  filename: file.original_filename,
  mimeType: file.mime_type,
  size: Number(file.size_bytes),
  sha256: file.sha256,
});

/**
 * A stored file's bytes as a stream (for a processing job). Throws a 404 AppError when the file
 * does not exist in that store or has been deleted. The caller must read `body` to its end or
 * destroy it.
 */
export async function openStoredFile(
  platform: FilesPlatform,
  orgId: string,
  fileId: string,
): Promise<{ file: StoredFileInfo; body: Readable }> {
  const file = await liveFileFor(platform, orgId, fileId);
  const { body } = await platform.storage.get(file.storage_key);
  return { file: infoOf(file), body };
}

/**
 * Runs `work` with a stored file copied to a temporary path (for tools that need a file, such
 * as OCR), and removes the copy when `work` ends. The copy is checked against the file's SHA-256:
 * bytes that changed in storage are an error, not silently processed.
 */
export async function withStoredFileOnDisk<T>(
  platform: FilesPlatform,
  orgId: string,
  fileId: string,
  work: (filePath: string, file: StoredFileInfo) => Promise<T>,
): Promise<T> {
  const { file, body } = await openStoredFile(platform, orgId, fileId);
  await mkdir(platform.scratch.dir, { recursive: true });
  const extension = path
    .extname(file.filename)
    .replace(/[^.A-Za-z0-9]/g, '')
    .slice(0, 10);
  const copy = path.join(
    platform.scratch.dir,
    `file-${file.id}-${randomBytes(4).toString('hex')}${extension}`,
  );
  try {
    const hash = createHash('sha256');
    await pipeline(
      body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(copy, { flags: 'wx' }),
    );
    if (hash.digest('hex') !== file.sha256) {
      throw new Error(`The stored bytes of file ${file.id} do not match its SHA-256`);
    }
    return await work(copy, file);
  } finally {
    await rm(copy, { force: true });
  }
}

/**
 * Stores a thumbnail of a file (a WebP, JPEG or PNG that a processing job made, as a Buffer or a
 * stream) and records it: the file's `thumbnailUrl` appears from then on. A thumbnail stored again
 * replaces the old one.
 * Throws a 404 AppError (and keeps nothing) when the file is gone or deleted meanwhile.
 */
export async function storeThumbnail(
  platform: FilesPlatform,
  orgId: string,
  fileId: string,
  body: Readable | Buffer,
  contentType: string,
): Promise<{ key: string; size: number }> {
  const extension = THUMBNAIL_TYPES[contentType];
  if (!extension) throw new Error(`A thumbnail is WebP, JPEG or PNG, not ${contentType}`);
  await liveFileFor(platform, orgId, fileId);
  const key = `${orgId}/${fileId}/thumbnail.${extension}`;
  const { size } = await platform.storage.put(
    key,
    Buffer.isBuffer(body) ? Readable.from([body]) : body,
    Buffer.isBuffer(body) ? { contentType, contentLength: body.length } : { contentType },
  );
  const recorded = await withTenant(platform.database.db, orgId, (trx) =>
    repo.replaceThumbnailKey(trx, orgId, fileId, key),
  );
  if (!recorded) {
    await platform.storage.delete(key);
    throw notFound();
  }
  if (recorded.previous && recorded.previous !== key) await platform.storage.delete(recorded.previous);
  return { key, size };
}

const PURGE_BATCH = 100;
const DAY_MS = 86_400_000;

/**
 * Removes the bytes (and thumbnail) of files deleted more than FILE_RETENTION_DAYS before `now`
 * and marks them purged. For a scheduled job; it works across stores, as the owner role.
 *
 * Idempotent and safe to run twice at once: each batch is locked (FOR UPDATE SKIP LOCKED) in a
 * transaction that deletes the objects and marks the rows before it commits, so a concurrent run
 * takes other rows, and a run that fails midway leaves its rows unmarked for the next run
 * (deleting an object twice is not an error). A file whose bytes cannot be removed is left for
 * the next run, and this run stops after that batch rather than retry it at once.
 */
export async function purgeDeletedFiles(
  platform: FilesPlatform,
  now: Date = new Date(),
  logger?: Logger,
): Promise<{ purged: number; failed: number }> {
  const deletedBefore = new Date(now.getTime() - platform.config.fileRetentionDays * DAY_MS);
  let purged = 0;
  let failed = 0;
  for (;;) {
    const batch = await platform.database.db.transaction().execute(async (trx) => {
      const rows = await repo.lockFilesToPurge(trx, deletedBefore, PURGE_BATCH);
      const done: string[] = [];
      for (const row of rows) {
        try {
          await platform.storage.delete(row.storage_key);
          if (row.thumbnail_key) await platform.storage.delete(row.thumbnail_key);
          done.push(row.id);
        } catch (error) {
          logger?.error({ err: error, fileId: row.id }, 'could not purge the bytes of a deleted file');
        }
      }
      await repo.markPurged(trx, done, now);
      return { selected: rows.length, done: done.length };
    });
    purged += batch.done;
    failed += batch.selected - batch.done;
    if (batch.selected < PURGE_BATCH || batch.done < batch.selected) break;
  }
  return { purged, failed };
}

/**
 * Records an object the service stored itself (a store backup) as a file of the store, with no
 * uploader, so it is listed and downloaded like an upload.
 */
export async function recordServiceFile(
  platform: Pick<Platform, 'database'>,
  orgId: string,
  file: {
    id: string;
    key: string;
    category: FileCategory;
    filename: string;
    mimeType: string;
    size: number;
    sha256: string;
    title: string;
  },
): Promise<FileRecord> {
  const row = await withTenant(platform.database.db, orgId, (trx) =>
    repo.insertFile(trx, {
      id: file.id,
      org_id: orgId,
      category: file.category,
      original_filename: file.filename,
      mime_type: file.mimeType,
      size_bytes: file.size,
      sha256: file.sha256,
      storage_key: file.key,
      title: file.title,
      description: null,
      tags: [],
      related_id: null,
      uploaded_by: null,
    }),
  );
  return toFileRecord(row);
}
