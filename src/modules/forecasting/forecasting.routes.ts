import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  DemandForecastBody,
  DemandForecastResponse,
  ForecastingQuery,
  ForecastingResponse,
  ItemIdParams,
  StoredForecastResponse,
} from './forecasting.schemas.ts';
import type { ForecastingService } from './forecasting.service.ts';
import {
  CreatePromotionBody,
  Promotion,
  PromotionListQuery,
  PromotionParams,
  UpdatePromotionBody,
} from './promotions.schemas.ts';
import type { PromotionsService } from './promotions.service.ts';

export interface ForecastingRoutesOptions {
  service: ForecastingService;
  promotions: PromotionsService;
  guard: Guard;
}

const tags = ['ml'];

const CENSORING =
  'Demand history is the item’s sales in the ledger per store-local day over up to two years; a day the item started out of stock or ran out is censored (demand unknown, at least what sold), not counted as low demand.';

/** /v1/ml: demand forecasts and the promotion calendar they use. */
export const forecastingRoutes: FastifyPluginAsyncTypebox<ForecastingRoutesOptions> = async (
  app,
  { service, promotions, guard },
) => {
  app.post(
    '/forecast/demand',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'Forecast daily demand for items or categories',
        description: `Made now from the ledger, up to ${200} items (more → 422: read the nightly forecasts per item). ${CENSORING} Holidays come from the store’s country (settings \`country\`, \`region\`), promotions from /v1/ml/promotions. An item with too little history answers with method \`mean\`, \`insufficientHistory: true\` and a reason. An itemId not in the store → 404.`,
        body: DemandForecastBody,
        response: { 200: Envelope(DemandForecastResponse) },
      },
      { errors: [404, 422] },
    ),
    async (request) => ok(request, await service.forecastDemand(authOf(request), request.body)),
  );

  app.get(
    '/forecast/:itemId',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'The stored forecast of an item, with its backtest and reorder policy',
        description:
          'What the nightly `forecast:update_predictions` job stored (28 days from the day after `historyThrough`), made now and stored when the item has none yet. `reorderPolicy` is the reorder point and order-up-to level from it.',
        params: ItemIdParams,
        response: { 200: Envelope(StoredForecastResponse) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await service.storedForecast(authOf(request), request.params.itemId)),
  );

  app.get(
    '/promotions',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'The promotion calendar',
        description: 'Newest start first. `from`/`to` keep promotions overlapping that range.',
        querystring: PromotionListQuery,
        response: { 200: Envelope(Type.Object({ promotions: Type.Array(Promotion) })) },
      },
      { errors: [] },
    ),
    async (request) => {
      const { promotions: list, pagination } = await promotions.list(authOf(request), request.query);
      return ok(request, { promotions: list }, pagination);
    },
  );

  app.post(
    '/promotions',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Add a promotion on an item or a category',
        description:
          'Exactly one of `itemId` and `category`. Forecasts learn each item’s promotion lift from its past promotions and apply it on the promotion’s days.',
        body: CreatePromotionBody,
        response: { 201: Envelope(Promotion) },
      },
      { errors: [] },
    ),
    async (request, reply) =>
      reply.status(201).send(ok(request, await promotions.create(authOf(request), request.body))),
  );

  app.get(
    '/promotions/:id',
    guard.protect(
      'inventory:read',
      { tags, summary: 'A promotion', params: PromotionParams, response: { 200: Envelope(Promotion) } },
      { errors: [404] },
    ),
    async (request) => ok(request, await promotions.get(authOf(request), request.params.id)),
  );

  app.put(
    '/promotions/:id',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Change a promotion',
        description: 'Fields not given keep their values; naming `itemId` or `category` replaces the target.',
        params: PromotionParams,
        body: UpdatePromotionBody,
        response: { 200: Envelope(Promotion) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await promotions.update(authOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/promotions/:id',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Remove a promotion',
        params: PromotionParams,
        response: { 204: Type.Null({ description: 'Removed' }) },
      },
      { errors: [404] },
    ),
    async (request, reply) => {
      await promotions.remove(authOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};

/** GET /v1/inventory/forecasting (registered under the inventory prefix). */
export const inventoryForecastingRoutes: FastifyPluginAsyncTypebox<{
  service: ForecastingService;
  guard: Guard;
}> = async (app, { service, guard }) => {
  app.get(
    '/forecasting',
    guard.protect(
      'inventory:read',
      {
        tags: ['inventory', ...tags],
        summary: 'Demand per week, month or quarter for an item or a category',
        description: `The spec's ForecastingQuery: exactly one of \`itemId\` and \`category\`; calendar periods, the first starting today. Each period sums the same daily forecasts as POST /v1/ml/forecast/demand, its interval from the days' errors taken as independent. ${CENSORING}`,
        querystring: ForecastingQuery,
        response: { 200: Envelope(ForecastingResponse) },
      },
      { errors: [404, 422] },
    ),
    async (request) => ok(request, await service.periodForecast(authOf(request), request.query)),
  );
};
