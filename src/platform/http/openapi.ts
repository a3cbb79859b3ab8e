import { isDeepStrictEqual } from 'node:util';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { ErrorEnvelope } from './envelope.ts';
import { RATE_LIMITS, type RateLimitBucket } from './rate-limit.ts';

/**
 * The OpenAPI document at /v1/openapi.json. Routes describe themselves with TypeBox schemas and
 * the guard adds what it enforces (security, permission, rate limit, error answers); everything
 * a client generator or a validating proxy also needs, and that holds for every route alike, is
 * added here, once, when the document is made:
 *
 * - a stable operationId per operation (method + path, camelCase; a route may set its own);
 * - query parameters and body properties with a default are optional, since the server fills
 *   them in (TypeBox types them as present for the handler);
 * - error answers are $refs to one response per status (components.responses), each carrying
 *   the one error envelope (components.schemas.ErrorEnvelope);
 * - 413 and 415 on every method that reads a body, 500 and 503 (shutting down, database busy) everywhere;
 * - the response headers the server sends (components.headers): X-Request-Id and CORS on every
 *   answer, RateLimit-* on the answers of rate-limited operations, Retry-After on 429;
 * - integer formats (int32/int64), a relative `servers` entry, explicit anonymous security.
 *
 * `npm run openapi:lint` checks the result with Redocly and Spectral's OWASP rules.
 */

type Json = Record<string, unknown>;

export interface OpenApiOptions {
  version: string;
}

/** One limit an operation counts against, as `x-rate-limit` states it. */
export interface RateLimitNote {
  bucket: RateLimitBucket;
  limit: number;
  windowSeconds: number;
}

/** The `x-rate-limit` extension of an operation that counts against these buckets. */
export function rateLimitNotes(buckets: RateLimitBucket[]): RateLimitNote[] {
  return buckets.map((bucket) => ({
    bucket,
    limit: RATE_LIMITS[bucket].points,
    windowSeconds: RATE_LIMITS[bucket].durationSeconds,
  }));
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Methods whose body Fastify reads: each can answer 413 (too large) and 415 (unknown type). */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

const INT32 = 2 ** 31;

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });
const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

/** Response headers, declared once and referenced from each response. */
const HEADERS: Record<string, Json> = {
  'X-Request-Id': {
    description:
      "This request's id, also `meta.requestId` and on every log line of it. A caller's own " +
      '`X-Request-Id` is kept when it is a plain token; otherwise one is minted.',
    required: true,
    schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' },
  },
  'Access-Control-Allow-Origin': {
    description: "Sent when the request's `Origin` is one of ALLOWED_ORIGINS (CORS).",
    required: false,
    schema: { type: 'string', maxLength: 2048 },
  },
  'RateLimit-Limit': {
    description:
      'Requests allowed per window by the tightest limit this request counted against ' +
      '(absent when rate limits are off or the request was refused before being counted).',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: 1_000_000 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window of that limit.',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: 1_000_000 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the current window of that limit ends.',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: 86_400 },
  },
  'Retry-After': {
    description:
      'Seconds to wait before trying again: until the rate limit admits another request (429), or until the service is expected back (503).',
    required: true,
    schema: { type: 'integer', minimum: 1, maximum: 86_400 },
  },
};

