import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/files.ts';
import { generatedBody, readAll, sha256Of } from '../../../test/helpers/streams.ts';
import { createLocalStorage } from './local-storage.ts';
import { RangeNotSatisfiableError, StorageNotFoundError } from './storage.ts';

const text = (value: string) => Readable.from([Buffer.from(value)]);

/** Every file under a folder, as paths relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('local storage', () => {
  it('stores a streamed body under its key and reads it back, whole or by range', async () => {
    const root = await tempDir();
    const storage = createLocalStorage(root);
    const body = generatedBody(3 * 1024 * 1024 + 17);
    expect(await storage.put('org/file/original', body.stream, { contentType: 'application/pdf' })).toEqual({
      size: 3 * 1024 * 1024 + 17,
    });
    expect(await filesUnder(root)).toEqual(['org/file/original']);

    const whole = await storage.get('org/file/original');
    expect(whole).toMatchObject({ size: 3 * 1024 * 1024 + 17, contentLength: 3 * 1024 * 1024 + 17 });
    expect(whole.range).toBeUndefined();
    expect(await sha256Of(whole.body)).toBe(body.sha256());

    await storage.put('org/small/original', text('0123456789'), { contentType: 'text/plain' });
    const part = await storage.get('org/small/original', { start: 2, end: 4 });
    expect(part).toMatchObject({ size: 10, contentLength: 3, range: { start: 2, end: 4 } });
    expect((await readAll(part.body)).toString()).toBe('234');
    const clamped = await storage.get('org/small/original', { start: 8, end: 99 });
    expect(clamped).toMatchObject({ contentLength: 2, range: { start: 8, end: 9 } });
    expect((await readAll(clamped.body)).toString()).toBe('89');
    await expect(storage.get('org/small/original', { start: 10, end: 12 })).rejects.toBeInstanceOf(
      RangeNotSatisfiableError,
    );
    expect(await storage.stat('org/small/original')).toEqual({ size: 10 });
    expect(await storage.exists('org/small/original')).toBe(true);
  });

  it('leaves nothing under the key, and no temporary file, when the body fails midway', async () => {
    const root = await tempDir();
    const storage = createLocalStorage(root);
    const failing = generatedBody(4 * 1024 * 1024, { failAfter: 1024 * 1024 });
    await expect(
      storage.put('org/broken/original', failing.stream, { contentType: 'application/pdf' }),
    ).rejects.toThrow('the body failed midway (test)');
    expect(await storage.exists('org/broken/original')).toBe(false);
    expect(await filesUnder(root)).toEqual([]);
  });

  it('replaces an object whole: a failed replacement keeps the old bytes', async () => {
    const root = await tempDir();
    const storage = createLocalStorage(root);
    await storage.put('org/file/original', text('first version'), { contentType: 'text/plain' });
    const failing = generatedBody(1024 * 1024, { failAfter: 128 * 1024 });
    await expect(
      storage.put('org/file/original', failing.stream, { contentType: 'text/plain' }),
    ).rejects.toThrow();
    expect((await readAll((await storage.get('org/file/original')).body)).toString()).toBe('first version');
    await storage.put('org/file/original', text('second version'), { contentType: 'text/plain' });
    expect((await readAll((await storage.get('org/file/original')).body)).toString()).toBe('second version');
    expect(await filesUnder(root)).toEqual(['org/file/original']);
  });

  it('deletes an object and its emptied folder; deleting again or a missing key is fine', async () => {
    const root = await tempDir();
    const storage = createLocalStorage(root);
    await storage.put('org/file/original', text('bytes'), { contentType: 'text/plain' });
    await storage.put('org/file/thumbnail.webp', text('thumb'), { contentType: 'image/webp' });
    await storage.delete('org/file/original');
    expect(await filesUnder(root)).toEqual(['org/file/thumbnail.webp']);
    await storage.delete('org/file/thumbnail.webp');
    await expect(fs.stat(path.join(root, 'org/file'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(storage.delete('org/file/thumbnail.webp')).resolves.toBeUndefined();
    await expect(storage.get('org/file/original')).rejects.toBeInstanceOf(StorageNotFoundError);
    expect(await storage.stat('org/file/original')).toBeUndefined();
  });

  it('refuses keys that could leave its folder or hide as temporary files', async () => {
    const root = await tempDir();
    const storage = createLocalStorage(root);
    for (const key of [
      '../outside',
      'org/../../etc/passwd',
      '/absolute',
      '.hidden',
      'org/.x',
      'a//b',
      '',
      'a/b/',
    ]) {
      await expect(storage.put(key, text('x'), { contentType: 'text/plain' }), key).rejects.toThrow(
        /Invalid storage key/,
      );
      await expect(storage.get(key), key).rejects.toThrow(/Invalid storage key/);
    }
    expect(await filesUnder(path.dirname(root))).not.toContain('outside');
  });

  it('passes its health check', async () => {
    await expect(createLocalStorage(await tempDir()).check()).resolves.toBeUndefined();
  });
});
