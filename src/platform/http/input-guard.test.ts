import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session, uniqueEmail } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { MAX_JSON_DEPTH, MAX_TEXT_LENGTH } from './input-guard.ts';

/**
 * The platform's input guard, through real routes (and two routes declared here, after the app
 * is built, to show that a route added later inherits it without doing anything).
 */

let t: TestApp;
let admin: Session;
let itemId: string;

beforeAll(async () => {
  t = await createTestApp({}, (app) => {
    // Declared the way a careless later route might be: no additionalProperties, no maxLength.
    app.post(
      '/test/later',
      { schema: { body: Type.Object({ name: Type.String(), notes: Type.Optional(Type.Unknown()) }) } },
      async (request) => ({ success: true, data: request.body, meta: { requestId: request.id } }),
    );
    app.get(
      '/test/later/:code',
      { schema: { querystring: Type.Object({ q: Type.Optional(Type.String()) }) } },
      async (request) => ({ success: true, data: { params: request.params, query: request.query } }),
    );
  });
  admin = await registerStore(t.app, 'Guarded Greens');
  itemId = (await createItem(t.app, admin, { description: 'Guarded apples', remainingStock: 4 })).id;
});
afterAll(() => t.close());

const json = (method: 'POST' | 'PUT' | 'PATCH', url: string, body: string, session: Session | null = admin) =>
  t.app.inject({
    method,
    url,
    headers: { 'content-type': 'application/json', ...(session ? bearer(session) : {}) },
    payload: body,
  });

function expectInvalid(
  response: { statusCode: number; json: () => unknown },
  field: string,
  message: RegExp,
) {
  expect(response.statusCode).toBe(400);
  const body = response.json() as { success: boolean; error: { code: string; details: unknown[] } };
  expect(body).toMatchObject({ success: false, error: { code: 'VALIDATION_ERROR' } });
  expect(body.error.details).toContainEqual({ field, message: expect.stringMatching(message) });
}

describe('hostile text', () => {
  it('refuses a NUL on an unauthenticated route (register), naming the field, and creates nothing', async () => {
    const email = uniqueEmail('nul');
    const response = await json(
      'POST',
      '/v1/auth/register',
      JSON.stringify({ email, username: 'Nul\u0000Name', password: 'a long password', acceptTerms: true }),
      null,
    );
    expectInvalid(response, 'body.username', /NUL character/);
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: 'a long password' },
    });
    expect(login.statusCode).toBe(401);
  });

  it('refuses a NUL at any depth of a JSON body, with the path of the field', async () => {
    const response = await json(
      'POST',
      '/test/later',
      JSON.stringify({ name: 'x', notes: { lines: ['ok', 'b\u0000d'] } }),
    );
    expectInvalid(response, 'body.notes.lines.1', /NUL character/);
  });

  it('refuses lone UTF-16 surrogates (high or low) but keeps well-formed pairs', async () => {
    expectInvalid(
      await json('POST', '/v1/inventory', '{"description":"a\\ud800b","category":"x"}'),
      'body.description',
      /lone UTF-16 surrogate/,
    );
    expectInvalid(
      await json('POST', '/v1/inventory', '{"description":"x","category":"\\udc00"}'),
      'body.category',
      /lone UTF-16 surrogate/,
    );
    const pair = await json(
      'POST',
      '/v1/inventory',
      '{"description":"Clef \\ud834\\udd1e beans","category":"x"}',
    );
    expect(pair.statusCode, pair.body).toBe(201);
    expect(pair.json().data.description).toBe('Clef 𝄞 beans');
  });

  it('caps every string, even where a schema forgot to (the platform cap)', async () => {
    const long = 'x'.repeat(MAX_TEXT_LENGTH + 1);
    expectInvalid(
      await json('POST', '/test/later', JSON.stringify({ name: long })),
      'body.name',
      /longer than 10000|at most 10000/,
    );
    expectInvalid(
      await json('POST', '/test/later', JSON.stringify({ name: 'x', notes: [long] })),
      'body.notes.0',
      /longer than 10000/,
    );
    const ok = await json('POST', '/test/later', JSON.stringify({ name: 'x'.repeat(MAX_TEXT_LENGTH) }));
    expect(ok.statusCode).toBe(200);
  });

  it('refuses NUL and over-long text in query, path and declared header parameters', async () => {
    const get = (url: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'GET', url, headers: { ...bearer(admin), ...headers } });
    expectInvalid(await get('/v1/inventory?search=milk%00'), 'querystring.search', /NUL character/);
    expectInvalid(await get('/test/later/a%00b'), 'params.code', /NUL character/);
    expectInvalid(
      await get(`/test/later/x?q=${'y'.repeat(MAX_TEXT_LENGTH + 1)}`),
      'querystring.q',
      /longer than|at most/,
    );
    const adjust = await t.app.inject({
      method: 'POST',
      url: `/v1/inventory/${itemId}/adjust-stock`,
      headers: { ...bearer(admin), 'idempotency-key': 'key\u0000one' },
      payload: { adjustment: 1, reason: 'received' },
    });
    expectInvalid(adjust, 'headers.idempotency-key', /NUL character/);
  });
});

