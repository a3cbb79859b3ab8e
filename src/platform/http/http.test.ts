import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { AppError } from './errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectEnvelopeMeta(body: { meta?: { requestId?: string; timestamp?: string } }, requestId: string) {
  expect(body.meta?.requestId).toBe(requestId);
  expect(new Date(body.meta?.timestamp ?? '').toISOString()).toBe(body.meta?.timestamp);
}

describe('HTTP platform', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ bodyLimitBytes: 2048 }, (app) => {
      app.post('/test/echo', async (request) => ({ success: true, data: request.body }));
      app.get('/test/crash', async () => {
        throw new Error('relation "secret_table" does not exist at /srv/app/src/secret.ts:12');
      });
      app.get('/test/db-crash', async () => {
        await app.platform.database.withSession((session) => session.query('select * from secret_table'));
      });
      app.get('/test/app-error', async () => {
        throw new AppError(409, 'INSUFFICIENT_STOCK', 'Only 3 left', { available: 3 });
      });
    });
  });
  afterAll(() => t.close());

  it('gives every response an X-Request-Id that matches meta.requestId', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    const id = response.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);
    expectEnvelopeMeta(response.json(), id);
  });

  it('keeps a sane incoming X-Request-Id and replaces a hostile one', async () => {
    const kept = await t.app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'lb-1234.abc' },
    });
    expect(kept.headers['x-request-id']).toBe('lb-1234.abc');
    expect(kept.json().meta.requestId).toBe('lb-1234.abc');
    const replaced = await t.app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': '<script>alert(1)</script>' },
    });
    expect(replaced.headers['x-request-id']).toMatch(UUID);
  });

  it('answers an unknown route with 404 in the envelope', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/does-not-exist?x=1' });
    expect(response.statusCode).toBe(404);
    const body = response.json();
    expect(body).toMatchObject({
      success: false,
      error: { code: 'NOT_FOUND', message: 'Route GET /v1/does-not-exist not found' },
    });
    expectEnvelopeMeta(body, response.headers['x-request-id'] as string);
  });

  it('answers malformed JSON with 400 in the envelope', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "milk",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ success: false, error: { code: 'BAD_REQUEST' } });
    expectEnvelopeMeta(response.json(), response.headers['x-request-id'] as string);
  });

  it('answers an oversize body with 413 in the envelope', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ filler: 'x'.repeat(4096) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ success: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('answers an unsupported content type with 415 in the envelope', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/x-unknown' },
      payload: 'hello',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ success: false, error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('renders an AppError with its status, code and details', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/test/app-error' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      success: false,
      error: { code: 'INSUFFICIENT_STOCK', message: 'Only 3 left', details: { available: 3 } },
    });
  });

  it.each(['/test/crash', '/test/db-crash'])('hides internals of a 500 (%s)', async (url) => {
    const response = await t.app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(500);
    const body = response.json();
    expect(body).toMatchObject({
      success: false,
      error: { code: 'INTERNAL_ERROR', message: 'Internal server error' },
    });
    expect(body.error.details).toBeUndefined();
    expect(response.body).not.toMatch(/secret|\.ts|relation|select/i);
    expectEnvelopeMeta(body, response.headers['x-request-id'] as string);
  });

  it('sets security headers and honours CORS origins', async () => {
    const allowed = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'http://localhost:5173' },
    });
    expect(allowed.headers['x-content-type-options']).toBe('nosniff');
    expect(allowed.headers['content-security-policy']).toContain("default-src 'self'");
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const foreign = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('compresses large responses when the client accepts it', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/openapi.json',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('gzip');
  });
});

describe('shutting down', () => {
  it('finishes a request in flight and answers one arriving during shutdown 503 in the envelope', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    const connection: { socket?: net.Socket } = {};
    const lateRequest = 'GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: late-1\r\n\r\n';
    const t = await createTestApp({}, (app) => {
      app.get('/test/slow', async () => {
        entered();
        await gate;
        return { success: true, data: 'done' };
      });
      // Registered after the app's own preClose hook, so shutdown has begun when it runs: the
      // client sends its next request on the busy keep-alive connection (HTTP pipelining)...
      app.addHook('preClose', (done) => {
        connection.socket?.write(lateRequest);
        done();
      });
      // ...and the slow request is let go once that request has been answered.
      app.addHook('onSend', async (request) => {
        if (request.url === '/health') release();
      });
    });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const client = net.connect(Number(new URL(address).port), '127.0.0.1');
    connection.socket = client;
    let received = '';
    client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const ended = new Promise<void>((resolve) => client.on('close', () => resolve()));
    client.write('GET /test/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await inFlight;
    await Promise.all([t.close(), ended]);

    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(answers[0]).toContain('"data":"done"');
    const late = answers[1]!;
    expect(late).toMatch(/^HTTP\/1\.1 503/);
    expect(late).toMatch(/\r\nretry-after: 5\r\n/i);
    expect(late).toMatch(/\r\nconnection: close\r\n/i);
    expect(late).toMatch(/\r\nx-request-id: late-1\r\n/i);
    const body = JSON.parse(late.slice(late.indexOf('\r\n\r\n') + 4)) as {
      success: boolean;
      error: { code: string; message: string };
      meta: { requestId: string };
    };
    expect(body.success).toBe(false);
    expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(body.error.message).toMatch(/shutting down/);
    expect(body.meta.requestId).toBe('late-1');
  });
});
