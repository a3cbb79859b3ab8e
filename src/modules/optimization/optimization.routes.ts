import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import { OPTIMIZE_DESCRIPTION, OptimizeBody, OptimizeResponse } from './optimization.schemas.ts';
import type { OptimizationService } from './optimization.service.ts';

export interface OptimizationRoutesOptions {
  service: OptimizationService;
  guard: Guard;
}

/** /v1/ml/optimize: proposals only (nothing is ordered), so reports:view. */
export const optimizationRoutes: FastifyPluginAsyncTypebox<OptimizationRoutesOptions> = async (
  app,
  { service, guard },
) => {
  app.post(
    '/inventory',
    guard.protect(
      'reports:view',
      {
        tags: ['ml'],
        summary: 'Order quantities per item that meet a budget, storage capacity and service level',
        description: OPTIMIZE_DESCRIPTION,
        body: OptimizeBody,
        response: { 200: Envelope(OptimizeResponse) },
      },
      { errors: [422] },
    ),
    async (request) => ok(request, await service.optimizeInventory(authOf(request), request.body)),
  );
};
