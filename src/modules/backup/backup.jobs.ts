import { createHash } from 'node:crypto';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { timeOrderedId } from '../../platform/ids.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import { originalKeyOf } from '../files/files.service.ts';
import type { Storage } from '../../platform/storage/storage.ts';
import { BACKUP_TABLES, readBatch } from './backup.repository.ts';

const BATCH = 2_000;

export interface BackupResult {
  key: string;
  bytes: number;
  sha256: string;
  rows: Record<string, number>;
}

/**
 * `data:backup`: the store's data as gzipped JSON lines in storage, under `key`. The first line describes the file (format, version, when, what
 * tables); then one line per row, `{"table": …, "row": {…}}`, tables in BACKUP_TABLES's order.
 * Rows are read in batches by key, so a large store never sits in memory; on PostgreSQL all of
 * them come from one repeatable-read snapshot. On the embedded database each batch is its own
 * statement: one transaction would hold the single session (and every request) for the whole
 * backup.
 */
export async function backupStore(
  db: Kysely<DB>,
  kind: 'postgres' | 'pglite',
  storage: Pick<Storage, 'put'>,
  orgId: string,
  key: string,
  progress: (percent: number) => Promise<void>,
  now = new Date(),
): Promise<BackupResult> {
  const lines = new PassThrough();
  const gzip = createGzip();
  const hash = createHash('sha256');
  let bytes = 0;
  // Counted and hashed as it passes (a 'data' listener would start the flow before storage reads).
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const stored = storage.put(key, counted, { contentType: 'application/gzip' });
  const compressing = pipeline(lines, gzip, counted);
  const rows: Record<string, number> = {};
  const write = async (line: unknown) => {
    if (!lines.write(`${JSON.stringify(line)}\n`))
      await new Promise((resolve) => lines.once('drain', resolve));
  };
  const dump = async (reader: Kysely<DB>) => {
    await write({
      format: 'fresh-choice-backup',
      version: 1,
      storeId: orgId,
      createdAt: now.toISOString(),
      tables: BACKUP_TABLES.map((spec) => spec.table),
    });
    for (const [index, spec] of BACKUP_TABLES.entries()) {
      rows[spec.table] = 0;
      let after: string | null = null;
      for (;;) {
        const batch = await readBatch(reader, spec, orgId, after, BATCH);
        for (const { row } of batch) await write({ table: spec.table, row });
        rows[spec.table] = (rows[spec.table] ?? 0) + batch.length;
        if (batch.length < BATCH) break;
        after = batch.at(-1)!.key;
      }
      await progress(((index + 1) / BACKUP_TABLES.length) * 95);
    }
  };
  try {
    if (kind === 'postgres') {
      await db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(dump);
    } else {
      await dump(db);
    }
    lines.end();
  } catch (error) {
    lines.destroy(error as Error);
    await Promise.allSettled([compressing, stored]);
    throw error;
  }
  await compressing;
  await stored;
  return { key, bytes, sha256: hash.digest('hex'), rows };
}

export function defineBackupJob(
  queue: JobQueue,
  db: Kysely<DB>,
  kind: 'postgres' | 'pglite',
  storage: Pick<Storage, 'put'>,
  /** Records the stored backup as a file of the store (files module), so it is listed and downloadable. */
  recordFile: (orgId: string, fileId: string, backup: BackupResult, createdAt: Date) => Promise<unknown>,
): void {
  queue.define({
    type: 'data:backup',
    description:
      "Back up the store's data (items, lots, ledger, history, members, schedules) as a downloadable file",
    startPermission: 'settings:manage',
    retryLimit: 2,
    retryDelaySeconds: 60,
    expireInSeconds: 3 * 3600,
    async run(job) {
      if (!job.orgId) throw new Error('data:backup needs a store');
      const fileId = timeOrderedId();
      const now = new Date();
      const backup = await backupStore(
        db,
        kind,
        storage,
        job.orgId,
        originalKeyOf(job.orgId, fileId),
        (percent) => job.progress(percent),
        now,
      );
      await recordFile(job.orgId, fileId, backup, now);
      return { fileId, url: `/v1/files/${fileId}`, bytes: backup.bytes, rows: backup.rows };
    },
  });
}
