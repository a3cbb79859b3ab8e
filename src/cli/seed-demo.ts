import path from 'node:path';
import { loadConfig } from '../config.ts';
import { seedDemo } from '../modules/demo/demo.seed.ts';
import { createDatabase } from '../platform/db/database.ts';
import { migrate } from '../platform/db/migrate.ts';
import { createLogger } from '../platform/logger.ts';

/** `npm run seed:demo`: creates the demo store in DATABASE_URL or the embedded database. */
const config = loadConfig();
const logger = createLogger(config);
const database = await createDatabase({
  url: config.databaseUrl,
  pgliteDir: path.join(config.dataDir, 'pglite'),
  poolMax: 2,
  logger,
});
try {
  await migrate(database, logger);
  const result = await seedDemo(database, logger);
  logger.info(result.summary, result.created ? 'demo store seeded' : 'demo store already present');
  const { email, password } = result.summary.login as { email: string; password: string };
  process.stdout.write(`Demo store login: ${email} / ${password}\n`);
} catch (error) {
  logger.error({ err: error }, 'seeding failed');
  process.exitCode = 1;
} finally {
  await database.close();
}
