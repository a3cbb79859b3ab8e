import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { addMember, bearer, login, PASSWORD, registerStore, type Session } from './helpers/auth.ts';
import { createItem } from './helpers/inventory.ts';

/**
 * The fuzz walk: every operation of the live OpenAPI document, so routes added later are covered
 * without anyone listing them, gets hostile values in each body field, query parameter, path
 * parameter and declared header, with and without a valid token; multipart operations get
 * malformed multipart bodies. Any 5xx, or any answer outside the response envelope, fails.
 *
 * The values come from fast-check with a fixed seed, so a run is repeatable: one value of every
 * hostile kind per location, plus a few drawn from all kinds at once.
 */

const SEED = 20_160_016;
/** Random extra values per location, on top of one value of every kind. */
const EXTRA_VALUES = 2;
/** Values per location also sent without a token (each is a cheap 401 on protected routes). */
const WITHOUT_TOKEN = 3;

type Schema = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  operation: Schema;
}

/** A hostile value and the kind it belongs to; `nestedDepth` stands for JSON nested that deep. */
interface Hostile {
  kind: string;
  value: unknown;
}
const NESTED = Symbol('nested');
interface Nested {
  [NESTED]: number;
}
const isNested = (value: unknown): value is Nested =>
  typeof value === 'object' && value !== null && NESTED in value;

const around = fc.string({ maxLength: 6 });
const HOSTILE_KINDS: Record<string, fc.Arbitrary<unknown>> = {
  nul: fc.tuple(around, around).map(([a, b]) => `${a}\u0000${b}`),
  loneSurrogate: fc
    .tuple(around, fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF'), around)
    .map(([a, s, b]) => `${a}${s}${b}`),
  hugeString: fc
    .tuple(fc.integer({ min: 5_000, max: 120_000 }), fc.constantFrom('x', 'é', '𝄞', ' '))
    .map(([n, c]) => c.repeat(n)),
  extremeNumber: fc.oneof(
    fc.constantFrom(
      1e308,
      -1e308,
      2 ** 53 + 2,
      -(2 ** 53) - 2,
      5e-324,
      -1,
      2 ** 31,
      2 ** 63,
      -0.5,
      1e9,
      999_999_999.999_9,
    ),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  ),
  numberLikeText: fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-0', '0x1F', '1_000', ' 7 '),
  badDate: fc.oneof(
    fc.constantFrom(
      '2024-02-30',
      '2023-02-29',
      '0000-00-00',
      '9999-99-99',
      '2024-13-01',
      '+275760-09-13',
      '-000001-01-01',
      '10000-01-01',
      '1970-01-01T25:00:00Z',
      '2024-1-1',
      '0000-01-01',
      // Valid, but at the ends of the range: stored, then met by later operations (lists, analytics).
      '0001-01-01',
      '9999-12-31',
    ),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  ),
  nested: fc.integer({ min: 100, max: 20_000 }).map((depth): Nested => ({ [NESTED]: depth })),
  protoKey: fc
    .constantFrom(
      '{"__proto__":{"isAdmin":true}}',
      '{"constructor":{"prototype":{"isAdmin":true}}}',
      '{"prototype":{"isAdmin":true}}',
      '{"a":{"__proto__":{"polluted":1}}}',
    )
    .map((text) => JSON.parse(text) as unknown),
  wrongType: fc.constantFrom(true, false, null, 0, 1, '', {}, [], 'true', 'null'),
  array: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant('\u0000'), fc.constant({})), {
    maxLength: 5,
  }),
};
const ANY_HOSTILE = fc.oneof(
  ...Object.entries(HOSTILE_KINDS).map(([kind, arbitrary]) =>
    arbitrary.map((value): Hostile => ({ kind, value })),
  ),
);

/** Deterministic per location: the same values every run, different values in each place. */
function seedFor(label: string): number {
  return SEED ^ createHash('sha1').update(label).digest().readInt32LE(0);
}
function hostileValues(label: string): Hostile[] {
  const seed = seedFor(label);
  const values = Object.entries(HOSTILE_KINDS).map(([kind, arbitrary]) => ({
    kind,
    value: fc.sample(arbitrary, { seed, numRuns: 1 })[0],
  }));
  return [...values, ...fc.sample(ANY_HOSTILE, { seed: seed + 1, numRuns: EXTRA_VALUES })];
}

