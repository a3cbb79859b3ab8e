import net from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';

/** A port with nothing listening: bind, note the port, close. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('operational endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('GET /health reports every service healthy with a latency', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.success).toBe(true);
    expect(body.data.status).toBe('healthy');
    for (const name of ['database', 'redis', 'storage']) {
      expect(body.data.services[name].status, name).toBe('healthy');
      expect(body.data.services[name].latencyMs, name).toBeGreaterThanOrEqual(0);
    }
    expect(body.data.services.database.mode).toBe(process.env.DATABASE_URL ? 'postgres' : 'pglite');
    expect(body.data.services.redis.mode).toBe(process.env.REDIS_URL ? 'redis' : 'in-process');
  });

  it('GET /metrics exposes request histograms by route, pool gauges and Node metrics', async () => {
    await t.app.inject({ method: 'GET', url: '/health' });
    await t.app.inject({ method: 'GET', url: '/no/such/route' });
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/health"[^}]*status_code="200"/);
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*status_code="404"/);
    expect(text).toMatch(/db_pool_connections\{state="max"\} \d+/);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('GET /v1/openapi.json is a valid OpenAPI 3.1 document listing the routes', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/health', '/metrics', '/v1/openapi.json']),
    );
  });

  it('documents, for every /v1 route, its permission and its error responses', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    const operations = Object.entries(
      document.paths as Record<string, Record<string, Record<string, unknown>>>,
    )
      .filter(([path]) => path.startsWith('/v1/') && path !== '/v1/openapi.json')
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
      );
    expect(operations.length).toBeGreaterThanOrEqual(15);
    for (const { path, method, operation } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      const responses = Object.keys(operation.responses as object);
      expect(responses, where).toEqual(expect.arrayContaining(['400', '429', '500']));
      if (path.startsWith('/v1/auth/')) {
        // Public, and saying so: an empty requirement is OpenAPI's "no credentials needed".
        expect(operation.security, where).toEqual([{}]);
        continue;
      }
      expect(operation.security, where).toEqual([{ bearerAuth: [] }]);
      expect(operation['x-permission'], where).toMatch(/^(authenticated|[a-z]+:[a-z]+)$/);
      expect(operation.description, where).toContain('**Requires**');
      expect(responses, where).toEqual(expect.arrayContaining(['401', '403']));
      if (path.includes('{id}')) expect(responses, where).toContain('404');
    }
    expect(document.paths['/v1/users/{id}'].delete['x-permission']).toBe('users:manage');
    expect(document.paths['/v1/settings'].put['x-permission']).toBe('settings:manage');
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('GET /docs serves the interactive documentation', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/docs' });
    const page =
      response.statusCode === 302 ? await t.app.inject({ method: 'GET', url: '/docs/' }) : response;
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger-ui');
  });
});

describe('health when a service is down', () => {
  it('reports degraded but stays in service (200) when Redis is unreachable', async () => {
    const t = await createTestApp({ redisUrl: `redis://127.0.0.1:${await closedPort()}` });
    try {
      const response = await t.app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.data.status).toBe('degraded');
      expect(body.data.services.redis.status).toBe('unhealthy');
      expect(body.data.services.database.status).toBe('healthy');
      // Anyone may ask /health: it says that Redis failed, not the client library's message
      // (which names the host and port). The detail is in the log and in /metrics.
      expect(['failed', 'timeout']).toContain(body.data.services.redis.error);
      expect(response.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|connect|Connection/i);
      const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/health_check_up\{component="redis"\} 0/);
      expect(metrics).toMatch(/health_check_up\{component="database"\} 1/);
      expect(metrics).toMatch(
        /health_check_failures_total\{component="redis",reason="[A-Za-z0-9_]+"\} [1-9]/,
      );
    } finally {
      await t.close();
    }
  });

  it('answers 503 degraded when the database fails', async () => {
    const t = await createTestApp();
    try {
      await t.testDatabase.database.close();
      const response = await t.app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(503);
      const body = response.json();
      expect(body).toMatchObject({
        success: false,
        data: { status: 'degraded', services: { database: { status: 'unhealthy' } } },
        error: { code: 'SERVICE_UNAVAILABLE' },
      });
      expect(body.meta.requestId).toBe(response.headers['x-request-id']);
    } finally {
      await t.close();
    }
  });
});
