import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import { invalidInput, textProblem } from '../../platform/http/input-guard.ts';
import { multipartError } from '../../platform/http/multipart.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import type { StagedFile } from '../files/files.service.ts';
import {
  ApproveResponse,
  IdParams,
  Invoice,
  ListQuery,
  ReconcileBody,
  ReconcileResponse,
  StatusBody,
  UpdateInvoiceBody,
  UploadRequest,
  UploadResponse,
} from './invoices.schemas.ts';
import type { InvoicesService } from './invoices.service.ts';

export interface InvoicesRoutesOptions {
  service: InvoicesService;
  guard: Guard;
}

const tags = ['invoices'];
const TEXT_FIELDS = ['vendorId', 'invoiceNumber', 'invoiceDate'] as const;
type TextField = (typeof TEXT_FIELDS)[number];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Makes a retry safe: the same key replays the first answer',
    }),
  ),
});

function checkField(name: TextField, value: string): string {
  const trimmed = value.trim();
  const refuse = (message: string) => invalidInput([{ field: name, message }]);
  const problem = textProblem(trimmed, 100);
  if (problem) throw refuse(problem);
  if (name === 'vendorId' && !UUID.test(trimmed)) throw refuse('must be a uuid');
  if (name === 'invoiceDate' && (!DATE.test(trimmed) || Number.isNaN(Date.parse(trimmed)))) {
    throw refuse('must be a date YYYY-MM-DD');
  }
  if (name === 'invoiceNumber' && (trimmed === '' || trimmed.length > 100))
    throw refuse('must be 1 to 100 characters');
  return name === 'vendorId' ? trimmed.toLowerCase() : trimmed;
}

