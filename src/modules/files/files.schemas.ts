import { type Static, Type } from 'typebox';
import type { FileCategory } from '../../platform/db/schema.ts';
import { ALLOWED_MIME_TYPES } from './file-types.ts';

export const CATEGORIES = [
  'invoice',
  'product_image',
  'document',
  'report',
] as const satisfies readonly FileCategory[];

const Category = Type.Unsafe<FileCategory>({
  type: 'string',
  enum: [...CATEGORIES],
  description: '`invoice` uploads also need the `invoice:process` permission',
});

/** The `metadata` part of an upload, as JSON text. */
export const UploadMetadata = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 50 }), {
        maxItems: 20,
        description: 'Up to 20 tags of 1-50 characters; repeats are kept once',
      }),
    ),
    relatedId: Type.Optional(
      Type.String({ format: 'uuid', description: 'The record this file belongs to (an invoice, an item)' }),
    ),
  },
  { additionalProperties: false },
);
export type UploadMetadata = Static<typeof UploadMetadata>;

/** The multipart body of an upload, for the OpenAPI document (the route reads the parts itself). */
export const UploadRequest = Type.Object(
  {
    file: Type.String({
      format: 'binary',
      description:
        'The file (at most FILE_MAX_BYTES). Its type is decided from its bytes: PDF, JPEG, PNG, TIFF, WebP, GIF or XLSX; CSV, TXT or XML when its name or declared type says so and it is UTF-8 text without NUL',
    }),
    category: Category,
    metadata: Type.Optional(
      Type.String({
        maxLength: 16_384,
        description:
          'JSON text: {"title"?: ≤200 characters, "description"?: ≤2000, "tags"?: up to 20 of ≤50, "relatedId"?: uuid}; other keys are refused',
      }),
    ),
  },
  { additionalProperties: false },
);

export const FileRecord = Type.Object({
  id: Type.String({ format: 'uuid' }),
  fileId: Type.String({
    format: 'uuid',
    description: 'The same as `id` (the spec’s FileUploadResponse name)',
  }),
  url: Type.String({ description: 'Where the bytes are: GET it (with the access token)' }),
  thumbnailUrl: Type.Optional(Type.String({ description: 'Present once a thumbnail has been made' })),
  category: Category,
  metadata: Type.Object({
    filename: Type.String({ description: 'The name it was uploaded with (without any folder)' }),
    size: Type.Integer({ minimum: 0, description: 'Bytes' }),
    mimeType: Type.Unsafe<string>({ type: 'string', enum: ALLOWED_MIME_TYPES }),
    uploadedAt: Type.String({ format: 'date-time' }),
  }),
  sha256: Type.String({ description: 'SHA-256 of the bytes, hex; also the download’s ETag' }),
  title: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  relatedId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  uploadedBy: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  deletedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'Set on deleted files, which only admins list (includeDeleted)',
  }),
});
export type FileRecord = Static<typeof FileRecord>;

export const ListQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
    category: Type.Optional(Category),
    relatedId: Type.Optional(Type.String({ format: 'uuid' })),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'Files carrying this tag' })),
    search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Part of the file name or title, any case' }),
    ),
    includeDeleted: Type.Boolean({
      default: false,
      description: 'Admins only: list deleted files too (with `deletedAt`)',
    }),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** The spec's DocumentProcessingRequest (`invoice_extraction` arrives with invoice processing). */
export const ProcessRequest = Type.Object({
  type: Type.Union([Type.Literal('ocr'), Type.Literal('image_analysis')], {
    description:
      'ocr: the text of a PDF (its text layer, else OCR of its pages) or an image; image_analysis: size, format and barcodes',
  }),
  options: Type.Optional(
    Type.Object({
      language: Type.Optional(
        Type.Literal('eng', { description: 'Language of the text, for OCR (installed: eng)' }),
      ),
      extractTables: Type.Optional(Type.Boolean({ description: 'Accepted; tables are not extracted yet' })),
      detectObjects: Type.Optional(
        Type.Boolean({ description: 'Accepted; barcodes are the only objects detected' }),
      ),
    }),
  ),
});

/** The spec's DocumentProcessingResponse, when queued: the result is read through the job. */
export const ProcessResponse = Type.Object({
  jobId: Type.String({
    format: 'uuid',
    description: 'Follow it at GET /v1/jobs/{jobId}; its result holds the text or the analysis',
  }),
  status: Type.Literal('processing'),
});
