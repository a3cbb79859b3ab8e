import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { TEST_JWT_SECRET, TEST_RATE_LIMIT_KEY_PREFIX } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createTestDatabase, ON_POSTGRES, type TestDatabase } from '../../../test/helpers/database.ts';
import { tempDir } from '../../../test/helpers/files.ts';
import { buildApp } from '../../app.ts';
import { configWith } from '../../config.ts';
import { isPoolTimeout } from '../db/database.ts';

/**
 * A server that accepts TCP connections and never answers: a PostgreSQL that does not come back,
 * so pg-pool's own timeouts fire (real pg-pool errors, no PostgreSQL needed).
 */
async function silentServer() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `postgres://nobody@127.0.0.1:${port}/none`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const rejectionOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('recognising a connection pool timeout', () => {
  it("knows both of pg-pool's timeout errors, and no other failure", async () => {
    const silent = await silentServer();
    const pool = new pg.Pool({ connectionString: silent.url, max: 1, connectionTimeoutMillis: 200 });
    try {
      // The pool's one connection cannot open in time; a second caller waits for it meanwhile.
      const opening = rejectionOf(pool.connect());
      const waiting = rejectionOf(pool.connect());
      const [openFailure, waitFailure] = await Promise.all([opening, waiting]);
      expect((waitFailure as Error).message).toBe('timeout exceeded when trying to connect');
      expect((openFailure as Error).message).toBe('Connection terminated due to connection timeout');
      expect(isPoolTimeout(waitFailure)).toBe(true);
      expect(isPoolTimeout(openFailure)).toBe(true);
    } finally {
      await pool.end();
      await silent.close();
    }

    // A refused connection is a different failure (the server is down, not busy).
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refusedPool = new pg.Pool({
      connectionString: `postgres://nobody@127.0.0.1:${port}/none`,
      connectionTimeoutMillis: 200,
    });
    const refused = await rejectionOf(refusedPool.connect());
    await refusedPool.end();
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(isPoolTimeout(refused)).toBe(false);

    // Same words, other kinds of error: not the pool's.
    class QueryTimeout extends Error {}
    expect(isPoolTimeout(new QueryTimeout('timeout exceeded when trying to connect'))).toBe(false);
    expect(
      isPoolTimeout(Object.assign(new Error('timeout exceeded when trying to connect'), { code: '57014' })),
    ).toBe(false);
    expect(isPoolTimeout(new Error('timeout exceeded'))).toBe(false);
    expect(isPoolTimeout('timeout exceeded when trying to connect')).toBe(false);
  });
});

describe('a saturated PostgreSQL pool', () => {
  let testDatabase: TestDatabase | undefined;
  let app: FastifyInstance;
  let admin: Session;
  let warn: MockInstance[] = [];
  let error: MockInstance[] = [];

  beforeAll(async () => {
    if (!ON_POSTGRES) return;
    testDatabase = await createTestDatabase();
    // The app opens its own pool from the configuration: one connection, given up on after 300 ms.
    app = await buildApp(
      configWith({
        nodeEnv: 'test',
        logLevel: 'silent',
        dataDir: await tempDir(),
        databaseUrl: testDatabase.url,
        databasePoolMax: 1,
        databasePoolTimeoutMs: 300,
        redisUrl: process.env.REDIS_URL || undefined,
        jwtSecret: TEST_JWT_SECRET,
        rateLimitEnabled: false,
      }),
      { platform: { rateLimitKeyPrefix: TEST_RATE_LIMIT_KEY_PREFIX } },
    );
    // What each request logs at warn and error.
    app.addHook('onRequest', async (request) => {
      warn.push(vi.spyOn(request.log, 'warn'));
      error.push(vi.spyOn(request.log, 'error'));
    });
    await app.ready();
    admin = await registerStore(app);
  });
  afterAll(async () => {
    await app?.close();
    await testDatabase?.drop();
  });

  it('answers 503 with Retry-After, logged as a warning, while the only connection is busy; 200 once it is free', async (context) => {
    if (!ON_POSTGRES)
      context.skip(
        'PostgreSQL only: PGlite is one session with no pool and no timeout; requests queue for it in turn (pglite-dialect.ts)',
      );
    const list = () => app.inject({ method: 'GET', url: '/v1/inventory', headers: bearer(admin) });
    warn = [];
    error = [];
    const busy = await app.platform.database.withSession(async (session) => {
      // Held in an open transaction, as a long request would hold it.
      await session.exec('begin');
      try {
        return await list();
      } finally {
        await session.exec('rollback');
      }
    });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
    expect(busy.json()).toMatchObject({
      success: false,
      error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/busy/) },
      meta: { requestId: busy.headers['x-request-id'] },
    });
    const warnings = warn.flatMap((spy) => spy.mock.calls);
    expect(warnings).toContainEqual([
      { code: 'SERVICE_UNAVAILABLE', msg: 'timeout exceeded when trying to connect' },
      'request refused: unavailable',
    ]);
    expect(error.flatMap((spy) => spy.mock.calls)).toEqual([]);

    const free = await list();
    expect(free.statusCode).toBe(200);

    // Counted with the other answers, by route and status.
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/v1\/inventory\/",status_code="503"\} 1\b|http_request_duration_seconds_count\{method="GET",route="\/v1\/inventory",status_code="503"\} 1\b/,
    );
  });
});
