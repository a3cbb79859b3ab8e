import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { bearer, type Session } from './auth.ts';
import { type FilePart, multipart } from './multipart.ts';

/** Small real files of every kind an upload accepts (the bytes a file-type check looks at). */
export const FIXTURES = {
  pdf: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
  png: Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
  gif: Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'),
  jpeg: Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
    Buffer.from('JFIF\0'),
    Buffer.alloc(200, 1),
    Buffer.from([0xff, 0xd9]),
  ]),
  webp: Buffer.concat([
    Buffer.from('RIFF'),
    Buffer.from([0x1a, 0, 0, 0]),
    Buffer.from('WEBPVP8 '),
    Buffer.alloc(20),
  ]),
  tiff: Buffer.concat([
    Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.alloc(100),
  ]),
  csv: Buffer.from('description,qty\nGrüne Äpfel,5\n'),
  txt: Buffer.from('Delivery note: 12 crates of pears, signed at the back door.\n'),
  xml: Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n<invoice number="42"><line sku="A-1" qty="3"/></invoice>\n',
  ),
  exe: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]),
};

export async function xlsxFixture(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.addWorksheet('Stock').addRow(['Green apples', 5]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

export interface UploadForm {
  file?: FilePart;
  category?: string;
  metadata?: string | object;
}

/** POST /v1/files/upload as multipart, fields in the order given (category first by default). */
export function upload(app: FastifyInstance, session: Session, form: UploadForm) {
  const fields: Record<string, string | FilePart> = {};
  for (const [name, value] of Object.entries(form)) {
    if (value === undefined) continue;
    fields[name] =
      name === 'metadata' && typeof value === 'object' ? JSON.stringify(value) : (value as string | FilePart);
  }
  const body = multipart(fields);
  return app.inject({
    method: 'POST',
    url: '/v1/files/upload',
    headers: { ...bearer(session), ...body.headers },
    payload: body.payload,
  });
}

/** Uploads and returns the file record, failing loudly when the upload is refused. */
export async function uploaded(app: FastifyInstance, session: Session, form: UploadForm) {
  const response = await upload(app, session, form);
  if (response.statusCode !== 201) throw new Error(`upload failed: ${response.statusCode} ${response.body}`);
  return response.json<{ data: { id: string; sha256: string; url: string; metadata: { size: number } } }>()
    .data;
}

/** Every file under DATA_DIR/files, relative to it (dot-named temporary files included). */
export async function storedFiles(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, 'files');
  let entries;
  try {
    entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}
