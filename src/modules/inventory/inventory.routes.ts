import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { AppError, errors } from '../../platform/http/errors.ts';
import { invalidInput, jsonProblems, textProblem } from '../../platform/http/input-guard.ts';
import { multipartError } from '../../platform/http/multipart.ts';
import { detectKind } from './import.rows.ts';
import type { ImportService } from './import.service.ts';
import { Envelope, ok, okJsonText } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  AdjustBody,
  AdjustResult,
  AnalyticsResponse,
  BarcodeLookupBody,
  BarcodeLookupResponse,
  CreateItemBody,
  HistoryQuery,
  HistoryResponse,
  IdParams,
  ImportOptions,
  ImportRequest,
  ImportResponse,
  Item,
  ItemDetail,
  ListQuery,
  UpdateItemBody,
} from './inventory.schemas.ts';
import type { AnalyticsService } from './analytics.service.ts';
import type { BarcodeService } from './barcode.service.ts';
import type { InventoryService } from './inventory.service.ts';

export interface InventoryRoutesOptions {
  service: InventoryService;
  barcodes: BarcodeService;
  imports: ImportService;
  analytics: AnalyticsService;
  guard: Guard;
  /** Where uploads are spooled while they are imported (DATA_DIR/tmp). */
  tmpDir: string;
  importMaxBytes: number;
}

function parseImportOptions(raw: string): Static<typeof ImportOptions> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw errors.validation('options must be a JSON object, e.g. {"validateOnly": true}', [
      { field: 'options', message: 'is not valid JSON' },
    ]);
  }
  const problems = jsonProblems(parsed, 'options');
  if (problems.length > 0) throw invalidInput(problems);
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const unknown = Object.keys(parsed).filter((key) => !(key in ImportOptions.properties));
    if (unknown.length > 0) {
      throw invalidInput(
        unknown.map((key) => ({
          field: `options.${key}`,
          message: `is not an import option (the options are: ${Object.keys(ImportOptions.properties).join(', ')})`,
        })),
      );
    }
  }
  const withDefaults = Value.Default(ImportOptions, parsed);
  if (!Value.Check(ImportOptions, withDefaults)) {
    throw errors.validation('options are invalid', [
      { field: 'options', message: 'expects {skipDuplicates, updateExisting, validateOnly} as booleans' },
    ]);
  }
  return withDefaults;
}

/** The multipart fields of an import: the file, and its options as JSON text. */
const IMPORT_FIELDS = ['file', 'options'];

const tags = ['inventory'];
const limit = { rateLimit: 'inventory' as const };

export const inventoryRoutes: FastifyPluginAsyncTypebox<InventoryRoutesOptions> = async (
  app,
  { service, barcodes, imports, analytics, guard, tmpDir, importMaxBytes },
) => {
  await app.register(multipart, {
    limits: { fileSize: importMaxBytes, files: 1, fields: 5, fieldSize: 10_000 },
  });

  app.post(
    '/bulk-import',
    {
      ...guard.protect(
        'inventory:write',
        {
          tags,
          summary: 'Import items from a CSV or XLSX file (multipart: `file`, `options`)',
          description:
            'Headers are matched forgivingly (camelCase, snake_case, captions such as "UPC", "Item Description", "Qty"). Rows match existing items by SKU, else barcode. Bad rows are reported as {row, field, message} and skipped; the good rows are applied in one transaction. `validateOnly` changes nothing. Not CSV/XLSX, empty, or no header → 400; larger than IMPORT_MAX_BYTES → 413.',
          consumes: ['multipart/form-data'],
          response: { 200: Envelope(ImportResponse) },
        },
        { rateLimit: 'uploads', errors: [413, 415] },
      ),
      config: { permission: 'inventory:write', multipartBody: ImportRequest },
    },
    async (request) => {
      if (!request.isMultipart()) {
        throw new AppError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'Send multipart/form-data with the file in a field named "file"',
        );
      }
      await mkdir(tmpDir, { recursive: true });
      const spooled = path.join(tmpDir, `import-${randomUUID()}`);
      try {
        let options = parseImportOptions('{}');
        let optionsSeen = false;
        let filename: string | undefined;
        try {
          for await (const part of request.parts()) {
            const name = part.fieldname;
            if (!IMPORT_FIELDS.includes(name)) {
              // A dry run sent as `validateOnly=true` beside the file once became a real import.
              throw invalidInput([
                {
                  field: textProblem(name, 200) ? 'multipart field' : name,
                  message:
                    'is not a field of this request (send the file as "file" and settings as JSON in "options", e.g. {"validateOnly": true})',
                },
              ]);
            }
            if (part.type === 'file') {
              if (name !== 'file') {
                throw invalidInput([{ field: name, message: 'must be a text field (JSON), not a file' }]);
              }
              if (filename !== undefined) {
                throw invalidInput([
                  { field: 'file', message: 'is sent more than once: send exactly one file' },
                ]);
              }
              const nameProblem = textProblem(part.filename, 255);
              if (nameProblem)
                throw invalidInput([{ field: 'file', message: `has a file name that ${nameProblem}` }]);
              // Spooled to disk, never held in memory; options may arrive after the file.
              await pipeline(part.file, createWriteStream(spooled));
              if (part.file.truncated) {
                throw new AppError(
                  413,
                  'PAYLOAD_TOO_LARGE',
                  `The file is larger than ${importMaxBytes} bytes`,
                );
              }
              filename = part.filename;
            } else {
              if (name === 'file') {
                throw invalidInput([
                  { field: 'file', message: 'must be a file part (with a filename), not a text field' },
                ]);
              }
              if (optionsSeen) throw invalidInput([{ field: 'options', message: 'is sent more than once' }]);
              optionsSeen = true;
              options = parseImportOptions(String(part.value));
            }
          }
        } catch (error) {
          throw multipartError(error);
        }
        if (filename === undefined)
          throw errors.validation('No file: send it in a multipart field named "file"');
        const kind = await detectKind(spooled, filename);
        return ok(request, await imports.import(authOf(request), spooled, kind, options));
      } finally {
        await rm(spooled, { force: true });
      }
    },
  );

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
    async (request, reply) => {
      const { itemsJson, pagination } = await service.list(authOf(request), request.query);
      // Sent as text: the items are already API JSON from PostgreSQL (migrations/0010), so the
      // reply is not typed by the schema (which still documents it) and is not re-serialised.
      return (reply as FastifyReply)
        .type('application/json; charset=utf-8')
        .send(okJsonText(request, itemsJson, pagination));
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
    '/analytics',
    guard.protect(
      'reports:view',
      {
        tags,
        summary:
          'Stock value, low/expiring counts, categories, fast and slow movers, and stock at risk of expiring',
        description:
          'Computed from lots and the ledger. `atRiskItems`: stock expected to expire before it sells at the item’s 28-day sales velocity (first-expiring-first), with its value at cost, most valuable first.',
        response: { 200: Envelope(AnalyticsResponse) },
      },
      limit,
    ),
    async (request) => ok(request, await analytics.inventory(authOf(request))),
  );

  app.get(
    '/:id',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'One item with its lots and its reorder policy',
        description:
          '`reorderPolicy`: reorder point, order-up-to level and safety stock from the item’s stored demand forecast (lead time + review period, the store’s service level, capped by shelf life); null before its first forecast.',
        params: IdParams,
        response: { 200: Envelope(ItemDetail) },
      },
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
