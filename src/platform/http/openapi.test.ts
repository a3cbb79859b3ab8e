import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, login, PASSWORD, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { finishDocument, operationIdFor } from './openapi.ts';

/**
 * The OpenAPI document as a client generator and a validating proxy read it. Every check walks
 * all operations of the real app's document, so routes added later are covered without anyone
 * listing them; the second half sends requests and holds the answers to what the document declares.
 */

// The document is walked as untyped JSON, as a client generator reads it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
interface Operation {
  path: string;
  method: string;
  operation: Json;
  where: string;
}

const ORIGIN = 'http://localhost:5173';
const BODY_LIMIT = 4096;
const BODY_METHODS = ['post', 'put', 'patch', 'delete'];

function operationsOf(document: Json): Operation[] {
  return Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method))
      .map(([method, operation]) => ({
        path,
        method,
        operation: operation as Json,
        where: `${method.toUpperCase()} ${path}`,
      })),
  );
}

/** Follows a local `$ref` (one level at a time, until there is none). */
function resolve(document: Json, node: Json): Json {
  let current = node;
  while (typeof current.$ref === 'string') {
    const pointer = current.$ref.replace(/^#\//, '').split('/');
    current = pointer.reduce<Json>(
      (at, key) => at[key.replaceAll('~1', '/').replaceAll('~0', '~')],
      document,
    );
  }
  return current;
}

/** The headers a response of this operation declares, resolved: name → required. */
function declaredHeaders(document: Json, operation: Json, status: number): Map<string, boolean> {
  const response = resolve(document, operation.responses[String(status)]);
  return new Map(
    Object.entries((response.headers ?? {}) as Record<string, Json>).map(([name, header]) => [
      name.toLowerCase(),
      resolve(document, header).required === true,
    ]),
  );
}

/** Every object in the document equal to `target`, with where it is. */
function findEqual(node: unknown, target: unknown, at = '#'): string[] {
  if (isDeepStrictEqual(node, target)) return [at];
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, child]) => findEqual(child, target, `${at}/${key}`));
}

describe('operationIdFor', () => {
  it('is the method and the path in camelCase, without the /v1 prefix, parameters as By…', () => {
    expect(operationIdFor('get', '/v1/inventory')).toBe('getInventory');
    expect(operationIdFor('POST', '/v1/inventory/{id}/adjust-stock')).toBe('postInventoryByIdAdjustStock');
    expect(operationIdFor('get', '/v1/openapi.json')).toBe('getOpenapiJson');
    expect(operationIdFor('get', '/health')).toBe('getHealth');
    expect(operationIdFor('get', '/')).toBe('getRoot');
    expect(operationIdFor('get', '/v2/inventory')).toBe('getV2Inventory');
  });
});

describe('finishDocument', () => {
  const generated = {
    openapi: '3.1.0',
    components: { schemas: { ErrorEnvelope: { type: 'object', title: 'ErrorEnvelope' } } },
    paths: {
      '/v1/things': {
        get: {
          parameters: [
            { in: 'query', name: 'page', required: true, schema: { type: 'integer', default: 1 } },
          ],
          responses: { 200: { description: 'ok' } },
        },
      },
    },
  };

  it('works on a copy: the schemas Fastify validates with stay as they were', () => {
    const before = structuredClone(generated);
    const document = finishDocument(generated, { permissions: new Map(), multipartBodies: new Map() });
    expect(generated).toEqual(before);
    expect((document.paths as Json)['/v1/things'].get.parameters[0].required).toBe(false);
  });

  it('refuses to make a document without the error envelope component', () => {
    expect(() =>
      finishDocument({ paths: {} }, { permissions: new Map(), multipartBodies: new Map() }),
    ).toThrow(/ErrorEnvelope/);
  });
});

