import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.ts';

/**
 * Scratch space for temporary files (an import's spooled upload): `DATA_DIR/tmp`, where each
 * process writes only inside a folder of its own. A process killed with SIGKILL (or by the OOM
 * killer) cannot remove its files, so every start-up, and every instance once a minute, removes
 * the folders whose owner is gone.
 *
 * Several instances may share one DATA_DIR (on PostgreSQL, a volume mounted by every replica),
 * so "gone" must never be guessed for a live owner. A folder's name says who made it: a process
 * namespace, the pid and the process's start time. Within the same namespace (this host or this
 * container), the owner is gone when that pid is no longer alive or is another process (a reused
 * pid starts at another time); such a folder goes at once. A folder from another namespace
 * (another host or container) cannot be checked that way: its owner touches it once a minute, and
 * it goes when nobody has touched it for STALE_MS. A restarted container is a new namespace, so
 * what its previous run left goes after STALE_MS, removed by whichever instance runs then.
 */
export interface Scratch {
  /** This process's folder; created by whoever writes there first (mkdir -p), removed on close. */
  readonly dir: string;
  /** Removes the leftovers of processes that are gone; returns how many folders or files it removed. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/** How often a live process touches its folder, and sweeps. */
const HEARTBEAT_MS = 60_000;
/** A folder from another namespace that nobody touched for this long belongs to a dead process. */
const STALE_MS = 10 * 60_000;

const FOLDER = /^([0-9a-f]{12})-(\d+)-(\d+)-[0-9a-f]+$/;

export async function openScratch(root: string, logger?: Logger): Promise<Scratch> {
  const namespace = processNamespace();
  const dir = path.join(
    root,
    `${namespace}-${process.pid}-${startTimeOf(process.pid) ?? 0}-${randomBytes(4).toString('hex')}`,
  );

  async function sweep(): Promise<number> {
    let entries: string[];
    try {
      entries = await fs.readdir(root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    let removed = 0;
    for (const entry of entries) {
      const full = path.join(root, entry);
      if (full === dir) continue;
      if (await isLeftover(entry, full, namespace)) {
        await fs.rm(full, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  const removed = await sweep();
  if (removed > 0)
    logger?.info({ dir: root, removed }, 'removed temporary files left by processes that ended');

  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(dir, now, now)
      .catch(() => {}) // not made yet: nothing to keep alive
      .then(sweep)
      .catch((error: unknown) => logger?.warn({ err: error }, 'could not sweep the temporary folder'));
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    dir,
    sweep,
    async close() {
      clearInterval(heartbeat);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function isLeftover(entry: string, full: string, namespace: string): Promise<boolean> {
  const owner = FOLDER.exec(entry);
  if (owner && owner[1] === namespace) {
    const pid = Number(owner[2]);
    if (!isAlive(pid)) return true;
    // A pid in use by another process than the one that made the folder: it was reused.
    const started = startTimeOf(pid);
    return started !== undefined && owner[3] !== '0' && String(started) !== owner[3];
  }
  // Another namespace's folder, or a file of unknown origin (the layout before per-process folders).
  try {
    const { mtimeMs } = await fs.stat(full);
    return Date.now() - mtimeMs > STALE_MS;
  } catch {
    return false; // already gone
  }
}

/**
 * Processes that can see each other's pids share this: on Linux the boot and the pid namespace
 * (so two containers on one host differ), elsewhere the host name.
 */
function processNamespace(): string {
  let identity = os.hostname();
  try {
    identity += readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    identity += readlinkSync('/proc/self/ns/pid');
  } catch {
    // Not Linux: the host name alone.
  }
  return createHash('sha256').update(identity).digest('hex').slice(0, 12);
}

/** When a process started, in clock ticks since boot (Linux); undefined where it cannot be read. */
function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) is in parentheses and may itself contain spaces.
    const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
