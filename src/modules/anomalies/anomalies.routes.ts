import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import { ANOMALIES_DESCRIPTION, AnomalyList, AnomalyListQuery } from './anomalies.schemas.ts';
import type { AnomaliesService } from './anomalies.service.ts';

export interface AnomaliesRoutesOptions {
  service: AnomaliesService;
  guard: Guard;
}

/** GET /v1/ml/anomalies (reports:view). */
export const anomaliesRoutes: FastifyPluginAsyncTypebox<AnomaliesRoutesOptions> = async (
  app,
  { service, guard },
) => {
  app.get(
    '',
    guard.protect('reports:view', {
      tags: ['ml'],
      summary: 'Demand spikes and drops, cost increases and quality issues, with suggested actions',
      description: ANOMALIES_DESCRIPTION,
      querystring: AnomalyListQuery,
      response: { 200: Envelope(AnomalyList) },
    }),
    async (request) => {
      const { anomalies, pagination } = await service.list(authOf(request), request.query);
      return ok(request, { anomalies }, pagination);
    },
  );
};
