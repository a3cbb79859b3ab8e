import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../app.ts';
import { configWith } from '../config.ts';
import { createDatabase } from '../platform/db/database.ts';

/**
 * `npm run openapi:document [-- FILE]`: writes the OpenAPI document (to FILE, else to standard
 * output) without a server, a database or any configuration: the app is built on an empty
 * in-memory database under a temporary data directory and never listens. The document depends only
 * on the code, so this is what /v1/openapi.json serves. Client generators and the linters read it
 * (`npm run openapi:lint`, `npm run client:check`).
 */
const target = process.argv[2];
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fresh-choice-openapi-'));
const database = await createDatabase({ pgliteDir: 'memory' });
try {
  const app = await buildApp(
    configWith({
      nodeEnv: 'test',
      logLevel: 'silent',
      dataDir,
      databaseUrl: undefined,
      redisUrl: undefined,
      seedDemo: false,
      // Only routes are needed; a fixed key keeps the run from writing a generated one.
      jwtSecret: 'openapi-document-only-not-a-real-secret',
    }),
    { platform: { database }, migrate: false, startJobs: false },
  );
  try {
    await app.ready();
    const text = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    if (target) await writeFile(target, text);
    else process.stdout.write(text);
  } finally {
    await app.close();
  }
} finally {
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
}