/** One reusable response per error status; unknown statuses get a generic name. */
const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: {
    name: 'BadRequest',
    description: 'The request is malformed or invalid; for invalid fields `error.details` names each one.',
  },
  401: { name: 'Unauthorized', description: 'No valid access token, or its session has ended.' },
  403: { name: 'Forbidden', description: 'The caller lacks the permission this operation needs.' },
  404: {
    name: 'NotFound',
    description: "No such record in the caller's store (another store's records answer the same).",
  },
  409: { name: 'Conflict', description: 'The request conflicts with the current state.' },
  413: {
    name: 'PayloadTooLarge',
    description:
      'The body is larger than BODY_LIMIT_BYTES (an import file: IMPORT_MAX_BYTES; an uploaded file: FILE_MAX_BYTES).',
  },
  415: {
    name: 'UnsupportedMediaType',
    description:
      "The body's Content-Type is not one this operation reads (an uploaded file: its detected type is not one it accepts).",
  },
  416: {
    name: 'RangeNotSatisfiable',
    description: 'The `Range` asked for starts past the end; `Content-Range: bytes */size` says the size.',
  },
  422: { name: 'UnprocessableEntity', description: 'The request is well formed but cannot be applied.' },
  429: {
    name: 'TooManyRequests',
    description: 'A rate limit is spent; `Retry-After` says when to try again.',
  },
  500: {
    name: 'InternalError',
    description: 'An unexpected failure. The message says nothing more; the request id finds it in the log.',
  },
  503: {
    name: 'ServiceUnavailable',
    description:
      'The service cannot answer now (a required service is down, every database connection stayed busy, or this instance is shutting down); `Retry-After` says when to try again.',
  },
};

export function errorResponseName(status: number): string {
  return ERROR_RESPONSES[status]?.name ?? `Error${status}`;
}

/**
 * Headers of an answer with this status; RateLimit-* where a limit may have counted it, and
 * Retry-After on 429 and on the error envelope's 503 (errors.ts sends it with every 503 it renders;
 * /health's own 503 is a report, not a refusal, and has none).
 */
function headersFor(status: number, rateLimited: boolean, errorEnvelope = false): Record<string, Json> {
  const names = ['X-Request-Id', 'Access-Control-Allow-Origin'];
  if (rateLimited && ((status >= 200 && status < 300) || (status >= 400 && status < 500))) {
    names.push(...RATE_LIMIT_HEADERS);
  }
  if (status === 429 || (status === 503 && errorEnvelope)) names.push('Retry-After');
  return Object.fromEntries(names.map((name) => [name, headerRef(name)]));
}

const pascal = (word: string) =>
  word
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');

/**
 * `GET /v1/inventory/{id}/history` → `getInventoryByIdHistory`: the method, then each path
 * segment (the `v1` prefix dropped, parameters as `By…`). Derived from what identifies the
 * operation, so it stays the same as long as the route does.
 */
