import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { create as contentDisposition } from 'content-disposition';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { FileCategory } from '../../platform/db/schema.ts';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import { invalidInput, jsonProblems, textProblem } from '../../platform/http/input-guard.ts';
import { multipartError } from '../../platform/http/multipart.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import { ALLOWED_MIME_TYPES, dispositionFor } from './file-types.ts';
import {
  CATEGORIES,
  FileRecord,
  IdParams,
  ProcessRequest,
  ProcessResponse,
  ListQuery,
  UploadMetadata,
  UploadRequest,
} from './files.schemas.ts';
import { assertMayUpload, type FilesService, type StagedFile } from './files.service.ts';

export interface FilesRoutesOptions {
  service: FilesService;
  guard: Guard;
}

const UPLOAD_FIELDS = ['file', 'category', 'metadata'];
const METADATA_MAX_BYTES = 16_384;

const tags = ['files'];
const reads = { rateLimit: 'api' as const };

/** The name the file was sent with, without any folder a client put in it (C:\fakepath\…). */
function uploadedName(raw: string): string {
  const refused = (problem: string) =>
    invalidInput([{ field: 'file', message: `has a file name that ${problem}` }]);
  const textual = textProblem(raw, 1000);
  if (textual) throw refused(textual);
  const name = raw
    .slice(Math.max(raw.lastIndexOf('/'), raw.lastIndexOf('\\')) + 1)
    // Control characters have no place in a name that ends up in a header.
    .replace(/\p{Cc}/gu, '_')
    .trim();
  if (name === '') throw refused('is empty: send the file with its name');
  if (name.length > 255) throw refused('is longer than 255 characters');
  return name;
}

function parseCategory(raw: string): FileCategory {
  if (!(CATEGORIES as readonly string[]).includes(raw)) {
    throw invalidInput([{ field: 'category', message: `must be one of ${CATEGORIES.join(', ')}` }]);
  }
  return raw as FileCategory;
}

function parseMetadata(raw: string): UploadMetadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw errors.validation(
      'metadata must be a JSON object, e.g. {"title": "March invoice", "tags": ["dairy"]}',
      [{ field: 'metadata', message: 'is not valid JSON' }],
    );
  }
  const problems = jsonProblems(parsed, 'metadata');
  if (problems.length > 0) throw invalidInput(problems);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidInput([{ field: 'metadata', message: 'must be a JSON object' }]);
  }
  const known = Object.keys(UploadMetadata.properties);
  const unknown = Object.keys(parsed).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw invalidInput(
      unknown.map((key) => ({
        field: `metadata.${key}`,
        message: `is not a metadata field (the fields are: ${known.join(', ')})`,
      })),
    );
  }
  const invalid = Value.Errors(UploadMetadata, parsed);
  if (invalid.length > 0) {
    throw invalidInput(
      invalid.map((error) => ({
        field: `metadata${error.instancePath.replaceAll('/', '.')}`,
        message: error.message,
      })),
    );
  }
  return parsed;
}

/** How long the rest of a refused upload is read and thrown away, at most, before answering. */
const DISCARD_MS = 30_000;

/**
 * After a refusal that came before the body was all read (415 at the first bytes, 413 midway),
 * the rest of the body is read and thrown away before the answer goes out. Answering at once
 * and closing the connection under a client that is still sending resets it: the client sees
 * EPIPE or ECONNRESET, not the 413/415. Only a client still sending after DISCARD_MS gets its
 * answer early, with the connection closed behind it.
 */
async function discardRestOfBody(raw: FastifyRequest['raw'], reply: FastifyReply): Promise<void> {
  raw.unpipe();
  const ended = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), DISCARD_MS);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    raw.once('end', done);
    raw.once('close', done);
    raw.once('error', done);
  });
  raw.resume();
  if (!(await ended)) reply.header('connection', 'close');
}

const Binary = Type.String({ format: 'binary' });
const bytesContent = Object.fromEntries(ALLOWED_MIME_TYPES.map((type) => [type, { schema: Binary }]));
const header = (
  description: string,
  schema: Record<string, unknown> = { type: 'string', maxLength: 1024 },
) => ({
  ...schema,
  description,
});
const byteHeaders = {
  'Content-Length': header('Bytes in this answer', { type: 'integer', minimum: 0, maximum: 2 ** 53 - 1 }),
  'Content-Disposition': header('inline (PDF and web images) or attachment, with the file’s name'),
  ETag: header('The SHA-256 of the whole file, quoted'),
  'Accept-Ranges': header('bytes: a `Range` header may ask for one range'),
};

