import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import type { AppError } from './errors.ts';
import { errorEnvelope, errors } from './errors.ts';

/**
 * The platform's guard against hostile input, applied once here so every route, including the
 * ones added later, inherits it:
 *
 * - JSON bodies are parsed by our own parser, which refuses (400 VALIDATION_ERROR naming the
 *   field) NUL characters, lone UTF-16 surrogates and over-long strings at any depth, numbers
 *   JSON.parse turns into Infinity, nesting deeper than MAX_JSON_DEPTH, and the keys `__proto__`,
 *   `constructor` and `prototype`. PostgreSQL cannot store a NUL in text (it answered 500), and a
 *   lone surrogate is silently replaced by U+FFFD on its way to the database.
 * - Query, path and declared header parameters get the same text checks before validation, on
 *   the routes that have them (GET requests have no body to walk, and a query string holds a few
 *   short values).
 * - After validation, numbers that ajv coerced from text are checked to be finite: ajv turns
 *   "Infinity" into Infinity and then skips `minimum`/`maximum` for it.
 * - Request schemas are hardened when a route is declared: objects refuse properties they do not
 *   name (additionalProperties: false, unless a schema says otherwise), and strings without a
 *   maxLength get the platform cap, so the OpenAPI document states the bound.
 * - Write routes of a resource (PUT/PATCH, POST answering 201) remember which of the resource's
 *   fields their body may not set, so an attempt is a 403 naming the field (see errors.ts).
 * - `text/plain` has no parser: a JSON body sent as text is a 415, as for any other unsupported type.
 *
 * Multipart fields and import cells use `textProblem` where they are read.
 */

/** Longest string accepted anywhere (characters); a route may raise it with `config.maxTextLength`. */
export const MAX_TEXT_LENGTH = 10_000;
/** Deepest nesting of objects and arrays accepted in a JSON body. */
export const MAX_JSON_DEPTH = 32;
/** Keys that mean something to JavaScript objects, never to this API. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Problems reported per request; the rest would only make the answer longer. */
const MAX_PROBLEMS = 20;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Longest string this route accepts, if not MAX_TEXT_LENGTH. */
    maxTextLength?: number;
    /** Fields of the resource this write route may not set (filled in by the input guard). */
    readOnlyFields?: ReadonlySet<string>;
  }
}

export interface InputProblem {
  field: string;
  message: string;
}

/** Why a text cannot be accepted, or null if it can. */
export function textProblem(text: string, maxLength = MAX_TEXT_LENGTH): string | null {
  if (text.length > maxLength) return `is longer than ${maxLength} characters`;
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which text may not contain';
  if (!text.isWellFormed()) return 'contains a lone UTF-16 surrogate: it is not valid Unicode text';
  return null;
}

const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

/** Problems of a parsed JSON value: texts, keys, non-finite numbers and depth, with their paths. */
export function jsonProblems(value: unknown, root: string, maxLength = MAX_TEXT_LENGTH): InputProblem[] {
  const problems: InputProblem[] = [];
  const visit = (node: unknown, path: string, depth: number): void => {
    if (problems.length >= MAX_PROBLEMS) return;
    if (typeof node === 'string') {
      const problem = textProblem(node, maxLength);
      if (problem) problems.push({ field: path, message: problem });
      return;
    }
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) problems.push({ field: path, message: 'must be a finite number' });
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    if (depth >= MAX_JSON_DEPTH) {
      problems.push({ field: path, message: `is nested more than ${MAX_JSON_DEPTH} levels deep` });
      return;
    }
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index += 1) visit(node[index], join(path, index), depth + 1);
      return;
    }
    for (const key of Object.keys(node)) {
      const keyProblem = FORBIDDEN_KEYS.has(key) ? 'is not allowed as a field name' : textProblem(key, 200);
      if (keyProblem) {
        problems.push({ field: join(path, sanitiseKey(key)), message: keyProblem });
        continue;
      }
      visit((node as Record<string, unknown>)[key], join(path, key), depth + 1);
    }
  };
  visit(value, root, 0);
  return problems;
}

/** A key as it can be named back to the caller (it may be the very text that was refused). */
function sanitiseKey(key: string): string {
  const printable = key.toWellFormed().replaceAll('\u0000', '\\u0000');
  return printable.length > 60 ? `${printable.slice(0, 60)}…` : printable;
}

