import { sql, type Transaction } from 'kysely';
import type { DB, FileCategory } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/**
 * File rows. Request handling runs these in the tenant transaction (app role, organisation set),
 * and each also filters by `org_id`: the filter states intent, row-level security guarantees it.
 * The purge alone runs as the owner (it works across stores, outside any request).
 */

const fileColumns = [
  'id',
  'org_id',
  'category',
  'original_filename',
  'mime_type',
  'size_bytes',
  'sha256',
  'storage_key',
  'title',
  'description',
  'tags',
  'related_id',
  'thumbnail_key',
  'uploaded_by',
  'created_at',
  'deleted_at',
] as const;

export interface NewFile {
  id: string;
  org_id: string;
  category: FileCategory;
  original_filename: string;
  mime_type: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  title: string | null;
  description: string | null;
  tags: string[];
  related_id: string | null;
  uploaded_by: string | null;
}

export async function insertFile(db: Executor, file: NewFile) {
  return db.insertInto('files').values(file).returning(fileColumns).executeTakeFirstOrThrow();
}

export type FileRow = Awaited<ReturnType<typeof insertFile>>;

/** A file that has not been deleted. */
export async function findLiveFile(db: Executor, orgId: string, id: string): Promise<FileRow | undefined> {
  return db
    .selectFrom('files')
    .select(fileColumns)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export interface FileFilters {
  page: number;
  limit: number;
  category?: FileCategory | undefined;
  relatedId?: string | undefined;
  tag?: string | undefined;
  search?: string | undefined;
  includeDeleted: boolean;
}

/** `%`, `_` and `\` are LIKE's own characters: searched for as themselves. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

export async function listFiles(db: Executor, orgId: string, filters: FileFilters) {
  let query = db.selectFrom('files').where('org_id', '=', orgId);
  if (!filters.includeDeleted) query = query.where('deleted_at', 'is', null);
  // A purged file has no bytes left to list, even to an admin.
  else query = query.where('purged_at', 'is', null);
  if (filters.category) query = query.where('category', '=', filters.category);
  if (filters.relatedId) query = query.where('related_id', '=', filters.relatedId);
  if (filters.tag) query = query.where(sql<boolean>`tags @> array[${filters.tag}]::text[]`);
  if (filters.search) {
    const pattern = likePattern(filters.search);
    query = query.where((eb) =>
      eb.or([eb('original_filename', 'ilike', pattern), eb('title', 'ilike', pattern)]),
    );
  }
  const [rows, total] = await Promise.all([
    query
      .select(fileColumns)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filters.limit)
      .offset((filters.page - 1) * filters.limit)
      .execute(),
    query.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.count) };
}

/** Marks a live file deleted; false when there is none (already deleted, or not this store's). */
export async function softDeleteFile(db: Executor, orgId: string, id: string, now: Date): Promise<boolean> {
  const deleted = await db
    .updateTable('files')
    .set({ deleted_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return deleted !== undefined;
}

/**
 * Records a file's thumbnail key and returns the one it replaces (null if none), locking the row
 * so two thumbnails stored at once each see the other's key. Undefined when the file is gone.
 */
export async function replaceThumbnailKey(
  db: Transaction<DB>,
  orgId: string,
  id: string,
  key: string,
): Promise<{ previous: string | null } | undefined> {
  const current = await db
    .selectFrom('files')
    .select('thumbnail_key')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  if (!current) return undefined;
  await db
    .updateTable('files')
    .set({ thumbnail_key: key })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
  return { previous: current.thumbnail_key };
}

/**
 * The next deleted files to purge, locked until the caller's transaction ends. SKIP LOCKED: a
 * purge running at the same time takes other rows, never the same ones; once this transaction
 * commits them as purged, no later run selects them again.
 */
export async function lockFilesToPurge(trx: Transaction<DB>, deletedBefore: Date, limit: number) {
  return trx
    .selectFrom('files')
    .select(['id', 'storage_key', 'thumbnail_key'])
    .where('deleted_at', '<', deletedBefore)
    .where('purged_at', 'is', null)
    .orderBy('deleted_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function markPurged(trx: Transaction<DB>, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await trx.updateTable('files').set({ purged_at: now }).where('id', 'in', ids).execute();
}
