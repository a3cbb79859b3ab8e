import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  CancelBody,
  CloseBody,
  CreatePurchaseOrderBody,
  DirectReceiptBody,
  IdempotencyHeaders,
  IdParams,
  PoReceiptBody,
  PurchaseOrder,
  PurchaseOrderListQuery,
  PurchaseOrderSummary,
  Receipt,
  ReceiptListQuery,
  SendBody,
  UpdatePurchaseOrderBody,
} from './purchasing.schemas.ts';
import type { PurchasingService } from './purchasing.service.ts';
import type { ReceivingService } from './receiving.service.ts';

export interface PurchasingRoutesOptions {
  service: PurchasingService;
  receiving: ReceivingService;
  guard: Guard;
}

const tags = ['purchasing'];
const STATE_NOTE =
  'Any other state → 409 `INVALID_PO_STATE` with `details.status`. The order row is locked, so concurrent transitions apply one after the other.';
const RECEIPT_NOTE =
  'One transaction: each line with `quantityReceived` > 0 goes into stock through the same path as an adjustment (`received`: a lot with `lotCode`/`expirationDate`/`unitCost`, the ledger, history, events). `expirationDate` is required for an item with a shelf life, and may not be before the receipt’s day; a lot with less than RECEIPT_SHORT_DATED_SHARE of the shelf life left is marked `shortDated`. `rejectionReason` is required with `quantityRejected`. Any line refused → nothing is written. Send an `Idempotency-Key` header to make retries safe (same key and body → the same answer; another body → 422 `IDEMPOTENCY_KEY_REUSED`).';

/** /v1/purchase-orders: orders to vendors, their states, PDF and receipts. */
export const purchaseOrderRoutes: FastifyPluginAsyncTypebox<PurchasingRoutesOptions> = async (
  app,
  { service, receiving, guard },
) => {
  app.get(
    '',
    guard.protect('inventory:read', {
      tags,
      summary: 'Purchase orders, newest first',
      description:
        '`dateFrom`/`dateTo` filter on the order date (the day it was sent; a draft’s creation day).',
      querystring: PurchaseOrderListQuery,
      response: { 200: Envelope(Type.Array(PurchaseOrderSummary)) },
    }),
    async (request) => {
      const { orders, pagination } = await service.list(authOf(request), request.query);
      return ok(request, orders, pagination);
    },
  );

  app.post(
    '',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Create a draft purchase order',
        description:
          'Each line’s `unitCost` defaults to the vendor catalogue’s price for its units (price breaks), else the item’s vendorCost, else its unitCost (none → 422 naming `lines[i].unitCost`). `orderUnit: case` needs a catalogue line (its units per case). An item twice, an unknown item, an unknown or inactive vendor → 422 naming the field. `expectedDate` defaults to the latest delivery date of the lines’ catalogue terms, else tomorrow. The number is sequential per store, without gaps.',
        body: CreatePurchaseOrderBody,
        response: { 201: Envelope(PurchaseOrder) },
      },
      { errors: [422] },
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
        summary: 'One purchase order with its lines',
        params: IdParams,
        response: { 200: Envelope(PurchaseOrder) },
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
        summary: 'Change a draft: replace its lines, expected date or notes',
        description: `Lines are priced as on creation and replace the old ones as a whole. Not a draft → 409 \`INVALID_PO_STATE\` with \`details.status\`.`,
        params: IdParams,
        body: UpdatePurchaseOrderBody,
        response: { 200: Envelope(PurchaseOrder) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request) => ok(request, await service.update(authOf(request), request.params.id, request.body)),
  );

  app.post(
    '/:id/send',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Send a draft to the vendor (draft → sent), e-mailing its PDF',
        description: `Sets the order date to the store’s today. The PDF goes to \`to\`, else the vendor’s e-mail (neither, and no \`skipEmail\` → 422), through the mail queue once the change commits. Below the vendor’s minimum order value or a catalogue line’s minimum quantity → 422 \`BELOW_MINIMUM\` listing the shortfalls, unless \`allowBelowMinimum\`. ${STATE_NOTE}`,
        params: IdParams,
        body: SendBody,
        response: { 200: Envelope(PurchaseOrder) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request) => ok(request, await service.send(authOf(request), request.params.id, request.body)),
  );

  app.post(
    '/:id/cancel',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Cancel a draft or sent order',
        description: STATE_NOTE,
        params: IdParams,
        body: CancelBody,
        response: { 200: Envelope(PurchaseOrder) },
      },
      { errors: [404, 409] },
    ),
    async (request) =>
      ok(request, await service.cancel(authOf(request), request.params.id, request.body.reason)),
  );

  app.post(
    '/:id/acknowledge',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Record that the vendor confirmed the order (once; sent or partially received)',
        description: `A second acknowledgement → 409 \`INVALID_PO_STATE\` with \`details.acknowledgedAt\`. ${STATE_NOTE}`,
        params: IdParams,
        response: { 200: Envelope(PurchaseOrder) },
      },
      { errors: [404, 409] },
    ),
    async (request) => ok(request, await service.acknowledge(authOf(request), request.params.id)),
  );

  app.post(
    '/:id/close',
    guard.protect(
      'vendor:manage',
      {
        tags,
        summary: 'Close a partially received order short (→ received: the rest is not coming)',
        description: `Records \`shortClosedAt\` and \`closeReason\`; \`receivedAt\` is the last delivery’s; outstanding units become 0. ${STATE_NOTE}`,
        params: IdParams,
        body: CloseBody,
        response: { 200: Envelope(PurchaseOrder) },
      },
      { errors: [404, 409] },
    ),
    async (request) =>
      ok(request, await service.close(authOf(request), request.params.id, request.body.reason)),
  );

  app.get(
    '/:id/pdf',
    {
      ...guard.protect(
        'inventory:read',
        {
          tags,
          summary: 'The purchase order as a PDF (PO-000042.pdf)',
          params: IdParams,
          response: {
            200: {
              description: 'The PDF, as an attachment',
              headers: {
                'Content-Disposition': {
                  type: 'string',
                  maxLength: 100,
                  description: 'attachment; filename="PO-000042.pdf"',
                },
              },
              content: { 'application/pdf': { schema: Type.String({ format: 'binary' }) } },
            },
          },
        },
        { errors: [404] },
      ),
      compress: false,
    },
    async (request, reply) => {
      const { filename, bytes } = await service.pdf(authOf(request), request.params.id);
      return (reply as FastifyReply)
        .header('content-type', 'application/pdf')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .header('cache-control', 'private, no-cache')
        .send(bytes);
    },
  );

  app.get(
    '/:id/receipts',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'The receipts recorded against a purchase order, newest first',
        params: IdParams,
        querystring: Type.Object({
          page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
        }),
        response: { 200: Envelope(Type.Array(Receipt)) },
      },
      { errors: [404] },
    ),
    async (request) => {
      const { receipts, pagination } = await receiving.listForOrder(
        authOf(request),
        request.params.id,
        request.query.page,
        request.query.limit,
      );
      return ok(request, receipts, pagination);
    },
  );

  app.post(
    '/:id/receipts',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Receive a delivery against a sent or partially received order',
        description: `Lines name the order line (\`lineId\`) or its \`itemId\`; an item not on the order → 422 (record it as a direct receipt). A line would exceed its ordered units plus RECEIPT_OVER_TOLERANCE → 409 \`OVER_RECEIPT\` with the figures, unless \`allowOverReceipt\`. The order becomes partially_received, or received once every line has its units. Other states → 409 \`INVALID_PO_STATE\`. ${RECEIPT_NOTE}`,
        params: IdParams,
        headers: IdempotencyHeaders,
        body: PoReceiptBody,
        response: { 201: Envelope(Receipt) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request, reply) => {
      const result = await receiving.receiveForOrder(
        authOf(request),
        request.params.id,
        request.body,
        request.headers['idempotency-key'],
      );
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(201).send(ok(request, result.data));
    },
  );
};