export function operationIdFor(method: string, path: string): string {
  const segments = path.split('/').filter(Boolean);
  if (segments[0] === 'v1') segments.shift();
  const words = segments.map((segment) => {
    const parameter = /^\{(.+)\}$/.exec(segment);
    return parameter ? `By${pascal(parameter[1]!)}` : pascal(segment);
  });
  return method.toLowerCase() + (words.join('') || 'Root');
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A property with a default may be left out: the server fills it in (ajv `useDefaults`). */
function relaxDefaults(schema: unknown): void {
  if (Array.isArray(schema)) {
    schema.forEach(relaxDefaults);
    return;
  }
  if (!isObject(schema)) return;
  const properties = isObject(schema.properties) ? schema.properties : undefined;
  if (properties && Array.isArray(schema.required)) {
    const required = (schema.required as string[]).filter(
      (name) => !(isObject(properties[name]) && 'default' in properties[name]),
    );
    if (required.length) schema.required = required;
    else delete schema.required;
  }
  for (const key of ['properties', 'items', 'anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const child = schema[key];
    if (key === 'properties' && isObject(child)) Object.values(child).forEach(relaxDefaults);
    else relaxDefaults(child);
  }
}

/** Every integer states int32 or int64: int32 when its bounds fit, else int64 (JSON numbers are safe up to 2^53). */
function addIntegerFormats(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(addIntegerFormats);
    return;
  }
  if (!isObject(node)) return;
  const type = node.type;
  if ((type === 'integer' || (Array.isArray(type) && type.includes('integer'))) && !node.format) {
    const fits = (bound: unknown) => typeof bound === 'number' && bound >= -INT32 && bound < INT32;
    node.format = fits(node.minimum) && fits(node.maximum) ? 'int32' : 'int64';
  }
  Object.values(node).forEach(addIntegerFormats);
}

/** The envelope as a schema, minus what only names or describes it. */
function bareSchema(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const { title: _title, description: _description, $id: _id, ...rest } = schema;
  return rest;
}

function isErrorEnvelopeResponse(response: Json, envelope: unknown): boolean {
  const content = isObject(response.content) ? response.content : {};
  const media = content['application/json'];
  if (!isObject(media) || Object.keys(content).length !== 1) return false;
  const schema = media.schema;
  if (isObject(schema) && schema.$ref === '#/components/schemas/ErrorEnvelope') return true;
  return isDeepStrictEqual(bareSchema(schema), bareSchema(envelope));
}

export interface RouteFacts {
  /** `method path` (Fastify's `:param` form) → the permission the route requires. */
  permissions: Map<string, string>;
  /** `method path` → the multipart body of a route that streams its parts itself. */
  multipartBodies: Map<string, unknown>;
}

/**
 * Finishes the document @fastify/swagger generated (see the module comment). Pure: works on a
 * copy, so the schemas Fastify validates with are never touched.
 */
export function finishDocument(generated: object, facts: RouteFacts): Json {
  const document = structuredClone(generated) as Json;
  const components = (document.components ??= {}) as Json;
  const schemas = (components.schemas ??= {}) as Json;
  const envelope = schemas.ErrorEnvelope;
  if (!envelope) throw new Error('the ErrorEnvelope schema is not registered (app.addSchema)');

  document.servers = [
    {
      url: '/',
      description:
        'The instance serving this document, in whichever environment it runs (local, staging or production).',
      'x-internal': false,
    },
  ];
  components.headers = structuredClone(HEADERS);
  const responses: Json = {};

  const errorResponse = (status: number) => {
    const name = errorResponseName(status);
    responses[name] ??= {
      description: ERROR_RESPONSES[status]?.description ?? 'Error',
      headers: headersFor(status, true, true),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
    };
    return { $ref: `#/components/responses/${name}` };
  };

  for (const [path, pathItem] of Object.entries((document.paths ?? {}) as Record<string, Json>)) {
    const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1');
    for (const [method, operation] of Object.entries(pathItem)) {
      if (!HTTP_METHODS.includes(method) || !isObject(operation)) continue;
      const key = `${method} ${fastifyPath}`;

      operation.operationId ??= operationIdFor(method, path);
      const permission = facts.permissions.get(key);
      if (permission) operation['x-permission'] = permission;
      const multipartBody = facts.multipartBodies.get(key);
      if (multipartBody) {
        operation.requestBody = {
          required: true,
          content: { 'multipart/form-data': { schema: structuredClone(multipartBody) } },
        };
      }
      // Routes without a scheme are open to anyone; say so, rather than leave it unstated.
      operation.security ??= [{}];

      for (const parameter of (operation.parameters ?? []) as Json[]) {
        if (parameter.in !== 'path' && isObject(parameter.schema) && 'default' in parameter.schema) {
          parameter.required = false;
        }
      }
      const body = operation.requestBody;
      if (isObject(body) && isObject(body.content)) {
        for (const media of Object.values(body.content)) if (isObject(media)) relaxDefaults(media.schema);
      }

      const answers = (operation.responses ??= {}) as Record<string, Json>;
      const rateLimited = Array.isArray(operation['x-rate-limit']);
      const extra = [500, 503, ...(BODY_METHODS.has(method) ? [413, 415] : [])];
      for (const status of extra)
        answers[status] ??= { content: { 'application/json': { schema: envelope } } };
      for (const [status, answer] of Object.entries(answers)) {
        if ('$ref' in answer) continue;
        const code = Number(status);
        if (code >= 400 && isErrorEnvelopeResponse(answer, envelope)) {
          answers[status] = errorResponse(code);
        } else {
          answer.headers = { ...headersFor(code, rateLimited), ...(answer.headers as Json | undefined) };
        }
      }
      // Keep the statuses in order, as a reader expects them.
      operation.responses = Object.fromEntries(
        Object.entries(answers).sort(([a], [b]) => a.localeCompare(b)),
      );
    }
  }

  components.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
  addIntegerFormats(document);
  return document;
}

/**
 * Registers @fastify/swagger with the document's fixed parts and `finishDocument`. Call before
 * any route is added: it records each route's permission and multipart body as it is added.
 */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  app.addSchema(ErrorEnvelope);
  const facts: RouteFacts = { permissions: new Map(), multipartBodies: new Map() };
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const key = `${method.toLowerCase()} ${route.url}`;
      if (route.config?.permission) facts.permissions.set(key, route.config.permission);
      if (route.config?.multipartBody) facts.multipartBodies.set(key, route.config.multipartBody);
    }
  });
  await app.register(swagger, {
    // Shared schemas are components named by their $id (ErrorEnvelope), not def-0, def-1...
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      return finishDocument(documentObject.openapiObject, facts);
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Fresh Choice API',
        version: options.version,
        description:
          'Inventory management for grocery and fresh-food stores. Every response uses the `ApiResponse` envelope: ' +
          '`{ success, data?, error?: {code, message, details?}, meta: {timestamp, requestId, pagination?} }`. ' +
          'Realtime events (stock, alerts, purchasing) are delivered over a WebSocket at `GET /ws`: authenticate with ' +
          'a first `auth` message or `Sec-WebSocket-Protocol: access_token, <jwt>`, `subscribe` to channels, resume ' +
          'with `lastEventId`; the full protocol (channels, permissions, resume, close codes 4001/4401/4408/4409) is ' +
          '`docs/websocket.md` in the repository.',
      },

      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'The access token from `POST /v1/auth/login` (or register, or refresh): a JWS signed with ' +
              'HS256, checked as RFC8725 advises: the algorithm is pinned (`alg: none` and every other ' +
              'algorithm are refused), and issuer, audience, expiry and the live session are verified.',
          },
        },
      },
      tags: [
        { name: 'auth', description: 'Registration, sign-in, tokens, password recovery' },
        { name: 'users', description: 'Your profile; members, roles and the audit trail (admin)' },
        { name: 'settings', description: 'Store settings' },
        {
          name: 'inventory',
          description: 'Items, lots with expiry, the stock ledger, search, import, barcodes',
        },
        {
          name: 'alerts',
          description: 'Low-stock and expiry alerts: one live alert per item and kind, resolved by itself',
        },
        {
          name: 'jobs',
          description: "Background jobs: start, follow, cancel, retry; the store's schedules",
        },
        { name: 'files', description: 'Uploaded documents and images: upload, list, download, delete' },
        {
          name: 'vendors',
          description: 'Vendors, their catalogues (case packs, price breaks, lead times) and performance',
        },
        {
          name: 'purchasing',
          description: 'Purchase orders to vendors (states, PDF, e-mail) and receipts of what arrived',
        },
        {
          name: 'invoices',
          description:
            'Vendor invoices: upload, extraction, matching, review, approval into stock, reconciliation, payment',
        },
        {
          name: 'shopping-lists',
          description:
            'Shopping lists: generated from forecasts, optimised across vendors, turned into orders',
        },
        {
          name: 'notifications',
          description: 'Web push subscriptions and preferences, the in-app inbox, admin messages',
        },
        {
          name: 'ml',
          description:
            'Demand forecasts and the promotion calendar they use, order optimisation and anomaly detection from the stored forecasts',
        },
        { name: 'operations', description: 'Health, metrics and this document' },
      ],
    },
  });
}
