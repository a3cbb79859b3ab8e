import type { FastifyRequest } from 'fastify';
import type { InputProblem } from './input-guard.ts';

/**
 * Schema validation failures as a person can act on them: the field, and a message that says
 * what to send (the allowed values of an enum, the expected date format, the fields a body has)
 * instead of ajv's "must be equal to one of the allowed values" or "must NOT be valid".
 *
 * A schema can say it better itself with `x-error-message`: a string for any failure of that
 * schema, or an object keyed by the failing keyword (`{ not: 'must not be 0: …' }`). Messages are
 * predicates, read after the field name ("body.adjustment must not be 0: …").
 */

/** One ajv error, with the schema references that ajv's `verbose` option adds. */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
  schema?: unknown;
  parentSchema?: Record<string, unknown>;
}

const FORMATS: Record<string, string> = {
  date: 'must be a date as YYYY-MM-DD (years 0001 to 9999)',
  'date-time': 'must be a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z (years 0001 to 9999)',
  uuid: 'must be an id (a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e)',
  email: 'must be an e-mail address',
  binary: 'must be a file',
};

const show = (value: unknown) => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value));
const withArticle = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

function customMessage(issue: ValidationIssue): string | undefined {
  const custom = issue.parentSchema?.['x-error-message'];
  if (typeof custom === 'string') return custom;
  if (custom && typeof custom === 'object') {
    const byKeyword = (custom as Record<string, unknown>)[issue.keyword];
    if (typeof byKeyword === 'string') return byKeyword;
  }
  return undefined;
}

export function issueMessage(issue: ValidationIssue): string {
  const custom = customMessage(issue);
  if (custom) return custom;
  const { params } = issue;
  switch (issue.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties': {
      const known = Object.keys((issue.parentSchema?.properties as object | undefined) ?? {});
      return known.length > 0 && known.length <= 40
        ? `is not a field of this request (the fields are: ${known.join(', ')})`
        : 'is not a field of this request';
    }
    case 'enum':
      return `must be one of: ${((params.allowedValues as unknown[]) ?? []).map(show).join(', ')}`;
    case 'const':
      return `must be ${show(params.allowedValue)}`;
    case 'type':
      return `must be ${String(params.type)
        .split(',')
        .map((type) => (type === 'null' ? 'null' : withArticle(type)))
        .join(' or ')}`;
    case 'format':
      return FORMATS[String(params.format)] ?? `must be a valid ${String(params.format)}`;
    case 'minLength':
      return params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`;
    case 'maxLength':
      return `must be at most ${String(params.limit)} characters`;
    case 'minimum':
      return `must be at least ${String(params.limit)}`;
    case 'maximum':
      return `must be at most ${String(params.limit)}`;
    case 'exclusiveMinimum':
      return `must be greater than ${String(params.limit)}`;
    case 'exclusiveMaximum':
      return `must be less than ${String(params.limit)}`;
    case 'multipleOf':
      return `must be a multiple of ${String(params.multipleOf)}`;
    case 'minProperties':
      return `must have at least ${String(params.limit)} field${params.limit === 1 ? '' : 's'}`;
    case 'maxProperties':
      return `must have at most ${String(params.limit)} fields`;
    case 'minItems':
      return `must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${String(params.limit)} items`;
    case 'uniqueItems':
      return 'must not repeat an item';
    case 'pattern':
      return `has the wrong format (it must match ${String(params.pattern)})`;
    case 'not': {
      const excluded = issue.schema as Record<string, unknown> | undefined;
      if (excluded && 'const' in excluded) return `must not be ${show(excluded.const)}`;
      if (excluded && Array.isArray(excluded.enum))
        return `must not be one of: ${excluded.enum.map(show).join(', ')}`;
      return 'has a value that is not allowed here';
    }
    case 'anyOf':
    case 'oneOf':
      return 'does not match any of the accepted forms (see the API documentation)';
    default:
      return issue.message ?? 'is invalid';
  }
}

/** The field an issue is about: `body.items.0.name`, `querystring.page`, `params.id`. */
export function issueField(context: string | undefined, issue: ValidationIssue): string {
  const { params } = issue;
  const missing = typeof params.missingProperty === 'string' ? `/${params.missingProperty}` : '';
  const extra = typeof params.additionalProperty === 'string' ? `/${params.additionalProperty}` : '';
  const pointer = `${issue.instancePath}${missing}${extra}`
    .replace(/^\//, '')
    .replaceAll('/', '.')
    .replaceAll('~1', '/')
    .replaceAll('~0', '~');
  return [context, pointer].filter(Boolean).join('.') || (context ?? 'request');
}

export interface RenderedValidation {
  status: 400 | 403;
  code: 'VALIDATION_ERROR' | 'FORBIDDEN';
  message: string;
  details: InputProblem[];
}

/**
 * A validation failure, rendered. A body field that the resource has but this route may not set
 * (the route's `readOnlyFields`, see input-guard.ts) is a 403 naming it, never dropped in silence;
 * a field the resource does not have at all is a 400.
 */
export function renderValidation(
  request: FastifyRequest,
  context: string | undefined,
  issues: readonly ValidationIssue[],
): RenderedValidation {
  const readOnly = request.routeOptions.config?.readOnlyFields;
  if (readOnly && context === 'body') {
    const forbidden = issues
      .filter((issue) => issue.keyword === 'additionalProperties' && issue.instancePath === '')
      .map((issue) => String(issue.params.additionalProperty))
      .filter((field) => readOnly.has(field));
    if (forbidden.length > 0) {
      const verb = request.method === 'POST' ? 'set' : 'change';
      return {
        status: 403,
        code: 'FORBIDDEN',
        message: `You may not ${verb} ${forbidden.join(', ')} with this request`,
        details: forbidden.map((field) => ({
          field: `body.${field}`,
          message: `is a field of this resource that this request may not ${verb}`,
        })),
      };
    }
  }
  const details = issues.map((issue) => ({
    field: issueField(context, issue),
    message: issueMessage(issue),
  }));
  const [first] = details;
  const more = details.length > 1 ? ` (and ${details.length - 1} more: see details)` : '';
  return {
    status: 400,
    code: 'VALIDATION_ERROR',
    message: first
      ? `The request is invalid: ${first.field} ${first.message}${more}`
      : 'The request is invalid',
    details,
  };
}