export function invalidInput(problems: InputProblem[]): AppError {
  const [first] = problems;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more: see details)` : '';
  return errors.validation(`The request is invalid: ${first!.field} ${first!.message}${more}`, problems);
}

const maxTextOf = (request: FastifyRequest) => request.routeOptions.config.maxTextLength ?? MAX_TEXT_LENGTH;

function parseJsonBody(
  request: FastifyRequest,
  body: string,
  done: (error: Error | null, body?: unknown) => void,
) {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  if (text.trim() === '') {
    done(errors.badRequest('The body is empty, but Content-Type says application/json: send a JSON value'));
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    done(errors.badRequest(`The body is not valid JSON: ${(error as Error).message}`));
    return;
  }
  const problems = jsonProblems(parsed, 'body', maxTextOf(request));
  if (problems.length > 0) done(invalidInput(problems));
  else done(null, parsed);
}

/** Text checks of the query string, the path and declared headers, before validation. */
function parameterProblems(request: FastifyRequest, headers: readonly string[]): AppError | null {
  const maxLength = maxTextOf(request);
  const problems: InputProblem[] = [];
  const check = (field: string, value: unknown) => {
    if (typeof value === 'string') {
      const problem = textProblem(value, maxLength);
      if (problem) problems.push({ field, message: problem });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => check(`${field}.${index}`, item));
    }
  };
  const params = request.params as Record<string, unknown> | undefined;
  if (params) for (const key in params) check(`params.${key}`, params[key]);
  const query = request.query as Record<string, unknown> | undefined;
  if (query) {
    for (const key in query) {
      const keyProblem = FORBIDDEN_KEYS.has(key)
        ? 'is not allowed as a parameter name'
        : textProblem(key, 200);
      if (keyProblem) problems.push({ field: `querystring.${sanitiseKey(key)}`, message: keyProblem });
      else check(`querystring.${key}`, query[key]);
    }
  }
  for (const name of headers) check(`headers.${name}`, request.headers[name]);
  return problems.length > 0 ? invalidInput(problems.slice(0, MAX_PROBLEMS)) : null;
}

/** Paths of numbers that are not finite in a value that already passed jsonProblems (depth-bounded). */
function nonFiniteNumbers(value: unknown, path: string, found: InputProblem[]): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) found.push({ field: path, message: 'must be a finite number' });
  } else if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1)
      nonFiniteNumbers(value[index], join(path, index), found);
  } else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      nonFiniteNumbers((value as Record<string, unknown>)[key], join(path, key), found);
    }
  }
}

/** After validation: numbers coerced from text must be finite (ajv lets "Infinity" through its bounds). */
function coercedNumberProblems(request: FastifyRequest): AppError | null {
  const problems: InputProblem[] = [];
  const query = request.query as Record<string, unknown> | undefined;
  if (query) {
    for (const key in query) {
      const value = query[key];
      // The common case, a string or a finite number, costs one typeof.
      if (typeof value === 'object' || (typeof value === 'number' && !Number.isFinite(value))) {
        nonFiniteNumbers(value, `querystring.${key}`, problems);
      }
    }
  }
  if (typeof request.body === 'object' && request.body !== null)
    nonFiniteNumbers(request.body, 'body', problems);
  return problems.length > 0 ? invalidInput(problems.slice(0, MAX_PROBLEMS)) : null;
}

type Schema = Record<string, unknown>;

/**
 * Hardens a request schema in place (schemas are shared between routes; the change is the same
 * for all of them): objects that list their properties refuse others unless they say otherwise,
 * and strings get the platform's length cap unless their format, enum or own maxLength bounds them.
 */
export function hardenRequestSchema(
  schema: unknown,
  { maxLength = MAX_TEXT_LENGTH, closeTop = true }: { maxLength?: number; closeTop?: boolean } = {},
): void {
  const seen = new Set<unknown>();
  const visit = (node: unknown, insideAllOf: boolean): void => {
    const isTop = node === schema;
    if (typeof node !== 'object' || node === null || seen.has(node)) return;
    seen.add(node);
    const s = node as Schema;
    const types = [s.type].flat();
    if (
      (types.includes('object') || s.properties) &&
      s.properties &&
      s.additionalProperties === undefined &&
      s.patternProperties === undefined &&
      !insideAllOf &&
      (closeTop || !isTop)
    ) {
      // Inside an allOf each part would refuse the other parts' properties; the schema test
      // (test/input-schemas.test.ts) flags such bodies instead.
      s.additionalProperties = false;
    }
    if (
      types.includes('string') &&
      s.maxLength === undefined &&
      s.enum === undefined &&
      s.const === undefined &&
      !['uuid', 'date', 'date-time', 'binary'].includes(s.format as string)
    ) {
      s.maxLength = maxLength;
    }
    for (const key of ['properties', 'patternProperties', '$defs', 'definitions'] as const) {
      const children = s[key];
      if (children && typeof children === 'object') {
        for (const child of Object.values(children)) visit(child, false);
      }
    }
    for (const key of ['items', 'additionalProperties', 'not'] as const) visit(s[key], false);
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (Array.isArray(s[key])) for (const child of s[key] as unknown[]) visit(child, false);
    }
    if (Array.isArray(s.allOf)) for (const child of s.allOf as unknown[]) visit(child, true);
  };
  visit(schema, false);
}

/** Whether a schema has a number or integer anywhere (then coerced numbers are checked). */
function hasNumbers(schema: unknown, seen = new Set<unknown>()): boolean {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return false;
  seen.add(schema);
  const types = [(schema as Schema).type].flat();
  if (types.includes('number') || types.includes('integer')) return true;
  return Object.values(schema).some((child) =>
    Array.isArray(child) ? child.some((item) => hasNumbers(item, seen)) : hasNumbers(child, seen),
  );
}

/** Property names of an object schema, through allOf/anyOf/oneOf. */
export function propertyNames(schema: unknown): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const s = schema as Schema;
  const own = s.properties && typeof s.properties === 'object' ? Object.keys(s.properties) : [];
  const nested = (['allOf', 'anyOf', 'oneOf'] as const).flatMap((key) =>
    Array.isArray(s[key]) ? (s[key] as unknown[]).flatMap(propertyNames) : [],
  );
  return [...new Set([...own, ...nested])];
}

/** The fields of the resource a write route answers with, that its body cannot set. */
function readOnlyFieldsOf(route: RouteOptions): Set<string> | undefined {
  const methods = [route.method].flat();
  const responses = (route.schema?.response ?? {}) as Record<string, Schema>;
  const writes =
    methods.some((method) => method === 'PUT' || method === 'PATCH') ||
    (methods.includes('POST') && responses['201'] !== undefined);
  if (!writes || !route.config?.permission || !route.schema?.body) return undefined;
  const success = responses['201'] ?? responses['200'];
  const data = (success?.properties as Schema | undefined)?.data;
  const writable = new Set(propertyNames(route.schema.body));
  const readOnly = propertyNames(data).filter((name) => !writable.has(name));
  return readOnly.length > 0 ? new Set(readOnly) : undefined;
}

const asArray = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : ([hooks].flat() as T[]));

/**
 * Registers the guard. Call it on the root instance before any route or plugin is registered:
 * content-type parsers and onRoute hooks reach only what is registered after them.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    parseJsonBody(request, body as string, done),
  );

  app.addHook('onRoute', (route) => {
    const schema = route.schema;
    if (schema) {
      const maxLength = route.config?.maxTextLength ?? MAX_TEXT_LENGTH;
      for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
        if (schema[part] === undefined) continue;
        // A request carries many headers besides the ones a route names; path parameters are
        // only ever the route's own.
        hardenRequestSchema(schema[part], { maxLength, closeTop: part === 'body' || part === 'querystring' });
      }
    }
    const headers = propertyNames(schema?.headers);
    if (schema?.querystring || schema?.params || headers.length > 0 || route.url.includes(':')) {
      route.preValidation = [
        (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) =>
          done(parameterProblems(request, headers) ?? undefined),
        ...asArray(route.preValidation),
      ];
    }
    if (hasNumbers(schema?.querystring) || hasNumbers(schema?.body)) {
      route.preHandler = [
        (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) =>
          done(coercedNumberProblems(request) ?? undefined),
        ...asArray(route.preHandler),
      ];
    }
    const readOnlyFields = readOnlyFieldsOf(route);
    if (readOnlyFields) route.config = { ...route.config, readOnlyFields };
  });
}

/**
 * Errors Fastify's router answers before any hook runs (a path that is not valid percent-encoded
 * UTF-8, a path parameter past maxParamLength): in the envelope, like every other answer.
 */
export function renderFrameworkError(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const status = tooLong ? 414 : 400;
  const rendered = tooLong
    ? {
        status,
        code: 'URI_TOO_LONG',
        message: 'A path segment is too long: an id in the path has at most 100 characters',
      }
    : {
        status,
        code: 'BAD_REQUEST',
        message: 'The URL is not valid: its path has a malformed percent-encoding (it must be UTF-8)',
      };
  request.log.info({ code: rendered.code, status, msg: error.message }, 'request rejected');
  void reply
    .status(status)
    .header('x-request-id', request.id)
    .type('application/json; charset=utf-8')
    .send(errorEnvelope(request, rendered));
}

type FormatCheck = (text: string) => boolean;
interface AjvLike {
  formats: Record<string, unknown>;
  addFormat(name: string, format: FormatCheck): unknown;
  addKeyword(definition: {
    keyword: string;
    schemaType: Array<'string' | 'object'>;
    macro: () => boolean;
  }): unknown;
}

function formatCheck(format: unknown): FormatCheck {
  if (typeof format === 'function') return format as FormatCheck;
  if (format instanceof RegExp) return (text) => format.test(text);
  const validate = (format as { validate?: unknown } | undefined)?.validate;
  if (typeof validate === 'function') return validate as FormatCheck;
  if (validate instanceof RegExp) return (text) => validate.test(text);
  return () => true;
}

/**
 * Run on each ajv instance once its formats are in (app.ts: `ajv.onCreate`): `date` and `date-time` also refuse year 0000, which
 * JSON Schema accepts and PostgreSQL does not (it answered 500); and `x-error-message` is allowed
 * as an annotation, so a schema can carry the message for its own failures (validation.ts).
 */
export function ajvInputPlugin<A extends AjvLike>(ajv: A): A {
  for (const name of ['date', 'date-time']) {
    const original = formatCheck(ajv.formats[name]);
    ajv.addFormat(name, (text) => !text.startsWith('0000') && original(text));
  }
  // A macro that expands to `true`: an annotation that never fails.
  ajv.addKeyword({ keyword: 'x-error-message', schemaType: ['string', 'object'], macro: () => true });
  return ajv;
}
