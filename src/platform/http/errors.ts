import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPoolTimeout } from '../db/database.ts';
import { type ErrorEnvelope, meta } from './envelope.ts';
import { renderValidation } from './validation.ts';

/**
 * The one error type services throw. The error handler renders it in the envelope; anything else
 * that reaches the handler is either a known framework/database error mapped below or a 500 that
 * says nothing about internals.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const errors = {
  badRequest: (message: string, details?: unknown) => new AppError(400, 'BAD_REQUEST', message, details),
  validation: (message: string, details?: unknown) => new AppError(400, 'VALIDATION_ERROR', message, details),
  unauthorized: (message = 'Authentication required', code = 'UNAUTHORIZED') =>
    new AppError(401, code, message),
  forbidden: (message = 'You do not have permission to do this') => new AppError(403, 'FORBIDDEN', message),
  notFound: (what = 'Resource') => new AppError(404, 'NOT_FOUND', `${what} not found`),
  conflict: (message: string, details?: unknown) => new AppError(409, 'CONFLICT', message, details),
  unprocessable: (message: string, details?: unknown) =>
    new AppError(422, 'UNPROCESSABLE_ENTITY', message, details),
  tooManyRequests: (retryAfterSeconds: number) =>
    new AppError(429, 'RATE_LIMITED', `Too many requests; try again in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    }),
  unavailable: (message: string) => new AppError(503, 'SERVICE_UNAVAILABLE', message),
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

/** PostgreSQL SQLSTATEs that are the caller's fault, not ours. */
const PG_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  '23505': { status: 409, code: 'CONFLICT', message: 'A record with these values already exists' },
  '23503': { status: 422, code: 'UNPROCESSABLE_ENTITY', message: 'A referenced record does not exist' },
  '22P02': { status: 400, code: 'BAD_REQUEST', message: 'A value has the wrong format' },
  '22003': { status: 400, code: 'BAD_REQUEST', message: 'A number is out of range' },
  '22001': { status: 400, code: 'BAD_REQUEST', message: 'A value is too long' },
  // The input guard (input-guard.ts) refuses these first, naming the field; these are the net
  // under it for a path it does not cover: text PostgreSQL cannot store (a NUL), a date out of
  // its range, a value too large for an index entry.
  '22021': {
    status: 400,
    code: 'BAD_REQUEST',
    message: 'A text value contains a character that cannot be stored',
  },
  '22007': { status: 400, code: 'BAD_REQUEST', message: 'A date or time has the wrong format' },
  '22008': { status: 400, code: 'BAD_REQUEST', message: 'A date or time is out of range' },
  '54000': { status: 400, code: 'BAD_REQUEST', message: 'A value is too long' },
};

/** Fastify's own 4xx messages, where they do not say what to do. */
const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE:
    'Unsupported Content-Type: send JSON as application/json (file uploads as multipart/form-data)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body',
};

interface Rendered {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

function render(error: FastifyError & { code?: string }, request: FastifyRequest): Rendered {
  if (error instanceof AppError) {
    return { status: error.status, code: error.code, message: error.message, details: error.details };
  }
  if (error.validation) {
    return renderValidation(request, error.validationContext, error.validation);
  }
  const pgError = typeof error.code === 'string' ? PG_ERRORS[error.code] : undefined;
  if (pgError && 'severity' in error) return pgError;
  // Every PostgreSQL connection stayed busy for DATABASE_POOL_TIMEOUT_MS: the instance is
  // saturated, not broken, and the request did nothing. Like shutdown, a 503 the client may retry.
  if (isPoolTimeout(error)) {
    return {
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: 'The database is busy; retry in a few seconds',
    };
  }
  const status = error.statusCode;
  if (status && status >= 400 && status < 500) {
    return {
      status,
      code: CODE_BY_STATUS[status] ?? 'BAD_REQUEST',
      message: FRAMEWORK_MESSAGES[error.code] ?? error.message,
    };
  }
  if (status === 503)
    return { status, code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable' };
  return { status: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' };
}

export function errorEnvelope(request: FastifyRequest, rendered: Rendered): ErrorEnvelope {
  return {
    success: false,
    error: {
      code: rendered.code,
      message: rendered.message,
      ...(rendered.details === undefined ? {} : { details: rendered.details }),
    },
    meta: meta(request),
  };
}

/** Retry-After of a 503 that does not set its own. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const rendered = render(error, request);
    if (rendered.status === 503) {
      // Not a fault of this request: a required service is down or this instance is closing.
      // The client is told when to come back, as the OpenAPI document promises for every 503.
      if (!reply.hasHeader('retry-after'))
        reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      request.log.warn({ code: rendered.code, msg: error.message }, 'request refused: unavailable');
    } else if (rendered.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.info(
        { code: rendered.code, status: rendered.status, msg: error.message },
        'request rejected',
      );
    }
    return reply.status(rendered.status).send(errorEnvelope(request, rendered));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(
      errorEnvelope(request, {
        status: 404,
        code: 'NOT_FOUND',
        message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
      }),
    ),
  );
}
