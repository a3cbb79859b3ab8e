import { type ChildProcess, spawn } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { writeBenchCsv } from '../bench/data.ts';
import { createDatabase } from '../src/platform/db/database.ts';
import { createTestDatabase, ON_POSTGRES } from './helpers/database.ts';
import { tempDir } from './helpers/files.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROWS = 20_000;

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

/** `node src/main.ts` on DATA_DIR (and the test's PostgreSQL database when there is one). */
async function start(dataDir: string, databaseUrl: string | undefined): Promise<Server> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      DATA_DIR: dataDir,
      SEED_DEMO: 'false',
      RATE_LIMIT_ENABLED: 'false',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (const deadline = Date.now() + 90_000; ;) {
    const url = /"url":"(http:[^"]+)"/.exec(output)?.[1];
    if (url) return { child, url, exited };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every file under a folder, with its size. */
async function filesUnder(dir: string): Promise<Array<{ file: string; size: number }>> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const file = path.join(entry.parentPath, entry.name);
        return { file, size: (await fs.stat(file)).size };
      }),
  );
}

describe('an import killed with SIGKILL', () => {
  it(
    'leaves no temporary file after the next start, and all of its rows or none',
    { timeout: 240_000 },
    async () => {
      const dataDir = await tempDir();
      const tmp = path.join(dataDir, 'tmp');
      const testDatabase = ON_POSTGRES ? await createTestDatabase() : undefined;
      try {
        let server = await start(dataDir, testDatabase?.url);
        const registered = await fetch(`${server.url}/v1/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: 'crash@example.com',
            username: 'crash',
            password: 'crash-test-password',
            companyName: 'Crash Test Grocer',
            acceptTerms: true,
          }),
        });
        const session = (
          (await registered.json()) as {
            data: { accessToken: string; user: { organization: { id: string } } };
          }
        ).data;
        const auth = { authorization: `Bearer ${session.accessToken}` };
        const csv = path.join(await tempDir(), 'items.csv');
        await writeBenchCsv(csv, ROWS, new Date().toISOString().slice(0, 10));
        const csvSize = (await fs.stat(csv)).size;
        const form = new FormData();
        form.append('file', await openAsBlob(csv), 'items.csv');
        const importing = fetch(`${server.url}/v1/inventory/bulk-import`, {
          method: 'POST',
          headers: auth,
          body: form,
        });
        importing.catch(() => {});

        // Killed once the upload is spooled whole, so the rows are being written when it dies.
        for (const deadline = Date.now() + 60_000; ;) {
          const spooled = await filesUnder(tmp);
          if (spooled.some((entry) => entry.size === csvSize)) break;
          expect(Date.now(), 'the upload never reached the temporary folder').toBeLessThan(deadline);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
        server.child.kill('SIGKILL');
        await server.exited;
        await expect(importing, 'the import was still running when the server died').rejects.toThrow();
        expect((await filesUnder(tmp)).length).toBeGreaterThan(0);

        server = await start(dataDir, testDatabase?.url);
        expect(await fs.readdir(tmp)).toEqual([]);
        const list = (await (
          await fetch(`${server.url}/v1/inventory?limit=1`, { headers: auth })
        ).json()) as {
          meta: { pagination: { total: number } };
        };
        const listed = list.meta.pagination.total;
        expect([0, ROWS]).toContain(listed);
        server.child.kill('SIGTERM');
        await server.exited;

        // Every table the import writes agrees with the list: all of the file, or nothing.
        const database =
          testDatabase?.database ?? (await createDatabase({ pgliteDir: path.join(dataDir, 'pglite') }));
        try {
          const { rows } = await sql<{ items: number; lots: number; receipts: number; changes: number }>`
          select (select count(*) from inventory_items where org_id = ${session.user.organization.id})::int as items,
                 (select count(*) from inventory_lots where org_id = ${session.user.organization.id})::int as lots,
                 (select count(*) from stock_movements where org_id = ${session.user.organization.id})::int as receipts,
                 (select count(*) from item_changes where org_id = ${session.user.organization.id})::int as changes`.execute(
            database.db,
          );
          // A row with opening stock brings a lot and its receipt.
          const stocked = (await fs.readFile(csv, 'utf8'))
            .split('\n')
            .slice(1)
            .filter((line) => Number(line.split(',')[4]) > 0).length;
          expect(rows[0]).toEqual(
            listed === 0
              ? { items: 0, lots: 0, receipts: 0, changes: 0 }
              : { items: ROWS, lots: stocked, receipts: stocked, changes: ROWS },
          );
        } finally {
          if (!testDatabase) await database.close();
        }
      } finally {
        await testDatabase?.drop();
      }
    },
  );
});
