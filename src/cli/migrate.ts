import path from 'node:path';
import { loadConfig } from '../config.ts';
import { createDatabase } from '../platform/db/database.ts';
import { migrate } from '../platform/db/migrate.ts';
import { createLogger } from '../platform/logger.ts';

/** `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
const config = loadConfig();
const logger = createLogger(config);
const database = await createDatabase({
  url: config.databaseUrl,
  pgliteDir: path.join(config.dataDir, 'pglite'),
  poolMax: 2,
  logger,
});
try {
  const result = await migrate(database, logger);
  logger.info(
    { applied: result.applied, alreadyApplied: result.alreadyApplied, database: database.kind },
    result.applied.length ? `applied ${result.applied.length} migration(s)` : 'database is up to date',
  );
} catch (error) {
  logger.error({ err: error }, 'migration failed');
  process.exitCode = 1;
} finally {
  await database.close();
}
