import type { FastifyRequest } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';

/**
 * The spec's ApiResponse<T>: every answer, success or failure, carries `success` and
 * `meta {timestamp, requestId}`; lists add `meta.pagination`.
 */

export const Pagination = Type.Object({
  page: Type.Integer({ minimum: 1 }),
  limit: Type.Integer({ minimum: 1 }),
  total: Type.Integer({ minimum: 0 }),
  totalPages: Type.Integer({ minimum: 0 }),
});
export type Pagination = Static<typeof Pagination>;

export const Meta = Type.Object({
  timestamp: Type.String({ format: 'date-time' }),
  requestId: Type.String(),
  pagination: Type.Optional(Pagination),
});
export type Meta = Static<typeof Meta>;

export const ErrorBody = Type.Object({
  code: Type.String({ description: 'Stable machine-readable code, e.g. VALIDATION_ERROR' }),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});

export const ErrorEnvelope = Type.Object(
  { success: Type.Literal(false), error: ErrorBody, meta: Meta },
  { $id: 'ErrorEnvelope', description: 'Error response' },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

export function Envelope<T extends TSchema>(data: T) {
  return Type.Object({ success: Type.Literal(true), data, meta: Meta });
}

export function meta(request: FastifyRequest, pagination?: Pagination): Meta {
  return {
    timestamp: new Date().toISOString(),
    requestId: request.id,
    ...(pagination ? { pagination } : {}),
  };
}

export function ok<T>(request: FastifyRequest, data: T, pagination?: Pagination) {
  return { success: true as const, data, meta: meta(request, pagination) };
}

/**
 * The same envelope as ok(), as text, around data that is already JSON text (a list page built by
 * PostgreSQL): sent as is, it is neither parsed nor serialised again.
 */
export function okJsonText(request: FastifyRequest, dataJson: string, pagination?: Pagination): string {
  return `{"success":true,"data":${dataJson},"meta":${JSON.stringify(meta(request, pagination))}}`;
}

export function paginate(page: number, limit: number, total: number): Pagination {
  return { page, limit, total, totalPages: Math.ceil(total / limit) };
}