describe('the OpenAPI document', () => {
  let t: TestApp;
  let document: Json;
  let operations: Operation[];
  let admin: Session;

  beforeAll(async () => {
    t = await createTestApp({ rateLimitEnabled: true, bodyLimitBytes: BODY_LIMIT });
    document = (await t.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    operations = operationsOf(document);
    admin = await registerStore(t.app);
  });
  afterAll(() => t.close());

  it('gives every operation a unique camelCase operationId', () => {
    expect(operations.length).toBeGreaterThanOrEqual(25);
    const ids = operations.map(({ operation }) => operation.operationId as string);
    for (const [index, id] of ids.entries())
      expect(id, operations[index]!.where).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(document.paths['/v1/inventory'].get.operationId).toBe('getInventory');
  });

  it('marks no parameter or body property that has a default as required', () => {
    let defaulted = 0;
    for (const { operation, where } of operations) {
      for (const parameter of (operation.parameters ?? []) as Json[]) {
        if (parameter.schema && 'default' in parameter.schema) {
          defaulted++;
          expect(parameter.required, `${where} ${parameter.name}`).not.toBe(true);
        }
      }
      const walk = (schema: unknown, at: string): void => {
        if (typeof schema !== 'object' || schema === null) return;
        const node = schema as Json;
        if (node.properties && Array.isArray(node.required)) {
          for (const name of node.required as string[]) {
            expect('default' in (node.properties[name] ?? {}), `${at}.${name} has a default`).toBe(false);
          }
        }
        for (const [key, child] of Object.entries(node)) walk(child, `${at}.${key}`);
      };
      for (const [type, media] of Object.entries((operation.requestBody?.content ?? {}) as Json)) {
        walk(media.schema, `${where} ${type}`);
      }
    }
    // page, limit and sortBy on the inventory list, page and limit on history and the user lists.
    expect(defaulted).toBeGreaterThanOrEqual(9);
    const listParameters = document.paths['/v1/inventory'].get.parameters as Json[];
    expect(listParameters.filter((parameter) => parameter.required)).toEqual([]);
  });

  it('refers every error answer to one response component and the envelope to one schema', () => {
    const envelope = document.components.schemas.ErrorEnvelope;
    expect(envelope.properties.success).toEqual({ type: 'boolean', enum: [false] });
    let errorAnswers = 0;
    for (const { operation, where } of operations) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
        if (Number(status) < 400) continue;
        errorAnswers++;
        // /health's 503 is its own report (the services' states), not the error envelope.
        if (!response.$ref) {
          expect(response.content['application/json'].schema, `${where} ${status}`).not.toEqual(envelope);
          continue;
        }
        expect(response.$ref, `${where} ${status}`).toMatch(/^#\/components\/responses\/[A-Za-z0-9]+$/);
      }
    }
    expect(errorAnswers).toBeGreaterThan(100);
    for (const [name, response] of Object.entries(document.components.responses as Record<string, Json>)) {
      expect(response.content['application/json'].schema, name).toEqual({
        $ref: '#/components/schemas/ErrorEnvelope',
      });
    }
    // Written out once, in components, and nowhere else.
    expect(findEqual(document, envelope)).toEqual(['#/components/schemas/ErrorEnvelope']);
  });

  it('declares 413 and 415 wherever a body is read, and 500 everywhere', () => {
    for (const { method, operation, where } of operations) {
      const statuses = Object.keys(operation.responses as object);
      expect(statuses, where).toContain('500');
      if (BODY_METHODS.includes(method))
        expect(statuses, where).toEqual(expect.arrayContaining(['413', '415']));
    }
    const bulkImport = document.paths['/v1/inventory/bulk-import'].post;
    expect(Object.keys(bulkImport.requestBody.content)).toEqual(['multipart/form-data']);
  });

  it('declares the headers: X-Request-Id on every answer, RateLimit-* where limited, Retry-After on 429', () => {
    for (const { operation, where } of operations) {
      const limited = Array.isArray(operation['x-rate-limit']);
      for (const status of Object.keys(operation.responses as object).map(Number)) {
        const headers = declaredHeaders(document, operation, status);
        expect(headers.get('x-request-id'), `${where} ${status}`).toBe(true);
        expect(headers.has('access-control-allow-origin'), `${where} ${status}`).toBe(true);
        if (status === 429) expect(headers.get('retry-after'), `${where} 429`).toBe(true);
        if (limited && status < 300) {
          for (const name of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'])
            expect(headers.has(name), `${where} ${status} ${name}`).toBe(true);
        }
      }
      if (operation.security?.[0]?.bearerAuth) {
        expect(limited, `${where} is protected, so rate limited`).toBe(true);
        expect(operation['x-rate-limit'][0]).toMatchObject({ limit: expect.any(Number) });
      }
    }
    expect(Object.keys(document.components.headers)).toEqual(
      expect.arrayContaining([
        'X-Request-Id',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Retry-After',
      ]),
    );
  });

  it('has a relative server, so the document is right wherever it is served from', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  describe('answers carry what the document declares', () => {
    /** A request to each operation: a random id for path parameters, an empty JSON body. */
    async function call(op: Operation, init: { payload?: string; contentType?: string } = {}) {
      const url = op.path.replace(/\{\w+\}/g, () => randomUUID());
      const secured = Boolean(op.operation.security?.[0]?.bearerAuth);
      const hasBody = BODY_METHODS.includes(op.method);
      return t.app.inject({
        method: op.method.toUpperCase() as 'GET',
        url,
        headers: {
          origin: ORIGIN,
          ...(secured ? bearer(admin) : {}),
          ...(hasBody ? { 'content-type': init.contentType ?? 'application/json' } : {}),
        },
        ...(hasBody ? { payload: init.payload ?? '{}' } : {}),
      });
    }

    function expectDeclared(op: Operation, response: LightMyRequestResponse, what: string) {
      const where = `${op.where} (${what}) → ${response.statusCode}`;
      expect(Object.keys(op.operation.responses as object), where).toContain(String(response.statusCode));
      for (const [name, required] of declaredHeaders(document, op.operation, response.statusCode)) {
        if (required) expect(response.headers[name], `${where}: ${name}`).toBeDefined();
      }
      expect(response.headers['x-request-id'], where).toBeDefined();
      expect(response.headers['access-control-allow-origin'], where).toBe(ORIGIN);
      if (response.headers['content-type']?.includes('application/json')) {
        const body = response.json();
        if (body.meta) expect(body.meta.requestId, where).toBe(response.headers['x-request-id']);
      }
      // An answer declared as one of the error responses is the error envelope: check that it is.
      if (typeof op.operation.responses[String(response.statusCode)].$ref === 'string') {
        expect(response.json(), where).toMatchObject({
          success: false,
          error: { code: expect.any(String), message: expect.any(String) },
          meta: { requestId: expect.any(String), timestamp: expect.any(String) },
        });
      }
    }

    it('every operation answers a status it declares, with the required headers', async () => {
      for (const op of operations) {
        const response = await call(op);
        expectDeclared(op, response, 'plain request');
        // A protected operation counts the request once it knows the caller: every answer after
        // that carries the limit's state.
        if (op.operation.security?.[0]?.bearerAuth && ![401, 403].includes(response.statusCode)) {
          for (const name of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'])
            expect(response.headers[name], `${op.where} → ${response.statusCode}: ${name}`).toBeDefined();
        }
      }
    });

    it('answers 413 in the envelope where it declares 413', async () => {
      const oversized = JSON.stringify({ padding: 'x'.repeat(BODY_LIMIT) });
      const declaring = operations.filter((op) => op.operation.responses['413']);
      expect(declaring.length).toBeGreaterThanOrEqual(15);
      for (const op of declaring) {
        const response = await call(op, { payload: oversized });
        expect(response.statusCode, op.where).toBe(413);
        expect(response.json().error.code, op.where).toBe('PAYLOAD_TOO_LARGE');
        expectDeclared(op, response, 'oversized body');
      }
    });

    it('answers 415 in the envelope where it declares 415', async () => {
      const declaring = operations.filter((op) => op.operation.responses['415']);
      expect(declaring.length).toBeGreaterThanOrEqual(15);
      for (const op of declaring) {
        const response = await call(op, { payload: '<item/>', contentType: 'application/xml' });
        expect(response.statusCode, op.where).toBe(415);
        expect(response.json().error.code, op.where).toBe('UNSUPPORTED_MEDIA_TYPE');
        expectDeclared(op, response, 'unreadable content type');
      }
    });

    it('a public, rate-limited operation sends RateLimit-* on success and Retry-After on 429', async () => {
      const signIn = operations.find((op) => op.operation.operationId === 'postAuthLogin')!;
      const ok = await login(t.app, admin.user.email, PASSWORD);
      expect(ok.statusCode).toBe(200);
      for (const name of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'])
        expect(ok.headers[name], name).toBeDefined();

      const forgot = operations.find((op) => op.operation.operationId === 'postAuthForgotPassword')!;
      const limit = (forgot.operation['x-rate-limit'] as Json[]).find(
        (note) => note.bucket === 'authAccount',
      )!;
      let last: LightMyRequestResponse | undefined;
      for (let attempt = 0; attempt <= limit.limit; attempt++) {
        last = await t.app.inject({
          method: 'POST',
          url: '/v1/auth/forgot-password',
          headers: { origin: ORIGIN },
          payload: { email: 'someone-limited@example.com' },
        });
      }
      expect(last!.statusCode).toBe(429);
      expectDeclared(forgot, last!, 'over its limit');
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.headers['ratelimit-remaining']).toBe('0');
      expect(signIn.operation.responses['429']).toBeDefined();
    });

    it('a protected operation over its limit answers 429 with what its 429 declares', async () => {
      const upload = operations.find((op) => op.operation.operationId === 'postInventoryBulkImport')!;
      const limit = (upload.operation['x-rate-limit'] as Json[])[0]!.limit as number;
      let last: LightMyRequestResponse | undefined;
      for (let attempt = 0; attempt <= limit; attempt++) {
        last = await call(upload, { payload: '<item/>', contentType: 'application/xml' });
      }
      expect(last!.statusCode).toBe(429);
      expectDeclared(upload, last!, 'over its limit');
    });
  });
});
