import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  CreateProductBody,
  CreateVendorBody,
  IdParams,
  ProductListQuery,
  ProductParams,
  UpdateProductBody,
  UpdateVendorBody,
  Vendor,
  VendorList,
  VendorListQuery,
  VendorProduct,
  VendorProducts,
} from './vendors.schemas.ts';
import type { VendorsService } from './vendors.service.ts';

export interface VendorsRoutesOptions {
  service: VendorsService;
  guard: Guard;
}

const tags = ['vendors'];

/** /v1/vendors: the store's vendors and their catalogues. Reads need inventory:read, writes vendor:manage. */
export const vendorsRoutes: FastifyPluginAsyncTypebox<VendorsRoutesOptions> = async (
  app,
  { service, guard },
) => {
  app.get(
    '',
    guard.protect('inventory:read', {
      tags,
      summary: "List the store's vendors: search, status, sorting, pages",
      description:
        '`search` is typo-tolerant (part of, or words like, the name, contact person, e-mail or city) and lists best matches first unless `sortBy` is given. `lastOrderDate` is the latest order date of the vendor’s purchase orders that are neither draft nor cancelled; `sortBy=last_order` puts vendors never ordered from last in both directions. Pages are in `meta.pagination`.',
      querystring: VendorListQuery,
      response: { 200: Envelope(VendorList) },
    }),
    async (request) => {
      const { vendors, pagination } = await service.list(authOf(request), request.query);
      return ok(request, { vendors }, pagination);
    },
  );

  app.post(
    '',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Create a vendor',
        description:
          'Texts are trimmed, blank ones stored as null. `phone` is stored as E.164 (a national number is read for `country`); `website` must be http(s); `country` is ISO 3166-1 alpha-2. A name another vendor of the store has (any case, outer spaces ignored) → 409 `DUPLICATE_VENDOR`. Writes `vendor:created` to the outbox.',
        body: CreateVendorBody,
        response: { 201: Envelope(Vendor) },
      },
      { errors: [409] },
    ),
    async (request, reply) =>
      reply.status(201).send(ok(request, await service.create(authOf(request), request.body))),
  );

  app.get(
    '/:id',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'One vendor, active or not',
        params: IdParams,
        response: { 200: Envelope(Vendor) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await service.get(authOf(request), request.params.id)),
  );

  app.put(
    '/:id',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Update a vendor (partial); `status` deactivates or reactivates it',
        description:
          'Only the fields sent change; `null` (or a blank text) clears one. A rename onto another vendor’s name → 409 `DUPLICATE_VENDOR`. `status: inactive` deactivates as DELETE does, `active` reactivates. Writes `vendor:updated` (and `vendor:deactivated`) when something changed.',
        params: IdParams,
        body: UpdateVendorBody,
        response: { 200: Envelope(Vendor) },
      },
      { errors: [404, 409] },
    ),
    async (request) => ok(request, await service.update(authOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/:id',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Deactivate a vendor (the record stays, for its orders and receipts)',
        description:
          'Sets `status` inactive and `deactivatedAt`, and answers the vendor; nothing is deleted and GET still finds it. Deactivating an inactive vendor changes nothing. Reactivate with PUT `status: active`. Writes `vendor:deactivated`.',
        params: IdParams,
        response: { 200: Envelope(Vendor) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await service.deactivate(authOf(request), request.params.id)),
  );

  app.get(
    '/:id/products',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: "The vendor's catalogue, with figures from its purchase orders",
        description:
          'By item name. Per line, from this vendor’s purchase orders that are neither draft nor cancelled and have a line for the item: `lastOrderDate` (null: never ordered), `totalOrdered` (units), `averageLeadTime` (days from order date to the first receipt holding the item, over the orders that received any; null: none). Pages are in `meta.pagination`.',
        params: IdParams,
        querystring: ProductListQuery,
        response: { 200: Envelope(VendorProducts) },
      },
      { errors: [404] },
    ),
    async (request) => {
      const { products, pagination } = await service.listProducts(
        authOf(request),
        request.params.id,
        request.query,
      );
      return ok(request, { products }, pagination);
    },
  );

  app.post(
    '/:id/products',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: "Add a line to the vendor's catalogue",
        description:
          '`itemId` must be a live item of the store (else 422). One line per item (409 `DUPLICATE_VENDOR_PRODUCT`) and per SKU, any case (409 `DUPLICATE_VENDOR_SKU`). `preferred` un-marks the item’s preferred line at any other vendor. An inactive vendor → 422 `VENDOR_INACTIVE`.',
        params: IdParams,
        body: CreateProductBody,
        response: { 201: Envelope(VendorProduct) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request, reply) =>
      reply
        .status(201)
        .send(ok(request, await service.addProduct(authOf(request), request.params.id, request.body))),
  );

  app.get(
    '/:id/products/:productId',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'One line of the vendor’s catalogue',
        params: ProductParams,
        response: { 200: Envelope(VendorProduct) },
      },
      { errors: [404] },
    ),
    async (request) =>
      ok(request, await service.getProduct(authOf(request), request.params.id, request.params.productId)),
  );

  app.put(
    '/:id/products/:productId',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Update a catalogue line (partial)',
        description:
          'Only the fields sent change (`null` clears `vendorSku` or `vendorDescription`); its item cannot change. `preferred: true` un-marks the item’s preferred line at any other vendor (refused, 422, for an inactive vendor).',
        params: ProductParams,
        body: UpdateProductBody,
        response: { 200: Envelope(VendorProduct) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request) =>
      ok(
        request,
        await service.updateProduct(
          authOf(request),
          request.params.id,
          request.params.productId,
          request.body,
        ),
      ),
  );

  app.delete(
    '/:id/products/:productId',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Remove a line from the vendor’s catalogue',
        description:
          'Deletes the line; purchase orders keep their own copy of its SKU, description and cost.',
        params: ProductParams,
        response: { 204: Type.Null({ description: 'Removed' }) },
      },
      { errors: [404] },
    ),
    async (request, reply) => {
      await service.removeProduct(authOf(request), request.params.id, request.params.productId);
      return reply.status(204).send(null);
    },
  );
};