/** /v1/receipts: every receipt, and direct receipts without a purchase order. */
export const receiptRoutes: FastifyPluginAsyncTypebox<PurchasingRoutesOptions> = async (
  app,
  { receiving, guard },
) => {
  app.get(
    '',
    guard.protect('inventory:read', {
      tags,
      summary: 'Receipts, newest first',
      description: '`dateFrom`/`dateTo` filter on the store’s day of receipt.',
      querystring: ReceiptListQuery,
      response: { 200: Envelope(Type.Array(Receipt)) },
    }),
    async (request) => {
      const { receipts, pagination } = await receiving.list(authOf(request), request.query);
      return ok(request, receipts, pagination);
    },
  );

  app.post(
    '',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Record a direct receipt, without a purchase order (bought at the market)',
        description: `From a vendor of the store (\`vendorId\`, active) or a named supplier (\`supplierName\`), not both. \`unitCost\` defaults to the item’s unit cost. ${RECEIPT_NOTE}`,
        headers: IdempotencyHeaders,
        body: DirectReceiptBody,
        response: { 201: Envelope(Receipt) },
      },
      { errors: [409, 422] },
    ),
    async (request, reply) => {
      const result = await receiving.receiveDirect(
        authOf(request),
        request.body,
        request.headers['idempotency-key'],
      );
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(201).send(ok(request, result.data));
    },
  );

  app.get(
    '/:id',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'One receipt with its lines (lot and ledger row of each)',
        params: IdParams,
        response: { 200: Envelope(Receipt) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await receiving.get(authOf(request), request.params.id)),
  );
};
