import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertValidKey,
  type ByteRange,
  clampRange,
  type ObjectStat,
  type PutOptions,
  type Storage,
  StorageNotFoundError,
  type StoredObject,
} from './storage.ts';

export type { Storage } from './storage.ts';

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Objects as files under `root` (DATA_DIR/files), the key as the relative path.
 *
 * A write goes to a temporary file beside its target (`.<name>.<random>.partial`: keys never
 * start with a dot, so it can never be mistaken for an object), is flushed to the disk (fsync),
 * then renamed over the target, and the folder is flushed so the rename itself survives a power
 * cut. A crash or a failing body therefore never leaves a half-written file under a key: readers
 * see the old object or the whole new one. A crash can leave the temporary file behind, under a
 * name no key can have.
 */
export function createLocalStorage(root: string): Storage {
  const fileOf = (key: string) => {
    assertValidKey(key);
    return path.join(root, key);
  };

  async function put(key: string, body: Readable, _options: PutOptions): Promise<{ size: number }> {
    const target = fileOf(key);
    const folder = path.dirname(target);
    const temporary = path.join(
      folder,
      `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`,
    );
    try {
      const handle = await createExclusive(folder, temporary);
      // The stream closes the file when it ends or fails; `flush` fsyncs it before closing.
      await pipeline(body, handle.createWriteStream({ flush: true }));
      const { size } = await fs.stat(temporary);
      await fs.rename(temporary, target);
      await syncFolder(folder);
      return { size };
    } catch (error) {
      // A body that was never read (the file could not be made) is let go, not left hanging.
      body.destroy();
      await fs.rm(temporary, { force: true });
      throw error;
    }
  }

  async function get(key: string, range?: ByteRange): Promise<StoredObject> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(fileOf(key), 'r');
    } catch (error) {
      if (isMissing(error)) throw new StorageNotFoundError(key);
      throw error;
    }
    try {
      // Size and bytes from one open file: a replacement renamed over the key meanwhile cannot
      // mix its size with the old bytes.
      const { size } = await handle.stat();
      const served = range ? clampRange(range, size) : undefined;
      const body = handle.createReadStream(served ? { start: served.start, end: served.end } : {});
      return {
        body,
        size,
        contentLength: served ? served.end - served.start + 1 : size,
        ...(served ? { range: served } : {}),
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async function stat(key: string): Promise<ObjectStat | undefined> {
    try {
      const found = await fs.stat(fileOf(key));
      return found.isFile() ? { size: found.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  return {
    kind: 'local',
    put,
    get,
    stat,
    async exists(key) {
      return (await stat(key)) !== undefined;
    },
    async delete(key) {
      const file = fileOf(key);
      await fs.rm(file, { force: true });
      // The object's own folder goes when it is empty (a file's folder holds its original and
      // what was derived from it); the store's folders above it stay.
      const folder = path.dirname(file);
      if (folder !== root) await fs.rmdir(folder).catch(() => {});
    },
    async check() {
      await fs.mkdir(root, { recursive: true });
      const probe = path.join(root, `.health-${randomUUID()}`);
      try {
        await fs.writeFile(probe, 'ok');
        if ((await fs.readFile(probe, 'utf8')) !== 'ok') throw new Error('storage read-back mismatch');
      } finally {
        await fs.rm(probe, { force: true });
      }
    },
  };
}

/**
 * Makes the temporary file (O_EXCL), and its folder first. A delete that empties the same folder
 * may remove it between the two: then both are made again.
 */
async function createExclusive(folder: string, file: string): Promise<fs.FileHandle> {
  for (let attempt = 1; ; attempt++) {
    await fs.mkdir(folder, { recursive: true });
    try {
      return await fs.open(file, 'wx');
    } catch (error) {
      if (!isMissing(error) || attempt >= 3) throw error;
    }
  }
}

/** fsync of a folder, so a rename in it is on disk (not supported everywhere, e.g. Windows). */
async function syncFolder(folder: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(folder, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw error;
  } finally {
    await handle?.close();
  }
}