/** JSON text for a body holding hostile values (deep nesting is written as text, not recursed). */
function toJson(body: unknown): string {
  const nests: number[] = [];
  const text = JSON.stringify(body, (_key, value: unknown) => {
    if (isNested(value)) {
      nests.push(value[NESTED]);
      return `\u0001NESTED${nests.length - 1}\u0001`;
    }
    return value;
  });
  return (text ?? 'null').replace(/"\\u0001NESTED(\d+)\\u0001"/g, (_match, index: string) => {
    const depth = nests[Number(index)]!;
    return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  });
}

/** A hostile value as it can travel in a URL or a header: text. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isNested(value)) return '['.repeat(value[NESTED]);
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return toJson(value);
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/** encodeURIComponent, but a lone surrogate is sent as the (invalid) UTF-8 bytes of one. */
function encode(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    out +=
      code >= 0xd800 && code <= 0xdfff
        ? `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`
        : encodeURIComponent(char);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Valid values from the schemas, so that one hostile field is not refused only because its
// neighbours were missing.

function resolve(document: Schema, schema: unknown): Schema {
  let current = (schema ?? {}) as Schema;
  for (let hops = 0; typeof current.$ref === 'string' && hops < 10; hops += 1) {
    const pointer = current.$ref.replace(/^#\//, '').split('/');
    current = pointer.reduce<unknown>((node, key) => (node as Schema)?.[key], document) as Schema;
  }
  return current;
}

function branches(document: Schema, schema: Schema): Schema[] {
  const list = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  return list ? list.map((branch) => resolve(document, branch)) : [schema];
}

/** A schema's object properties, across allOf/anyOf branches. */
function propertiesOf(
  document: Schema,
  schema: Schema,
): { properties: Record<string, Schema>; required: string[] } {
  const parts = [schema, ...((schema.allOf as unknown[]) ?? []).map((part) => resolve(document, part))];
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const part of parts) {
    for (const [name, property] of Object.entries((part.properties as Record<string, unknown>) ?? {})) {
      properties[name] = resolve(document, property);
    }
    required.push(...((part.required as string[]) ?? []));
  }
  return { properties, required };
}

class ValidValues {
  #counter = 0;
  readonly document: Schema;
  readonly ids: { uuid: string };
  constructor(document: Schema, ids: { uuid: string }) {
    this.document = document;
    this.ids = ids;
  }

  of(schema: Schema, name: string): unknown {
    const s = branches(this.document, schema).find((branch) => branch.type !== 'null') ?? schema;
    if (s.const !== undefined) return s.const;
    if (Array.isArray(s.enum)) return s.enum[0];
    if (s.default !== undefined) return s.default;
    this.#counter += 1;
    switch (s.type) {
      case 'boolean':
        return true;
      case 'integer':
      case 'number': {
        const minimum = typeof s.minimum === 'number' ? s.minimum : 1;
        return Math.max(minimum, 1);
      }
      case 'array':
        return [];
      case 'object': {
        const { properties, required } = propertiesOf(this.document, s);
        return Object.fromEntries(required.map((key) => [key, this.of(properties[key] ?? {}, key)]));
      }
      default:
        return this.#string(s, name);
    }
  }

  #string(s: Schema, name: string): string {
    switch (s.format) {
      case 'email':
        return `fuzz-${this.#counter}-${seedFor(name) >>> 0}@example.com`;
      case 'uuid':
        return this.ids.uuid;
      case 'date':
        return '2031-06-15';
      case 'date-time':
        return '2031-06-15T10:00:00.000Z';
      case 'binary':
        return '';
    }
    if (typeof s.pattern === 'string') {
      return fc.sample(fc.stringMatching(new RegExp(s.pattern)), { seed: seedFor(name), numRuns: 1 })[0]!;
    }
    // Distinct per field, so a password never equals the username it sits beside.
    const text = `fuzz ${name} ${this.#counter}`;
    const min = typeof s.minLength === 'number' ? s.minLength : 0;
    const max = typeof s.maxLength === 'number' ? s.maxLength : text.length;
    return text.padEnd(min, 'x').slice(0, Math.max(max, min));
  }
}

