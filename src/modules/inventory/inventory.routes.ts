import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  AdjustBody,
  AdjustResult,
  BarcodeLookupBody,
  BarcodeLookupResponse,
  CreateItemBody,
  HistoryQuery,
  HistoryResponse,
  IdParams,
  Item,
  ListQuery,
  UpdateItemBody,
} from './inventory.schemas.ts';
import type { BarcodeService } from './barcode.service.ts';
import type { InventoryService } from './inventory.service.ts';

export interface InventoryRoutesOptions {
  service: InventoryService;
  barcodes: BarcodeService;
  guard: Guard;
}

const tags = ['inventory'];
const limit = { rateLimit: 'inventory' as const };

export const inventoryRoutes: FastifyPluginAsyncTypebox<InventoryRoutesOptions> = async (
  app,
  { service, barcodes, guard },
) => {
  app.get(
    '',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'List items with filters, search, sorting and pagination',
        description:
          'Without `sortBy`/`sortOrder`, a `search` lists best matches first. `status` is derived from stock, the reorder point (or the store threshold) and lot expiry.',
        querystring: ListQuery,
        response: { 200: Envelope(Type.Array(Item)) },
      },
      limit,
    ),
    async (request) => {
      const { items, pagination } = await service.list(authOf(request), request.query);
      return ok(request, items, pagination);
    },
  );

  app.post(
    '',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Create an item; `remainingStock` with `expirationDate` creates its first lot',
        body: CreateItemBody,
        response: { 201: Envelope(Item) },
      },
      { ...limit, errors: [409, 422] },
    ),
    async (request, reply) =>
      reply.status(201).send(ok(request, await service.create(authOf(request), request.body))),
  );

  app.post(
    '/barcode-lookup',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'Find the item for a scanned barcode, or suggest what it is',
        description:
          'UPC-A/UPC-E/EAN-8/EAN-13 check digits are validated (422 `INVALID_BARCODE` names the expected digit) and normalised, so a UPC-A and its EAN-13 form find the same item. Suggestions (when not found) come from the bundled Open Food Facts catalogue (ODbL) and the store’s own items from the same maker.',
        body: BarcodeLookupBody,
        response: { 200: Envelope(BarcodeLookupResponse) },
      },
      { ...limit, errors: [422] },
    ),
    async (request) => ok(request, await barcodes.lookup(authOf(request), request.body)),
  );

  app.get(
    '/:id',
    guard.protect(
      'inventory:read',
      { tags, summary: 'One item with its lots', params: IdParams, response: { 200: Envelope(Item) } },
      { ...limit, errors: [404] },
    ),
    async (request) => ok(request, await service.get(authOf(request), request.params.id)),
  );

  app.put(
    '/:id',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Update an item (partial)',
        description:
          'Only the fields sent change, each recorded in the history. A new `remainingStock` is a count correction in the ledger.',
        params: IdParams,
        body: UpdateItemBody,
        response: { 200: Envelope(Item) },
      },
      { ...limit, errors: [404, 409, 422] },
    ),
    async (request) => ok(request, await service.update(authOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/:id',
    guard.protect(
      'inventory:delete',
      {
        tags,
        summary: 'Delete an item (soft: its ledger and history stay; it no longer lists)',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }) },
      },
      { ...limit, errors: [404] },
    ),
    async (request, reply) => {
      await service.remove(authOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/:id/adjust-stock',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Adjust stock: receive, sell, waste, count',
        description:
          'Positive adds a lot (or to `lotId`); negative consumes the first-expiring lot first (FEFO) unless `lotId` is given. More than is there → 409 `INSUFFICIENT_STOCK`, nothing changed. Send an `Idempotency-Key` header to make retries safe.',
        params: IdParams,
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        body: AdjustBody,
        response: { 200: Envelope(AdjustResult) },
      },
      { ...limit, errors: [404, 409, 422] },
    ),
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const result = await service.adjust(authOf(request), request.params.id, request.body, key);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return ok(request, result.data);
    },
  );

  app.get(
    '/:id/history',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'Field-level changes of an item, newest first',
        params: IdParams,
        querystring: HistoryQuery,
        response: { 200: Envelope(HistoryResponse) },
      },
      { ...limit, errors: [404] },
    ),
    async (request) => {
      const { changes, pagination } = await service.history(
        authOf(request),
        request.params.id,
        request.query.page,
        request.query.limit,
      );
      return ok(request, { changes }, pagination);
    },
  );
};