/** /v1/invoices: upload, processing, review, approval, reconciliation and payment of vendor invoices. */
export const invoicesRoutes: FastifyPluginAsyncTypebox<InvoicesRoutesOptions> = async (
  app,
  { service, guard },
) => {
  await app.register(multipart, {
    limits: { fileSize: service.files.maxBytes + 1, files: 1, fields: 3, parts: 4, fieldSize: 1024 },
  });

  app.post(
    '/upload',
    {
      ...guard.protect(
        'invoice:process',
        {
          tags,
          summary:
            'Upload an invoice (multipart: `file`, optional `vendorId`, `invoiceNumber`, `invoiceDate`)',
          description:
            'The file is streamed to storage (FILE_MAX_BYTES, type from its bytes) and an `invoice:process` job is queued in the same transaction: 202 with `status: processing`. Follow it with GET /v1/invoices/:id or the `invoices:updates` channel (`invoice:processed`, `invoice:failed`). The same file again, or a vendor’s invoice number already here → 409 `DUPLICATE_INVOICE` with `details.invoiceId`. Send the text fields before the file.',
          consumes: ['multipart/form-data'],
          response: { 202: Envelope(UploadResponse) },
        },
        { rateLimit: 'uploads', errors: [409, 413, 415, 422, 503] },
      ),
      config: { permission: 'invoice:process', multipartBody: UploadRequest },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new AppError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'Send multipart/form-data with the invoice in a field named "file"',
        );
      }
      const auth = authOf(request);
      const fields: Partial<Record<TextField, string>> = {};
      let staged: StagedFile | undefined;
      let unread: Readable | undefined;
      try {
        try {
          for await (const part of request.parts()) {
            const name = part.fieldname;
            if (part.type === 'file') {
              unread = part.file;
              if (name !== 'file')
                throw invalidInput([{ field: name, message: 'must be a text field, not a file' }]);
              const filename = part.filename
                .slice(Math.max(part.filename.lastIndexOf('/'), part.filename.lastIndexOf('\\')) + 1)
                .trim();
              if (filename === '' || filename.length > 255 || textProblem(filename, 255)) {
                throw invalidInput([{ field: 'file', message: 'needs a file name of 1 to 255 characters' }]);
              }
              staged = await service.files.stage(auth, {
                filename,
                declaredType: part.mimetype,
                body: part.file,
              });
              unread = undefined;
            } else {
              if (!(TEXT_FIELDS as readonly string[]).includes(name)) {
                throw invalidInput([
                  {
                    field: textProblem(name, 200) ? 'multipart field' : name,
                    message: 'is not a field of this request (file, vendorId, invoiceNumber, invoiceDate)',
                  },
                ]);
              }
              if (fields[name as TextField] !== undefined)
                throw invalidInput([{ field: name, message: 'is sent more than once' }]);
              fields[name as TextField] = checkField(name as TextField, String(part.value));
            }
          }
        } catch (error) {
          throw multipartError(error);
        }
        if (!staged) {
          throw errors.validation('No file: send it in a multipart field named "file"', [
            { field: 'file', message: 'is required' },
          ]);
        }
        const answer = await service.upload(auth, staged, fields);
        staged = undefined;
        return reply.status(202).send(ok(request, answer));
      } catch (error) {
        unread?.destroy();
        if (!request.raw.readableEnded && !request.raw.destroyed) request.raw.resume();
        if (staged) await service.files.discard(staged);
        throw error;
      }
    },
  );

  app.get(
    '',
    guard.protect('invoice:process', {
      tags,
      summary: 'List invoices: vendor, payment status, processing status, date and amount ranges, pages',
      description:
        '`status` is the payment status (pending, paid, overdue); `processingStatus` the processing/review state. Dates compare the invoice date, amounts the total. Newest upload first.',
      querystring: ListQuery,
      response: { 200: Envelope(Type.Array(Invoice)) },
    }),
    async (request) => {
      const { invoices, pagination } = await service.list(authOf(request), request.query);
      return ok(request, invoices, pagination);
    },
  );

  app.get(
    '/:id',
    guard.protect(
      'invoice:process',
      {
        tags,
        summary: 'One invoice: extracted data, lines with their matches, conflicts, statuses',
        params: IdParams,
        response: { 200: Envelope(Invoice) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await service.get(authOf(request), request.params.id)),
  );

  app.put(
    '/:id',
    guard.protect(
      'invoice:process',
      {
        tags,
        summary: 'Correct an invoice in review: header fields, line items, quantities, costs, lots',
        description:
          'Only in `review` (else 409). Mapping a line to an item, or correcting a header field, is learned for the vendor (its SKU → item map and layout hints), and used on its next invoice. The three-way match is recomputed.',
        params: IdParams,
        body: UpdateInvoiceBody,
        response: { 200: Envelope(Invoice) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request) => ok(request, await service.update(authOf(request), request.params.id, request.body)),
  );

  app.post(
    '/:id/approve',
    guard.protect(
      'invoice:process',
      {
        tags,
        summary: 'Approve an invoice: receive its stock and take its unit costs',
        description:
          'One transaction: units not already received against a purchase order go into stock through the stock-change path (a lot with `expirationDate`/`lotCode` when given), and unit costs that differ are changed with a history row each. Changing costs needs `vendor:manage` (403 otherwise). Every line needs an item or `ignored` (422). A second approval → 409; an `Idempotency-Key` replays the first answer.',
        params: IdParams,
        headers: IdempotencyHeaders,
        response: { 200: Envelope(ApproveResponse) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request) =>
      ok(
        request,
        await service.approve(authOf(request), request.params.id, request.headers['idempotency-key']),
      ),
  );

  app.post(
    '/:id/reconcile',
    guard.protect(
      'invoice:process',
      {
        tags,
        summary: 'Reconcile an approved invoice: what arrived against what was invoiced',
        description:
          'Each adjustment moves stock by `actualQuantity − expectedQuantity` (a ledger adjustment with the reason) and adds short units × the invoiced unit cost to the credit to claim from the vendor. Items must be on the invoice (422). `Idempotency-Key` makes retries safe.',
        params: IdParams,
        headers: IdempotencyHeaders,
        body: ReconcileBody,
        response: { 200: Envelope(ReconcileResponse) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request) =>
      ok(
        request,
        await service.reconcile(
          authOf(request),
          request.params.id,
          request.body,
          request.headers['idempotency-key'],
        ),
      ),
  );

  app.put(
    '/:id/status',
    guard.protect(
      'invoice:process',
      {
        tags,
        summary: 'Set the payment status (paid, pending, overdue)',
        description:
          '`paidDate` (default: the store’s today) only with `paid`. Only a processed invoice (review or approved) has one (409).',
        params: IdParams,
        body: StatusBody,
        response: { 200: Envelope(Invoice) },
      },
      { errors: [404, 409, 422] },
    ),
    async (request) => ok(request, await service.setStatus(authOf(request), request.params.id, request.body)),
  );
};
