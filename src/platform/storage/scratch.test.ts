import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/files.ts';
import { openScratch } from './scratch.ts';

const ELEVEN_MINUTES_AGO = new Date(Date.now() - 11 * 60_000);

async function folderWithFile(root: string, name: string, mtime?: Date): Promise<string> {
  const dir = path.join(root, name);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'import-x'), 'partial upload');
  if (mtime) await fs.utimes(dir, mtime, mtime);
  return dir;
}

const exists = (file: string) =>
  fs.stat(file).then(
    () => true,
    () => false,
  );

/** The pid of a process that has ended. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '0']);
  return pid;
}

describe('scratch folder', () => {
  it('removes what ended processes left, keeps what live ones use, and removes its own folder on close', async () => {
    const root = await tempDir();
    // A first scratch only to learn this machine's namespace and this process's start time.
    const probe = await openScratch(root);
    const [namespace, pid, started] = path.basename(probe.dir).split('-');
    expect(Number(pid)).toBe(process.pid);
    const live = await folderWithFile(root, path.basename(probe.dir));

    const dead = await folderWithFile(root, `${namespace}-${deadPid()}-123-abcd`);
    const reused = await folderWithFile(root, `${namespace}-${process.pid}-${Number(started) + 1}-abcd`);
    const otherHostFresh = await folderWithFile(root, `000000000000-${process.pid}-1-abcd`);
    const otherHostStale = await folderWithFile(
      root,
      `000000000000-${process.pid}-1-dcba`,
      ELEVEN_MINUTES_AGO,
    );
    const looseFresh = path.join(root, 'import-fresh');
    const looseStale = path.join(root, 'import-stale');
    await fs.writeFile(looseFresh, 'x');
    await fs.writeFile(looseStale, 'x');
    await fs.utimes(looseStale, ELEVEN_MINUTES_AGO, ELEVEN_MINUTES_AGO);

    const scratch = await openScratch(root);
    expect(scratch.dir).not.toBe(probe.dir);
    expect(await exists(dead)).toBe(false);
    expect(await exists(reused)).toBe(false);
    expect(await exists(otherHostStale)).toBe(false);
    expect(await exists(looseStale)).toBe(false);
    // Another live scratch of this process, another host's folder in use, a recent file of unknown origin.
    expect(await exists(live)).toBe(true);
    expect(await exists(otherHostFresh)).toBe(true);
    expect(await exists(looseFresh)).toBe(true);
    expect(await scratch.sweep()).toBe(0);

    await fs.mkdir(scratch.dir, { recursive: true });
    await fs.writeFile(path.join(scratch.dir, 'import-y'), 'upload');
    await scratch.close();
    expect(await exists(scratch.dir)).toBe(false);
    await probe.close();
    expect(await exists(live)).toBe(false);
  });

  it('starts with no folder at all', async () => {
    const root = path.join(await tempDir(), 'tmp');
    const scratch = await openScratch(root);
    expect(await exists(root)).toBe(false);
    await scratch.close();
  });
});