export const filesRoutes: FastifyPluginAsyncTypebox<FilesRoutesOptions> = async (app, { service, guard }) => {
  await app.register(multipart, {
    // One byte over the limit is enough to know the file is too large (413).
    limits: { fileSize: service.maxBytes + 1, files: 1, fields: 4, parts: 6, fieldSize: METADATA_MAX_BYTES },
  });

  app.post(
    '/upload',
    {
      ...guard.protect(
        'inventory:write',
        {
          tags,
          summary: 'Upload a file (multipart: `file`, `category`, `metadata`)',
          description:
            'The file is streamed to storage, never held in memory. Its type is decided from its bytes, not its name: PDF, JPEG, PNG, TIFF, WebP, GIF, XLSX; CSV, TXT or XML when the name or declared type says so and the bytes are UTF-8 text without NUL. Anything else → 415 naming the detected type; larger than FILE_MAX_BYTES → 413. `invoice` uploads also need `invoice:process`. On any failure nothing is kept.',
          consumes: ['multipart/form-data'],
          response: { 201: Envelope(FileRecord) },
        },
        { rateLimit: 'uploads', errors: [413, 415, 503] },
      ),
      config: { permission: 'inventory:write', multipartBody: UploadRequest },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new AppError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'Send multipart/form-data with the file in a field named "file"',
        );
      }
      const auth = authOf(request);
      let staged: StagedFile | undefined;
      let unread: Readable | undefined;
      let category: FileCategory | undefined;
      let metadata: UploadMetadata | undefined;
      try {
        try {
          for await (const part of request.parts()) {
            const name = part.fieldname;
            if (part.type === 'file') unread = part.file;
            if (!UPLOAD_FIELDS.includes(name)) {
              throw invalidInput([
                {
                  field: textProblem(name, 200) ? 'multipart field' : name,
                  message:
                    'is not a field of this request (send "file", "category", and "metadata" as JSON text)',
                },
              ]);
            }
            if (part.type === 'file') {
              if (name !== 'file')
                throw invalidInput([{ field: name, message: 'must be a text field, not a file' }]);
              if (staged)
                throw invalidInput([{ field: 'file', message: 'is sent more than once: send one file' }]);
              const filename = uploadedName(part.filename);
              // Known before the bytes: refused before anything is stored.
              if (category) assertMayUpload(auth, category);
              staged = await service.stage(auth, { filename, declaredType: part.mimetype, body: part.file });
              unread = undefined;
            } else {
              if (name === 'file') {
                throw invalidInput([
                  { field: 'file', message: 'must be a file part (with a filename), not a text field' },
                ]);
              }
              if (part.valueTruncated) {
                throw invalidInput([{ field: name, message: `is longer than ${METADATA_MAX_BYTES} bytes` }]);
              }
              const value = String(part.value);
              if (name === 'category') {
                if (category !== undefined)
                  throw invalidInput([{ field: name, message: 'is sent more than once' }]);
                category = parseCategory(value);
              } else {
                if (metadata !== undefined)
                  throw invalidInput([{ field: name, message: 'is sent more than once' }]);
                metadata = parseMetadata(value);
              }
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
        if (!category) {
          throw invalidInput([
            { field: 'category', message: `is required: one of ${CATEGORIES.join(', ')}` },
          ]);
        }
        assertMayUpload(auth, category);
        const file = await service.record(auth, staged, { category, metadata: metadata ?? {} });
        staged = undefined;
        return reply.status(201).send(ok(request, file));
      } catch (error) {
        // A part not read to its end would hold the rest of the request body back.
        unread?.destroy();
        if (!request.raw.readableEnded && !request.raw.destroyed) await discardRestOfBody(request.raw, reply);
        if (staged) await service.discard(staged);
        throw error;
      }
    },
  );

  app.get(
    '',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'List files, newest first, with filters and pagination',
        querystring: ListQuery,
        response: { 200: Envelope(Type.Array(FileRecord)) },
      },
      reads,
    ),
    async (request) => {
      const { files, pagination } = await service.list(authOf(request), request.query);
      return ok(request, files, pagination);
    },
  );

  app.get(
    '/:id/metadata',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'A file’s record (name, type, size, SHA-256, title, tags…)',
        params: IdParams,
        response: { 200: Envelope(FileRecord) },
      },
      { ...reads, errors: [404] },
    ),
    async (request) => ok(request, await service.get(authOf(request), request.params.id)),
  );

  app.get(
    '/:id',
    {
      ...guard.protect(
        'inventory:read',
        {
          tags,
          summary: 'Download a file’s bytes (one `Range` allowed), or a redirect to them',
          description:
            'Streams the bytes with their type, length, `Content-Disposition` and `ETag` (the SHA-256). `Range: bytes=a-b` (also `a-` and `-n`) → 206 with `Content-Range`; a range past the end → 416; `If-None-Match` with the ETag → 304. With S3 storage and FILE_DOWNLOAD_REDIRECT, 302 to a presigned URL valid 300 s.',
          params: IdParams,
          headers: Type.Object({
            range: Type.Optional(
              Type.String({ maxLength: 200, description: 'bytes=a-b, bytes=a- or bytes=-n' }),
            ),
            'if-range': Type.Optional(Type.String({ maxLength: 200 })),
            'if-none-match': Type.Optional(Type.String({ maxLength: 2000 })),
          }),
          response: {
            200: { description: 'The whole file', headers: byteHeaders, content: bytesContent },
            206: {
              description: 'The range asked for',
              headers: {
                ...byteHeaders,
                'Content-Range': header('bytes a-b/size'),
              },
              content: bytesContent,
            },
            302: {
              description: 'FILE_DOWNLOAD_REDIRECT on S3: the bytes are at `Location`, for 300 s',
              headers: {
                Location: header('A presigned URL of the file', { type: 'string', maxLength: 8192 }),
              },
              type: 'null',
            },
            304: { description: 'The client’s copy (If-None-Match) is current', type: 'null' },
          },
        },
        { ...reads, errors: [404, 416] },
      ),
      // Bytes go out as stored: compressing would break Content-Length and ranges.
      compress: false,
    },
    async (request, reply) => {
      const answer = await service.download(authOf(request), request.params.id, {
        range: request.headers.range,
        ifRange: request.headers['if-range'],
        ifNoneMatch: request.headers['if-none-match'],
        headOnly: request.method === 'HEAD',
      });
      switch (answer.kind) {
        case 'redirect':
          return reply.header('cache-control', 'no-store').redirect(answer.url, 302);
        case 'not-modified':
          return reply
            .status(304)
            .header('etag', answer.etag)
            .header('cache-control', 'private, no-cache')
            .send();
        case 'unsatisfiable':
          reply.header('content-range', `bytes */${answer.size}`);
          throw new AppError(
            416,
            'RANGE_NOT_SATISFIABLE',
            `The range is past the end of the file (${answer.size} bytes)`,
            { size: answer.size },
          );
        case 'bytes': {
          const { file, object, etag } = answer;
          const type = file.mime_type.startsWith('text/')
            ? `${file.mime_type}; charset=utf-8`
            : file.mime_type;
          reply
            .status(object.range ? 206 : 200)
            .header('content-type', type)
            .header('content-length', String(object.contentLength))
            .header(
              'content-disposition',
              contentDisposition(file.original_filename, { type: dispositionFor(file.mime_type) }),
            )
            .header('etag', etag)
            .header('accept-ranges', 'bytes')
            .header('cache-control', 'private, no-cache');
          if (object.range) {
            reply.header('content-range', `bytes ${object.range.start}-${object.range.end}/${object.size}`);
          }
          return reply.send(object.body);
        }
      }
    },
  );

  app.get(
    '/:id/thumbnail',
    {
      ...guard.protect(
        'inventory:read',
        {
          tags,
          summary: 'A file’s thumbnail image (once processing has made one)',
          params: IdParams,
          response: {
            200: {
              description: 'The thumbnail',
              content: Object.fromEntries(
                ['image/webp', 'image/jpeg', 'image/png'].map((type) => [type, { schema: Binary }]),
              ),
            },
          },
        },
        { ...reads, errors: [404] },
      ),
      compress: false,
    },
    async (request, reply) => {
      const { object, mimeType } = await service.thumbnail(authOf(request), request.params.id);
      // A stream: the schema documents the bytes, it does not type them.
      return (reply as FastifyReply)
        .header('content-type', mimeType)
        .header('content-length', String(object.contentLength))
        .header('cache-control', 'private, no-cache')
        .send(object.body);
    },
  );

  app.delete(
    '/:id',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Delete a file (soft: the bytes are purged FILE_RETENTION_DAYS later)',
        description: 'A deleted file answers 404 from then on; admins still list it with `includeDeleted`.',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }) },
      },
      { ...reads, errors: [404] },
    ),
    async (request, reply) => {
      await service.remove(authOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/:id/process',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'OCR or analyse a stored file, as a background job',
        description:
          'Answers 202 with the job; its result (GET /v1/jobs/{jobId}) is `{text, pages, method, pageTexts}` for `ocr` or `{width, height, format, barcodes}` for `image_analysis`. A corrupt, encrypted or over-long document fails the job at once with the reason.',
        params: IdParams,
        body: ProcessRequest,
        response: { 202: Envelope(ProcessResponse) },
      },
      { errors: [404, 415] },
    ),
    async (request, reply) => {
      reply.status(202);
      return ok(request, await service.process(authOf(request), request.params.id, request.body));
    },
  );
};
