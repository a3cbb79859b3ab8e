import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { FIXTURES, storedFiles, uploaded } from '../../../test/helpers/uploads.ts';
import { timeOrderedId } from '../../platform/ids.ts';
import type { Platform } from '../../platform/platform.ts';
import { insertFile } from './files.repository.ts';
import { originalKeyOf, purgeDeletedFiles, storeThumbnail } from './files.service.ts';

/** The purge of deleted files' bytes, run as a scheduled job would run it. */

let t: TestApp;
let store: Session;
let platform: Platform;
const DAY = 86_400_000;

beforeAll(async () => {
  // No job workers (WORKER_MODE=api): the test stores thumbnails itself, and an upload's own
  // files:thumbnail job writing the same key in the background raced the purge's readings.
  t = await createTestApp({ fileRetentionDays: 30, workerMode: 'api' });
  store = await registerStore(t.app, 'Purge Grocer');
  platform = t.app.platform;
});
afterAll(() => t.close());

const orgId = () => store.user.organization.id;

/** Backdates a file's deletion (as the owner, as a migration or an operator would). */
async function deletedDaysAgo(id: string, days: number, now: Date) {
  await t.testDatabase.database.db
    .updateTable('files')
    .set({ deleted_at: new Date(now.getTime() - days * DAY) })
    .where('id', '=', id)
    .execute();
}

async function rowOf(id: string) {
  return t.testDatabase.database.db
    .selectFrom('files')
    .select(['deleted_at', 'purged_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Files written straight to storage and the table, many at once. */
async function deletedFiles(count: number, deletedAt: Date): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const id = timeOrderedId();
    const key = originalKeyOf(orgId(), id);
    await platform.storage.put(key, Readable.from([FIXTURES.pdf]), { contentType: 'application/pdf' });
    await insertFile(t.testDatabase.database.db, {
      id,
      org_id: orgId(),
      category: 'document',
      original_filename: `bulk-${index}.pdf`,
      mime_type: 'application/pdf',
      size_bytes: FIXTURES.pdf.length,
      sha256: '0'.repeat(64),
      storage_key: key,
      title: null,
      description: null,
      tags: [],
      related_id: null,
      uploaded_by: store.user.id,
    });
    ids.push(id);
  }
  await t.testDatabase.database.db
    .updateTable('files')
    .set({ deleted_at: deletedAt })
    .where('id', 'in', ids)
    .execute();
  return ids;
}

describe('purgeDeletedFiles', () => {
  it('removes the bytes and thumbnail of files deleted longer ago than the retention, once', async () => {
    const now = new Date();
    const upload = (name: string) =>
      uploaded(t.app, store, { category: 'document', file: { filename: name, content: FIXTURES.png } });
    const [old, oldWithThumbnail, recent, live] = await Promise.all(
      ['old.png', 'thumb.png', 'recent.png', 'live.png'].map((name) => upload(name)),
    );
    await storeThumbnail(
      platform,
      orgId(),
      oldWithThumbnail!.id,
      Readable.from([FIXTURES.webp]),
      'image/webp',
    );
    for (const file of [old!, oldWithThumbnail!, recent!]) {
      const response = await t.app.inject({ method: 'DELETE', url: file.url, headers: bearer(store) });
      expect(response.statusCode).toBe(204);
    }
    await deletedDaysAgo(old!.id, 31, now);
    await deletedDaysAgo(oldWithThumbnail!.id, 45, now);
    await deletedDaysAgo(recent!.id, 29, now);

    expect(await purgeDeletedFiles(platform, now)).toEqual({ purged: 2, failed: 0 });
    const objects = await storedFiles(t.app.config.dataDir);
    for (const file of [old!, oldWithThumbnail!]) {
      expect(objects.filter((key) => key.includes(file.id))).toEqual([]);
      expect((await rowOf(file.id)).purged_at).toEqual(now);
    }
    expect(objects).toContain(`${orgId()}/${recent!.id}/original`);
    expect(objects).toContain(`${orgId()}/${live!.id}/original`);
    expect((await rowOf(recent!.id)).purged_at).toBeNull();

    // Again: nothing left to do.
    expect(await purgeDeletedFiles(platform, now)).toEqual({ purged: 0, failed: 0 });
    // A purged file is not listed even to an admin asking for deleted files; the recent one is.
    const listed = await t.app.inject({
      method: 'GET',
      url: '/v1/files?includeDeleted=true&limit=200',
      headers: bearer(store),
    });
    const ids = listed.json().data.map((file: { id: string }) => file.id);
    expect(ids).toContain(recent!.id);
    expect(ids).not.toContain(old!.id);

    // Once its retention is over, the recent one goes too.
    expect(await purgeDeletedFiles(platform, new Date(now.getTime() + 2 * DAY))).toEqual({
      purged: 1,
      failed: 0,
    });
  });

  it('purges each file once when two runs go at the same time', async () => {
    const now = new Date();
    const ids = await deletedFiles(230, new Date(now.getTime() - 40 * DAY));
    const [first, second] = await Promise.all([
      purgeDeletedFiles(platform, now),
      purgeDeletedFiles(platform, now),
    ]);
    expect(first.purged + second.purged).toBe(230);
    expect(first.failed + second.failed).toBe(0);
    const left = await t.testDatabase.database.db
      .selectFrom('files')
      .select('id')
      .where('id', 'in', ids)
      .where('purged_at', 'is', null)
      .execute();
    expect(left).toEqual([]);
    const objects = await storedFiles(t.app.config.dataDir);
    expect(objects.filter((key) => ids.some((id) => key.includes(id)))).toEqual([]);
  });

  it('leaves a file whose bytes cannot be removed for the next run, and purges the others', async () => {
    const now = new Date();
    const [stuck, fine] = await deletedFiles(2, new Date(now.getTime() - 60 * DAY));
    const failing: Platform = {
      ...platform,
      storage: {
        ...platform.storage,
        async delete(key) {
          if (key.includes(stuck!)) throw new Error('storage refused the delete (test)');
          return platform.storage.delete(key);
        },
      },
    };
    expect(await purgeDeletedFiles(failing, now)).toEqual({ purged: 1, failed: 1 });
    expect((await rowOf(stuck!)).purged_at).toBeNull();
    expect((await rowOf(fine!)).purged_at).toEqual(now);
    expect(await purgeDeletedFiles(platform, now)).toEqual({ purged: 1, failed: 0 });
    expect((await rowOf(stuck!)).purged_at).toEqual(now);
  });
});