/** Every leaf (and object) location of a body schema, as property paths, a few levels deep. */
function bodyLocations(document: Schema, schema: Schema, prefix: string[] = [], depth = 0): string[][] {
  const { properties } = propertiesOf(document, schema);
  const locations: string[][] = [];
  for (const [name, property] of Object.entries(properties)) {
    const path = [...prefix, name];
    locations.push(path);
    if (depth < 2 && branches(document, property).some((branch) => branch.type === 'object')) {
      const objectBranch = branches(document, property).find((branch) => branch.type === 'object')!;
      locations.push(...bodyLocations(document, objectBranch, path, depth + 1));
    }
  }
  return locations;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) {
      Object.defineProperty(node, key, { value: {}, enumerable: true, writable: true, configurable: true });
    }
    node = node[key] as Record<string, unknown>;
  }
  Object.defineProperty(node, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Multipart bodies that are broken in every way a client manages to break them.

function multipartCases(
  fields: Record<string, Schema>,
): Array<{ kind: string; request: Partial<InjectOptions> }> {
  const boundary = '----fuzz-boundary-7MA4YWxkTrZu0gW';
  const type = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  const filePart = (name: string, filename: string, content: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n` +
    `Content-Type: text/csv\r\n\r\n${content}\r\n`;
  const field = (name: string, value: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const end = `--${boundary}--\r\n`;
  const csv = 'description,sku,qty\nFuzz apples,FUZZ-1,3\n';
  const fileField = Object.keys(fields).find((name) => fields[name]?.format === 'binary') ?? 'file';
  const textFields = Object.keys(fields).filter((name) => name !== fileField);
  const cases: Array<{ kind: string; request: Partial<InjectOptions> }> = [
    {
      kind: 'truncated',
      request: { headers: type, payload: filePart(fileField, 'a.csv', csv).slice(0, 90) },
    },
    {
      kind: 'truncatedFile',
      request: {
        headers: type,
        payload: `--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="a.csv"\r\n\r\ndescription,sku\nx,`,
      },
    },
    {
      kind: 'badBoundary',
      request: {
        headers: { 'content-type': 'multipart/form-data; boundary=not-the-one' },
        payload: filePart(fileField, 'a.csv', csv) + end,
      },
    },
    {
      kind: 'noBoundary',
      request: {
        headers: { 'content-type': 'multipart/form-data' },
        payload: filePart(fileField, 'a.csv', csv) + end,
      },
    },
    { kind: 'empty', request: { headers: type, payload: '' } },
    { kind: 'onlyTerminator', request: { headers: type, payload: end } },
    {
      kind: 'noFilePart',
      request: { headers: type, payload: field(textFields[0] ?? 'options', '{}') + end },
    },
    {
      kind: 'twoFileParts',
      request: {
        headers: type,
        payload: filePart(fileField, 'a.csv', csv) + filePart(fileField, 'b.csv', csv) + end,
      },
    },
    { kind: 'wrongFieldName', request: { headers: type, payload: filePart('upload', 'a.csv', csv) + end } },
    {
      kind: 'unknownField',
      request: {
        headers: type,
        payload: field('validateOnly', 'true') + filePart(fileField, 'a.csv', csv) + end,
      },
    },
    {
      kind: 'nulFilename',
      request: { headers: type, payload: filePart(fileField, 'a\u0000.csv', csv) + end },
    },
    {
      kind: 'nulCell',
      request: {
        headers: type,
        payload: filePart(fileField, 'a.csv', 'description,sku\nbad\u0000apple,FUZZ-NUL\n') + end,
      },
    },
    {
      kind: 'surrogateCell',
      request: {
        headers: type,
        payload: filePart(fileField, 'a.csv', 'description,sku\nbad\uD800apple,FUZZ-SUR\n') + end,
      },
    },
    {
      kind: 'jsonNotMultipart',
      request: { headers: { 'content-type': 'application/json' }, payload: '{"file":"x"}' },
    },
    { kind: 'textNotMultipart', request: { headers: { 'content-type': 'text/plain' }, payload: csv } },
    {
      kind: 'octetNotMultipart',
      request: { headers: { 'content-type': 'application/octet-stream' }, payload: csv },
    },
    {
      kind: 'headerGarbage',
      request: { headers: type, payload: `--${boundary}\r\nContent-Disposition: ;;;\r\n\r\nx\r\n${end}` },
    },
  ];
  for (const name of textFields) {
    for (const { kind, value } of hostileValues(`multipart ${name}`)) {
      cases.push({
        kind: `${name}:${kind}`,
        request: {
          headers: type,
          payload: field(name, asText(value)) + filePart(fileField, 'a.csv', csv) + end,
        },
      });
    }
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------

interface Failure {
  key: string;
  status: number;
  problem: string;
  body: string;
}

function successIsEnvelope(operation: Schema, status: number): boolean {
  const responses = (operation.responses ?? {}) as Record<string, Schema>;
  const declared = responses[String(status)] ?? responses['2XX'] ?? responses.default;
  const content = declared?.content as Record<string, Schema> | undefined;
  const schema = content?.['application/json']?.schema as Schema | undefined;
  return Boolean(schema && (schema.properties as Schema | undefined)?.success);
}

/** Why an answer breaks the contract, or null when it keeps it. */
function contractProblem(operation: Schema, status: number, headers: Record<string, unknown>, body: string) {
  if (status >= 500) return `status ${status}`;
  if (status === 204) return null;
  if (status < 400 && !successIsEnvelope(operation, status)) return null;
  const contentType = headers['content-type'];
  if (typeof contentType !== 'string' || !contentType.startsWith('application/json')) return 'not JSON';
  let parsed: {
    success?: unknown;
    error?: { code?: unknown; message?: unknown };
    meta?: { requestId?: unknown };
  };
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'body does not parse';
  }
  if (typeof parsed?.success !== 'boolean' || typeof parsed.meta?.requestId !== 'string')
    return 'not in the envelope';
  if (
    status >= 400 &&
    (parsed.success !== false ||
      typeof parsed.error?.code !== 'string' ||
      typeof parsed.error.message !== 'string')
  )
    return 'error not in the envelope';
  return null;
}

describe('fuzz walk over the OpenAPI document', () => {
  let t: TestApp;
  let admin: Session;
  let document: Schema;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await registerStore(t.app, 'Fuzz Foods');
    await addMember(t.app, t.testDatabase.database, admin, 'employee');
    await createItem(t.app, admin, { description: 'Fuzz pears', itemSku: 'FUZZ-SEED', remainingStock: 5 });
    document = (await t.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
  });
  afterAll(() => t.close());

  /** The admin's token, signed in again if an operation ended the session (or a new store). */
  async function liveAdmin(app: FastifyInstance): Promise<Session> {
    const me = await app.inject({ method: 'GET', url: '/v1/users/me', headers: bearer(admin) });
    if (me.statusCode === 200) return admin;
    const again = await login(app, admin.user.email, PASSWORD);
    admin =
      again.statusCode === 200
        ? again.json<{ data: Session }>().data
        : await registerStore(app, 'Fuzz Foods 2');
    return admin;
  }

  /** A real id for a path such as /v1/inventory/{id}: the first record of its collection that is not the caller. */
  async function realIdFor(app: FastifyInstance, path: string): Promise<string | undefined> {
    const collection = path.slice(0, path.indexOf('/{'));
    const listed = await app.inject({ method: 'GET', url: collection, headers: bearer(admin) });
    if (listed.statusCode !== 200) return undefined;
    const { data } = listed.json<{ data?: unknown }>();
    if (!Array.isArray(data)) return undefined;
    return (data as Array<{ id?: string }>).find((record) => record.id && record.id !== admin.user.id)?.id;
  }

  it(
    'answers every hostile request with a 4xx (or 2xx) in the envelope, never a 5xx',
    { timeout: 300_000 },
    async () => {
      const { app } = t;
      const operations: Operation[] = Object.entries(
        document.paths as Record<string, Record<string, Schema>>,
      ).flatMap(([path, methods]) =>
        Object.entries(methods)
          .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
          .map(([method, operation]) => ({ method, path, operation })),
      );
      // Operations that end things run last, so they do not take the records or the session away
      // from the rest of the walk (which signs in again when it must).
      const ending = (op: Operation) => op.method === 'delete' || /logout|reset-password/.test(op.path);
      operations.sort((a, b) => Number(ending(a)) - Number(ending(b)));

      const failures = new Map<string, Failure>();
      let requests = 0;
      let unsendable = 0;

      for (const op of operations) {
        const name = `${op.method.toUpperCase()} ${op.path}`;
        const session = await liveAdmin(app);
        const parameters = ((op.operation.parameters as Schema[]) ?? []).map((p) => resolve(document, p));
        const pathParameters = parameters.filter((p) => p.in === 'path');
        const realId = pathParameters.length ? await realIdFor(app, op.path) : undefined;
        const valid = new ValidValues(document, { uuid: realId ?? '00000000-0000-4000-8000-000000000000' });
        const validPath: Record<string, string> = Object.fromEntries(
          pathParameters.map((p) => [
            p.name as string,
            String(valid.of((p.schema as Schema) ?? {}, p.name as string)),
          ]),
        );
        const jsonBody = (
          (op.operation.requestBody as Schema | undefined)?.content as Record<string, Schema> | undefined
        )?.['application/json'];
        const multipartBody = (
          (op.operation.requestBody as Schema | undefined)?.content as Record<string, Schema> | undefined
        )?.['multipart/form-data'];
        const bodySchema = jsonBody ? resolve(document, jsonBody.schema) : undefined;
        const baseBody = () =>
          bodySchema ? (valid.of(bodySchema, 'body') as Record<string, unknown>) : undefined;

        const send = async (
          location: string,
          kind: string,
          request: {
            path?: Record<string, string>;
            query?: string;
            body?: string;
            headers?: Record<string, string>;
            payload?: InjectOptions['payload'];
          },
          withToken: boolean,
        ) => {
          const url =
            op.path.replace(
              /\{(\w+)\}/g,
              (_m, key: string) => request.path?.[key] ?? encode(validPath[key] ?? ''),
            ) + (request.query ? `?${request.query}` : '');
          const headers: Record<string, string> = {
            ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(withToken ? bearer(session) : {}),
            ...request.headers,
          };
          let response;
          try {
            response = await app.inject({
              method: op.method.toUpperCase() as InjectOptions['method'],
              url,
              headers,
              payload: request.payload ?? request.body,
            });
          } catch {
            unsendable += 1; // the HTTP client itself refuses it (e.g. a NUL in a header)
            return;
          }
          requests += 1;
          const problem = contractProblem(op.operation, response.statusCode, response.headers, response.body);
          if (problem) {
            const key = `${name} | ${location} | ${kind}`;
            if (!failures.has(key))
              failures.set(key, {
                key,
                status: response.statusCode,
                problem,
                body: response.body.slice(0, 300),
              });
          }
        };

        const withAndWithout = async (
          location: string,
          values: Array<Hostile & { request: Parameters<typeof send>[2] }>,
        ) => {
          for (const { kind, request } of values) await send(location, kind, request, true);
          for (const { kind, request } of values.slice(0, WITHOUT_TOKEN))
            await send(location, kind, request, false);
        };

        // Path parameters, one at a time.
        for (const parameter of pathParameters) {
          const key = parameter.name as string;
          const location = `path.${key}`;
          const values = [
            ...hostileValues(`${name} ${location}`),
            { kind: 'badEscape', value: '%E0%A4%A' },
            { kind: 'dotDot', value: '..' },
          ];
          await withAndWithout(
            location,
            values.map(({ kind, value }) => ({
              kind,
              value,
              request: {
                path: { [key]: kind === 'badEscape' ? (value as string) : encode(asText(value)) },
                body: bodySchema ? toJson(baseBody()) : undefined,
              },
            })),
          );
        }

        // Query parameters, one at a time, plus keys that are not parameters at all.
        const queryParameters = parameters.filter((p) => p.in === 'query').map((p) => p.name as string);
        for (const key of [...queryParameters, '__proto__', 'constructor', 'unknownParameter']) {
          const location = `query.${key}`;
          const declared = queryParameters.includes(key);
          const values = [
            // Keys that are not parameters get the kinds that matter for any text; declared ones all.
            ...hostileValues(`${name} ${location}`).filter(
              ({ kind }) => declared || ['nul', 'loneSurrogate', 'hugeString'].includes(kind),
            ),
            { kind: 'repeated', value: ['1', '2'] },
            { kind: 'badEscape', value: '%E0%A4%A' },
          ];
          await withAndWithout(
            location,
            values.map(({ kind, value }) => ({
              kind,
              value,
              request: {
                query:
                  kind === 'repeated'
                    ? `${key}=1&${key}=2`
                    : kind === 'badEscape'
                      ? `${key}=${value as string}`
                      : `${encodeURIComponent(key)}=${encode(asText(value))}`,
                body: bodySchema ? toJson(baseBody()) : undefined,
              },
            })),
          );
        }

        // Declared headers.
        for (const parameter of parameters.filter((p) => p.in === 'header')) {
          const key = parameter.name as string;
          const location = `header.${key}`;
          await withAndWithout(
            location,
            hostileValues(`${name} ${location}`).map(({ kind, value }) => ({
              kind,
              value,
              request: {
                headers: { [key]: asText(value).slice(0, 8_000) },
                body: bodySchema ? toJson(baseBody()) : undefined,
              },
            })),
          );
        }

        // The Authorization header itself.
        for (const [kind, value] of Object.entries({
          garbage: 'Bearer not-a-token',
          threeDots: 'Bearer a.b.c',
          huge: `Bearer ${'a'.repeat(20_000)}`,
          algNone: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"${admin.user.id}","role":"admin"}`).toString('base64url')}.`,
          basic: 'Basic YWRtaW46YWRtaW4=',
          nul: 'Bearer \u0000',
        })) {
          await send(
            'header.authorization',
            kind,
            { headers: { authorization: value }, body: bodySchema ? toJson(baseBody()) : undefined },
            false,
          );
        }

        // JSON body: each field, then the body as a whole.
        if (bodySchema) {
          for (const path of bodyLocations(document, bodySchema)) {
            const location = `body.${path.join('.')}`;
            await withAndWithout(
              location,
              hostileValues(`${name} ${location}`).map(({ kind, value }) => {
                const body = baseBody() ?? {};
                setPath(body, path, value);
                return { kind, value, request: { body: toJson(body) } };
              }),
            );
          }
          const wholeBodies: Record<string, string> = {
            protoTop: '{"__proto__":{"role":"admin"}}',
            constructorTop: '{"constructor":{"prototype":{"role":"admin"}}}',
            unknownField: toJson({ ...baseBody(), unknownFieldFromFuzz: 1 }),
            array: '[]',
            string: '"text"',
            null: 'null',
            number: '7',
            deepArray: `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
            deepObject: toJson({ [NESTED]: 30_000 }),
            huge: `[${'1,'.repeat(400_000)}1]`,
            overLimit: `"${'x'.repeat(1_100_000)}"`,
            malformed: '{"a":',
            trailingGarbage: `${toJson(baseBody())}xyz`,
            nulRaw: '{"a":"\u0000"}',
            duplicateKeys: '{"a":1,"a":2}',
          };
          for (const [kind, text] of Object.entries(wholeBodies))
            await send('body', kind, { body: text }, true);
          for (const [kind, contentType] of Object.entries({
            textPlain: 'text/plain',
            noType: '',
            formUrlEncoded: 'application/x-www-form-urlencoded',
            jsonWithCharset: 'application/json; charset=latin1',
          })) {
            await send(
              'body.content-type',
              kind,
              { body: toJson(baseBody()), headers: { 'content-type': contentType } },
              true,
            );
          }
        }

        if (multipartBody) {
          const { properties } = propertiesOf(document, resolve(document, multipartBody.schema));
          const cases = multipartCases(properties);
          for (const { kind, request } of cases) {
            await send(
              'multipart',
              kind,
              { headers: request.headers as Record<string, string>, payload: request.payload },
              true,
            );
          }
          for (const { kind, request } of cases.slice(0, WITHOUT_TOKEN)) {
            await send(
              'multipart',
              kind,
              { headers: request.headers as Record<string, string>, payload: request.payload },
              false,
            );
          }
        }

        if (!bodySchema && !multipartBody && pathParameters.length === 0 && queryParameters.length === 0) {
          await send('none', 'plain', {}, true);
          await send('none', 'plain', {}, false);
        }
      }

      const found = [...failures.values()];
      console.log(
        `fuzz walk: ${operations.length} operations, ${requests} requests (${unsendable} refused by the client), ` +
          `${found.length} distinct failures (operation | location | kind)`,
      );
      for (const failure of found)
        console.log(`  ${failure.key}: ${failure.status} ${failure.problem} ${failure.body}`);
      expect(requests).toBeGreaterThan(1000);
      expect(found.map((failure) => `${failure.key}: ${failure.status} ${failure.problem}`)).toEqual([]);
    },
  );
});
