import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { bearer, registerStore, type Session } from './helpers/auth.ts';

/**
 * Every request schema in the OpenAPI document, including those of routes added later, must bound
 * what it accepts: objects name their properties and refuse others, strings have a length (or an
 * enum, or a format that bounds them), numbers a range. The input guard fills in the first two
 * when a route is declared; this test fails for a route that opts out (say, with
 * `additionalProperties: true`) or that the guard could not fix (an allOf body).
 */

type Schema = Record<string, unknown>;
const BOUNDED_FORMATS = ['uuid', 'date', 'date-time', 'binary'];

/** Where a request schema accepts more than it names, or unbounded values. */
function looseSpots(document: Schema, schema: unknown, path: string, seen = new Set<unknown>()): string[] {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return [];
  seen.add(schema);
  let s = schema as Schema;
  if (typeof s.$ref === 'string') {
    s = s.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Schema)?.[key], document) as Schema;
  }
  const spots: string[] = [];
  const types = [s.type].flat();
  const isObject = types.includes('object') || s.properties !== undefined;
  if (isObject && s.additionalProperties !== false && s.patternProperties === undefined) {
    spots.push(`${path}: object accepts properties it does not name (set additionalProperties: false)`);
  }
  if (Array.isArray(s.allOf)) {
    spots.push(`${path}: allOf body (its parts cannot refuse unknown properties; use one object)`);
  }
  if (
    types.includes('string') &&
    s.maxLength === undefined &&
    s.enum === undefined &&
    s.const === undefined &&
    !BOUNDED_FORMATS.includes(s.format as string)
  ) {
    spots.push(`${path}: string without maxLength`);
  }
  if (
    (types.includes('number') || types.includes('integer')) &&
    (s.minimum === undefined || s.maximum === undefined)
  ) {
    spots.push(`${path}: number without minimum and maximum`);
  }
  for (const [name, child] of Object.entries((s.properties as Schema | undefined) ?? {})) {
    spots.push(...looseSpots(document, child, `${path}.${name}`, seen));
  }
  if (s.items) spots.push(...looseSpots(document, s.items, `${path}[]`, seen));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(s[key]))
      (s[key] as unknown[]).forEach((child, index) =>
        spots.push(...looseSpots(document, child, `${path}.${key}[${index}]`, seen)),
      );
  }
  return spots;
}

describe('request schemas in the OpenAPI document', () => {
  let t: TestApp;
  let admin: Session;
  let document: Schema;
  let operations: Array<{ method: string; path: string; operation: Schema }>;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await registerStore(t.app, 'Schema Audit Shop');
    document = (await t.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    operations = Object.entries(document.paths as Record<string, Record<string, Schema>>).flatMap(
      ([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ method, path, operation })),
    );
  });
  afterAll(() => t.close());

  it('finds what it looks for (the check itself can fail)', () => {
    expect(
      looseSpots(
        {},
        { type: 'object', properties: { a: { type: 'string' }, n: { type: 'number', minimum: 0 } } },
        'body',
      ),
    ).toEqual([
      'body: object accepts properties it does not name (set additionalProperties: false)',
      'body.a: string without maxLength',
      'body.n: number without minimum and maximum',
    ]);
    expect(
      looseSpots(
        {},
        {
          type: 'object',
          additionalProperties: false,
          properties: { a: { type: 'string', format: 'uuid' } },
        },
        'body',
      ),
    ).toEqual([]);
  });

  it('bounds every JSON body: no unnamed properties, every string and number bounded', () => {
    const spots = operations.flatMap(({ method, path, operation }) => {
      const body = (
        (operation.requestBody as Schema | undefined)?.content as Record<string, Schema> | undefined
      )?.['application/json'];
      return body ? looseSpots(document, body.schema, `${method.toUpperCase()} ${path} body`) : [];
    });
    expect(operations.filter(({ operation }) => operation.requestBody).length).toBeGreaterThanOrEqual(10);
    expect(spots).toEqual([]);
  });

  it('bounds every query, path and header parameter', () => {
    const spots = operations.flatMap(({ method, path, operation }) =>
      ((operation.parameters as Schema[] | undefined) ?? []).flatMap((parameter) =>
        looseSpots(
          document,
          parameter.schema,
          `${method.toUpperCase()} ${path} ${String(parameter.in)}.${String(parameter.name)}`,
        ),
      ),
    );
    expect(spots).toEqual([]);
  });

  it('every operation with a JSON body refuses an unknown field, naming it', async () => {
    const withBody = operations.filter(
      ({ operation }) =>
        ((operation.requestBody as Schema | undefined)?.content as Schema | undefined)?.['application/json'],
    );
    for (const { method, path } of withBody) {
      const url = path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      const response = await t.app.inject({
        method: method.toUpperCase() as 'POST',
        url,
        headers: bearer(admin),
        payload: { unknownFieldFromTheAudit: 1 },
      });
      const where = `${method.toUpperCase()} ${path}`;
      expect(response.statusCode, where).toBe(400);
      expect(response.json().error.details, where).toContainEqual({
        field: 'body.unknownFieldFromTheAudit',
        message: expect.stringContaining('is not a field of this request'),
      });
    }
  });

  it('every operation that declares query parameters refuses an unknown one, naming it', async () => {
    const withQuery = operations.filter(({ operation }) =>
      ((operation.parameters as Schema[] | undefined) ?? []).some((parameter) => parameter.in === 'query'),
    );
    expect(withQuery.length).toBeGreaterThanOrEqual(3);
    for (const { method, path } of withQuery) {
      const url = `${path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000')}?unknownParameterFromTheAudit=1`;
      const response = await t.app.inject({
        method: method.toUpperCase() as 'GET',
        url,
        headers: bearer(admin),
      });
      const where = `${method.toUpperCase()} ${path}`;
      expect(response.statusCode, where).toBe(400);
      expect(response.json().error.details, where).toContainEqual({
        field: 'querystring.unknownParameterFromTheAudit',
        message: expect.stringContaining('is not a field of this request'),
      });
    }
  });
});