describe('hostile structure', () => {
  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses the key %s at any depth, naming it',
    async (key) => {
      expectInvalid(
        await json('POST', '/test/later', `{"name":"x","${key}":{"polluted":true}}`),
        `body.${key}`,
        /not allowed as a field name/,
      );
      expectInvalid(
        await json('POST', '/test/later', `{"name":"x","notes":{"a":{"${key}":1}}}`),
        `body.notes.a.${key}`,
        /not allowed/,
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels, and survives very deep JSON`, async () => {
    const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    expect(
      (await json('POST', '/test/later', `{"name":"x","notes":${deep(MAX_JSON_DEPTH - 2)}}`)).statusCode,
    ).toBe(200);
    expectInvalid(
      await json('POST', '/test/later', `{"name":"x","notes":${deep(MAX_JSON_DEPTH + 5)}}`),
      `body.notes${'.a'.repeat(MAX_JSON_DEPTH - 1)}`,
      /nested more than/,
    );
    const veryDeep = await json('POST', '/test/later', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(veryDeep.statusCode).toBe(400);
  });

  it('refuses a body larger than the limit with 413 in the envelope', async () => {
    const response = await json('POST', '/test/later', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ success: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('refuses numbers that are not finite, from JSON (1e999) or coerced from text ("Infinity")', async () => {
    expectInvalid(
      await json('PUT', '/v1/settings', '{"lowStockThreshold":1e999}'),
      'body.lowStockThreshold',
      /finite/,
    );
    expectInvalid(
      await json('PUT', '/v1/settings', '{"expiryWarningDays":"Infinity"}'),
      'body.expiryWarningDays',
      /finite/,
    );
    const page = await t.app.inject({
      method: 'GET',
      url: '/v1/inventory?page=Infinity',
      headers: bearer(admin),
    });
    expectInvalid(page, 'querystring.page', /finite/);
    const settings = await t.app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(admin) });
    expect(settings.json().data).toMatchObject({ lowStockThreshold: 10, expiryWarningDays: 3 });
  });

  it('refuses dates PostgreSQL cannot store (year 0000), naming the field and the format', async () => {
    const response = await json(
      'POST',
      '/v1/inventory',
      '{"description":"Old","category":"x","remainingStock":1,"expirationDate":"0000-01-01"}',
    );
    expectInvalid(response, 'body.expirationDate', /YYYY-MM-DD/);
  });
});

describe('unknown fields and readable messages', () => {
  it('refuses an unknown body field, naming it and listing the fields, on a route that did not ask for it', async () => {
    const response = await json('POST', '/test/later', '{"name":"x","nmae":"y"}');
    expectInvalid(response, 'body.nmae', /is not a field of this request \(the fields are: name, notes\)/);
  });

  it('refuses an unknown query parameter where the route declares its parameters', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/users?pgae=2', headers: bearer(admin) });
    expectInvalid(response, 'querystring.pgae', /not a field/);
  });

  it('names the allowed values of an enum', async () => {
    const response = await json(
      'POST',
      `/v1/inventory/${itemId}/adjust-stock`,
      '{"adjustment":-1,"reason":"stolen"}',
    );
    expectInvalid(response, 'body.reason', /^must be one of: 'received', 'sold', .*'theft'.*'other'$/);
    expect(response.json().error.message).toMatch(
      /^The request is invalid: body\.reason must be one of: 'received'/,
    );
  });

  it('says that zero is not an adjustment', async () => {
    const response = await json(
      'POST',
      `/v1/inventory/${itemId}/adjust-stock`,
      '{"adjustment":0,"reason":"count_correction"}',
    );
    expectInvalid(response, 'body.adjustment', /zero is not an adjustment/);
    expect(response.body).not.toContain('must NOT be valid');
  });

  it('answers a JSON body sent as text/plain (or with no type) with 415 in the envelope', async () => {
    for (const headers of [{ 'content-type': 'text/plain' }, {}]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/inventory',
        headers: { ...bearer(admin), ...headers },
        payload: Buffer.from('{"description":"Typed wrong","category":"x"}'),
      });
      expect(response.statusCode).toBe(415);
      expect(response.json()).toMatchObject({
        success: false,
        error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('application/json') },
      });
    }
  });

  it('answers malformed JSON with 400 and the parser’s reason', async () => {
    const response = await json('POST', '/v1/inventory', '{"description":');
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/^The body is not valid JSON/),
    });
  });
});

describe('errors of the router, in the envelope', () => {
  it('a path with a malformed percent-encoding or a lone surrogate is a 400', async () => {
    for (const url of ['/v1/inventory/%E0%A4%A', '/v1/inventory/%ED%A0%80']) {
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(admin) });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ success: false, error: { code: 'BAD_REQUEST' } });
      expect(response.json().meta.requestId).toBe(response.headers['x-request-id']);
    }
  });

  it('an over-long path parameter is a 414', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/inventory/${'x'.repeat(500)}`,
      headers: bearer(admin),
    });
    expect(response.statusCode).toBe(414);
    expect(response.json()).toMatchObject({ success: false, error: { code: 'URI_TOO_LONG' } });
  });
});

describe('GET /', () => {
  it('points to the documentation, the OpenAPI document and health, in the envelope', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      success: true,
      data: { docs: '/docs', openapi: '/v1/openapi.json', health: '/health', api: '/v1' },
      meta: { requestId: response.headers['x-request-id'] },
    });
  });
});
