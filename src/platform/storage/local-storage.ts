import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Where uploaded documents live. Local disk under DATA_DIR/files for now; an S3-compatible
 * implementation joins behind the same interface with the files issue.
 */
export interface Storage {
  readonly kind: 'local';
  /** Proves the store can take a write: writes, reads back and removes a probe object. */
  check(): Promise<void>;
}

export function createLocalStorage(root: string): Storage {
  return {
    kind: 'local',
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
