import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  PERFORMANCE_DEFINITIONS,
  PerformanceParams,
  PerformanceQuery,
  VendorPerformanceResponse,
} from './performance.schemas.ts';
import type { VendorPerformanceService } from './performance.service.ts';

export interface VendorPerformanceRoutesOptions {
  service: VendorPerformanceService;
  guard: Guard;
}

/** GET /v1/vendors/:id/performance (registered under the vendors prefix). */
export const vendorPerformanceRoutes: FastifyPluginAsyncTypebox<VendorPerformanceRoutesOptions> = async (
  app,
  { service, guard },
) => {
  app.get(
    '/:id/performance',
    guard.protect(
      'reports:view',
      {
        tags: ['vendors'],
        summary: "A vendor's delivery, fill, quality and response figures, with monthly trends",
        description: PERFORMANCE_DEFINITIONS,
        params: PerformanceParams,
        querystring: PerformanceQuery,
        response: { 200: Envelope(VendorPerformanceResponse) },
      },
      { errors: [404] },
    ),
    async (request) =>
      ok(request, await service.performance(authOf(request), request.params.id, request.query.months)),
  );
};
