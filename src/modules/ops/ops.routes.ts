import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import { ErrorBody, Meta } from '../../platform/http/envelope.ts';
import type { Platform } from '../../platform/platform.ts';
import { checkHealth, HealthMetrics } from './health.service.ts';

const ServiceHealth = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy')]),
  latencyMs: Type.Number(),
  mode: Type.String({ description: 'postgres | pglite, redis | in-process, local | s3' }),
  error: Type.Optional(
    Type.Union([Type.Literal('timeout'), Type.Literal('failed')], {
      description: 'Why the check failed; the detail is in the service log and in /metrics',
    }),
  ),
});

const HealthReport = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded')]),
  version: Type.String(),
  uptimeSeconds: Type.Integer(),
  services: Type.Object({
    database: ServiceHealth,
    redis: ServiceHealth,
    storage: ServiceHealth,
    workers: ServiceHealth,
  }),
});

const HealthEnvelope = Type.Object({
  success: Type.Boolean(),
  data: HealthReport,
  error: Type.Optional(ErrorBody),
  meta: Meta,
});

export interface OpsRoutesOptions {
  platform: Platform;
  metrics: Registry;
  version: string;
}

/** Operational endpoints: unauthenticated, outside /v1, meant for load balancers and Prometheus. */
export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (
  app,
  { platform, metrics, version },
) => {
  const healthMetrics = new HealthMetrics(metrics);

  app.get(
    '/',
    {
      schema: {
        tags: ['operations'],
        summary: 'Where to start: the API documentation, its OpenAPI document and health',
        description:
          'Links for a person or a client arriving at the root: `/docs` (Swagger UI), `/v1/openapi.json` ' +
          '(this document) and `/health`. Not authenticated, not rate limited.',
        response: {
          200: Type.Object({
            success: Type.Literal(true),
            data: Type.Object({
              name: Type.String(),
              version: Type.String(),
              docs: Type.String({ description: 'Interactive API documentation' }),
              openapi: Type.String({ description: 'The OpenAPI 3.1 document' }),
              health: Type.String(),
              api: Type.String({ description: 'Base path of the API' }),
            }),
            meta: Meta,
          }),
        },
      },
    },
    async (request) => ({
      success: true as const,
      data: {
        name: 'Fresh Choice API',
        version,
        docs: '/docs',
        openapi: '/v1/openapi.json',
        health: '/health',
        api: '/v1',
      },
      meta: { timestamp: new Date().toISOString(), requestId: request.id },
    }),
  );
  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness and readiness, with each backing service',
        description:
          '200 when the database and storage answer (status `degraded` if only Redis is down); 503 when a required service ' +
          'fails (the health report) or this instance is shutting down (the error envelope, with `Retry-After`).',
        response: { 200: HealthEnvelope, 503: Type.Union([HealthEnvelope, Type.Ref('ErrorEnvelope')]) },
      },
    },
    async (request, reply) => {
      const { report, httpStatus } = await checkHealth(platform, version, {
        log: request.log,
        metrics: healthMetrics,
      });
      const failing = Object.entries(report.services)
        .filter(([, service]) => service.status !== 'healthy')
        .map(([name]) => name);
      return reply.status(httpStatus).send({
        success: httpStatus === 200,
        data: report,
        ...(httpStatus === 200
          ? {}
          : { error: { code: 'SERVICE_UNAVAILABLE', message: `Unhealthy: ${failing.join(', ')}` } }),
        meta: { timestamp: new Date().toISOString(), requestId: request.id },
      });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        description:
          'Request durations by route pattern and status, database pool gauges and Node process metrics. Unauthenticated: expose it only where Prometheus scrapes it.',
        produces: ['text/plain'],
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => {
      reply.type(metrics.contentType);
      return metrics.metrics();
    },
  );

  app.get(
    '/v1/openapi.json',
    {
      schema: {
        tags: ['operations'],
        summary: 'This API as an OpenAPI 3.1 document',
        description:
          'Generated from the schemas that validate the requests; what `/docs` shows and what client generators read.',
      },
    },
    async () => app.swagger(),
  );
};
