import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type BuildOptions, buildApp } from '../../src/app.ts';
import { type Config, configWith } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { tempDir } from './files.ts';

export const TEST_JWT_SECRET = 'test-only-jwt-secret-with-at-least-32-characters';

/**
 * Rate-limit counters of this test process, apart from every other's: test runs on one machine
 * share one Redis (CI's and developers'), and limits keyed by IP (every injected request comes from
 * 127.0.0.1) would otherwise add up across them (five registrations per 15 minutes). Production
 * keys stay `fc:rl:…`.
 */
export const TEST_RATE_LIMIT_KEY_PREFIX = `fc:test:${randomUUID()}:rl`;

export interface TestApp {
  app: FastifyInstance;
  testDatabase: TestDatabase;
  close(): Promise<void>;
}

/**
 * The real app on a real database (PGlite, or PostgreSQL + Redis when DATABASE_URL / REDIS_URL are
 * set, as in CI), logging silenced, files under a temporary DATA_DIR.
 */
export async function createTestApp(
  overrides: Partial<Config> = {},
  /** Runs before the app is ready: register extra routes a test needs. */
  configure?: (app: FastifyInstance) => void,
  /** More build options (e.g. the push agent a local push service needs). */
  build: Omit<BuildOptions, 'platform'> = {},
): Promise<TestApp> {
  const testDatabase = await createTestDatabase();
  const config = configWith({
    nodeEnv: 'test',
    logLevel: 'silent',
    dataDir: await tempDir(),
    redisUrl: process.env.REDIS_URL || undefined,
    databaseUrl: testDatabase.url,
    jwtSecret: TEST_JWT_SECRET,
    // Limits have their own tests; elsewhere they would only couple tests to each other.
    rateLimitEnabled: false,
    ...overrides,
  });
  const app = await buildApp(config, {
    ...build,
    platform: { database: testDatabase.database, rateLimitKeyPrefix: TEST_RATE_LIMIT_KEY_PREFIX },
  });
  configure?.(app);
  await app.ready();
  return {
    app,
    testDatabase,
    async close() {
      await app.close();
      await testDatabase.drop();
    },
  };
}
