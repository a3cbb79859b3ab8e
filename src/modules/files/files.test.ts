import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { readAll } from '../../../test/helpers/streams.ts';
import {
  FIXTURES,
  sha256,
  storedFiles,
  upload,
  uploaded,
  xlsxFixture,
} from '../../../test/helpers/uploads.ts';
import type { AuthContext } from '../auth/guard.ts';
import { permissionSetOf } from '../auth/permissions.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import {
  assertMayUpload,
  openStoredFile,
  parseRange,
  storeThumbnail,
  withStoredFileOnDisk,
} from './files.service.ts';

/**
 * The files API over real HTTP (app.inject) on the real database, with the local storage driver
 * writing real files under the test's DATA_DIR.
 */

let t: TestApp;
let admin: Session;
let employee: Session;
let viewer: Session;
let other: Session;
const MAX_BYTES = 256 * 1024;

beforeAll(async () => {
  t = await createTestApp({ fileMaxBytes: MAX_BYTES });
  admin = await registerStore(t.app, 'Files Grocer');
  employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
  viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
  other = await registerStore(t.app, 'Other Grocer');
});
afterAll(() => t.close());

const get = (session: Session, url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers: { ...bearer(session), ...headers } });

async function fileRowCount(): Promise<number> {
  const row = await t.testDatabase.database.db
    .selectFrom('files')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * What must be unchanged after a refused upload: the rows and the stored objects. Thumbnails are
 * left out, finished or still being written (`.thumbnail.webp.<random>.partial`): the jobs of
 * earlier uploads add them whenever they run.
 */
async function written() {
  const objects = await storedFiles(t.app.config.dataDir);
  const thumbnail = /\/\.?thumbnail\.\w+(\.[0-9a-f]+\.partial)?$/;
  return { rows: await fileRowCount(), objects: objects.filter((key) => !thumbnail.test(key)) };
}

describe('upload', () => {
  it.each([
    ['pdf', 'March invoice.pdf', 'application/pdf'],
    ['png', 'apples.png', 'image/png'],
    ['jpeg', 'pears.jpg', 'image/jpeg'],
    ['gif', 'banner.gif', 'image/gif'],
    ['webp', 'plums.webp', 'image/webp'],
    ['tiff', 'scan.tif', 'image/tiff'],
    ['csv', 'stock.csv', 'text/csv'],
    ['txt', 'note.txt', 'text/plain'],
    ['xml', 'invoice.xml', 'application/xml'],
  ] as const)(
    'stores a %s file and answers the spec’s FileUploadResponse with sha256 and category',
    async (kind, filename, mimeType) => {
      const content = FIXTURES[kind];
      const response = await upload(t.app, employee, { category: 'document', file: { filename, content } });
      expect(response.statusCode, response.body).toBe(201);
      const file = response.json().data;
      expect(file).toMatchObject({
        fileId: file.id,
        url: `/v1/files/${file.id}`,
        category: 'document',
        sha256: sha256(content),
        metadata: { filename, size: content.length, mimeType, uploadedAt: expect.any(String) },
        tags: [],
        title: null,
        uploadedBy: employee.user.id,
        deletedAt: null,
      });
      expect(file).not.toHaveProperty('thumbnailUrl');
      expect(Date.now() - Date.parse(file.metadata.uploadedAt)).toBeLessThan(60_000);
      expect(await storedFiles(t.app.config.dataDir)).toContain(
        `${admin.user.organization.id}/${file.id}/original`,
      );

      const download = await get(employee, file.url);
      expect(download.statusCode).toBe(200);
      expect(download.rawPayload.equals(content)).toBe(true);
      expect(download.headers['content-type']).toBe(
        mimeType.startsWith('text/') ? `${mimeType}; charset=utf-8` : mimeType,
      );
    },
  );

  it('stores an XLSX workbook as a spreadsheet, not as the ZIP it also is', async () => {
    const content = await xlsxFixture();
    const file = await uploaded(t.app, employee, {
      category: 'report',
      file: { filename: 'stock.xlsx', content },
    });
    expect(file.metadata).toMatchObject({
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      size: content.length,
    });
  });

  it('decides the type from the bytes, never the name or the declared type', async () => {
    const png = await uploaded(t.app, employee, {
      category: 'invoice',
      file: { filename: 'invoice.pdf', content: FIXTURES.png, contentType: 'application/pdf' },
    });
    expect(png.metadata).toMatchObject({ mimeType: 'image/png', filename: 'invoice.pdf' });

    const before = await written();
    const disguised = await upload(t.app, employee, {
      category: 'product_image',
      file: { filename: 'photo.png', content: FIXTURES.exe, contentType: 'image/png' },
    });
    expect(disguised.statusCode).toBe(415);
    expect(disguised.json()).toMatchObject({
      success: false,
      error: {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: expect.stringContaining('application/x-msdownload (exe)'),
        details: { detectedType: 'application/x-msdownload (exe)' },
      },
    });
    const zip = await upload(t.app, employee, {
      category: 'report',
      file: { filename: 'stock.xlsx', content: (await xlsxFixture()).subarray(0, 30) },
    });
    expect(zip.statusCode).toBe(415);
    expect(zip.json().error.details.detectedType).toBe('application/zip (zip)');
    expect(await written()).toEqual(before);
  });

  it('accepts text only when it is declared csv/txt/xml and is UTF-8 without NUL, to its last byte', async () => {
    const declaredByType = await uploaded(t.app, employee, {
      category: 'document',
      file: { filename: 'export', content: FIXTURES.csv, contentType: 'text/csv' },
    });
    expect(declaredByType.metadata).toMatchObject({ mimeType: 'text/csv' });

    // Multi-byte characters cut by chunk boundaries all through a 200 KB file.
    const long = Buffer.from('é𝄞€a'.repeat(20_000));
    const multiByte = await uploaded(t.app, employee, {
      category: 'document',
      file: { filename: 'long.txt', content: long },
    });
    expect(multiByte).toMatchObject({ sha256: sha256(long), metadata: { size: long.length } });

    const before = await written();
    const refusals: Array<[string, Buffer, string, RegExp]> = [
      ['page.html', Buffer.from('<html><script>alert(1)</script></html>'), 'text/html', /csv, txt or xml/],
      ['nul.csv', Buffer.from('a,b\n1,\u0000\n'), 'text/csv', /NUL/],
      ['latin1.csv', Buffer.from([0x61, 0x2c, 0xe9, 0x0a]), 'text/csv', /not valid UTF-8/],
      ['cut.txt', Buffer.from([0x61, 0xe2, 0x82]), 'text/plain', /ends inside a UTF-8 character/],
      ['blob.bin', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]), 'application/octet-stream', /NUL/],
    ];
    for (const [filename, content, contentType, reason] of refusals) {
      const response = await upload(t.app, employee, {
        category: 'document',
        file: { filename, content, contentType },
      });
      expect(response.statusCode, filename).toBe(415);
      expect(response.json().error.message, filename).toMatch(reason);
    }
    // Bytes that stop being text after the first 64 KiB are found while streaming: nothing is kept.
    const lateNul = Buffer.concat([Buffer.alloc(100 * 1024, 'a'), Buffer.from([0]), Buffer.alloc(1000, 'b')]);
    const late = await upload(t.app, employee, {
      category: 'document',
      file: { filename: 'late.csv', content: lateNul },
    });
    expect(late.statusCode).toBe(415);
    expect(late.json().error.message).toMatch(/NUL/);
    expect(await written()).toEqual(before);
  });

  it('refuses a file over FILE_MAX_BYTES with 413 and keeps nothing of it', async () => {
    const before = await written();
    for (const size of [MAX_BYTES + 1, 3 * MAX_BYTES]) {
      const response = await upload(t.app, employee, {
        category: 'document',
        file: {
          filename: 'huge.pdf',
          content: Buffer.concat([FIXTURES.pdf, Buffer.alloc(size - FIXTURES.pdf.length)]),
        },
      });
      expect(response.statusCode, String(size)).toBe(413);
      expect(response.json().error).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        details: { maxBytes: MAX_BYTES },
      });
    }
    const exactly = await upload(t.app, employee, {
      category: 'document',
      file: {
        filename: 'exact.pdf',
        content: Buffer.concat([FIXTURES.pdf, Buffer.alloc(MAX_BYTES - FIXTURES.pdf.length)]),
      },
    });
    expect(exactly.statusCode).toBe(201);
    expect(await fileRowCount()).toBe(before.rows + 1);
  });

  it('stores the metadata: title, description, tags (each once) and relatedId, whichever order the parts come in', async () => {
    const relatedId = randomUUID();
    const metadata = {
      title: 'Invoice 4411',
      description: 'Weekly dairy delivery',
      tags: ['dairy', 'weekly', 'dairy'],
      relatedId,
    };
    const first = await uploaded(t.app, employee, {
      category: 'invoice',
      metadata,
      file: { filename: 'inv.pdf', content: FIXTURES.pdf },
    });
    const last = await uploaded(t.app, employee, {
      file: { filename: 'inv2.pdf', content: FIXTURES.pdf },
      metadata,
      category: 'invoice',
    });
    for (const file of [first, last]) {
      expect(file).toMatchObject({
        category: 'invoice',
        title: 'Invoice 4411',
        description: 'Weekly dairy delivery',
        tags: ['dairy', 'weekly'],
        relatedId,
      });
    }
  });

  it('refuses metadata it cannot store, naming the field, and keeps nothing', async () => {
    const before = await written();
    const cases: Array<[string | object, string, RegExp]> = [
      [
        { title: 'x', colour: 'red' },
        'metadata.colour',
        /not a metadata field \(the fields are: title, description, tags, relatedId\)/,
      ],
      [{ title: 'x'.repeat(201) }, 'metadata.title', /200/],
      [{ description: 'x'.repeat(2001) }, 'metadata.description', /2000/],
      [{ tags: Array.from({ length: 21 }, (_, index) => `tag${index}`) }, 'metadata.tags', /20/],
      [{ tags: ['x'.repeat(51)] }, 'metadata.tags.0', /50/],
      [{ relatedId: 'not-a-uuid' }, 'metadata.relatedId', /uuid/],
      ['{"title": "unclosed', 'metadata', /not valid JSON/],
      ['["a list"]', 'metadata', /JSON object/],
      ['{"title":"a\\u0000b"}', 'metadata.title', /NUL/],
    ];
    for (const [metadata, field, message] of cases) {
      for (const order of ['before', 'after'] as const) {
        const file = { filename: 'a.pdf', content: FIXTURES.pdf };
        const response = await upload(
          t.app,
          employee,
          order === 'before'
            ? { category: 'document', metadata, file }
            : { category: 'document', file, metadata },
        );
        expect(response.statusCode, `${field} ${order}`).toBe(400);
        expect(response.json().error.details, `${field} ${order}`).toContainEqual({
          field,
          message: expect.stringMatching(message),
        });
      }
    }
    expect(await written()).toEqual(before);
  });

  it('needs a category, one of the four, and a file; refuses other fields', async () => {
    const before = await written();
    const file = { filename: 'a.pdf', content: FIXTURES.pdf };
    const missing = await upload(t.app, employee, { file });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details).toEqual([
      { field: 'category', message: expect.stringContaining('required') },
    ]);
    const wrong = await upload(t.app, employee, { category: 'photo', file });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.details).toEqual([
      { field: 'category', message: 'must be one of invoice, product_image, document, report' },
    ]);
    const noFile = await upload(t.app, employee, { category: 'document' });
    expect(noFile.statusCode).toBe(400);
    expect(noFile.json().error.details).toEqual([{ field: 'file', message: 'is required' }]);
    expect(await written()).toEqual(before);
  });

  it('needs inventory:write to upload, and invoice:process for invoices', async () => {
    const response = await upload(t.app, viewer, {
      category: 'document',
      file: { filename: 'a.pdf', content: FIXTURES.pdf },
    });
    expect(response.statusCode).toBe(403);
    // Every standard role that may write may also process invoices; the rule is checked all the same.
    const writer = (permissions: AuthContext['permissions']): AuthContext => ({
      userId: randomUUID(),
      orgId: randomUUID(),
      email: 'writer@example.com',
      role: 'employee',
      permissions,
      sessionId: randomUUID(),
    });
    const withoutInvoices = writer(new Set(['inventory:read', 'inventory:write']));
    expect(() => assertMayUpload(withoutInvoices, 'invoice')).toThrow(/invoice:process/);
    expect(() => assertMayUpload(withoutInvoices, 'document')).not.toThrow();
    expect(() => assertMayUpload(writer(permissionSetOf('employee')), 'invoice')).not.toThrow();
  });
});

describe('upload with a malformed multipart body', () => {
  const BOUNDARY = '----fresh-choice-files-boundary';
  const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
  const filePart = (name: string, filename: string, content: string) =>
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n` +
    `Content-Type: application/pdf\r\n\r\n${content}\r\n`;
  const field = (name: string, value: string) =>
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const END = `--${BOUNDARY}--\r\n`;
  const PDF = FIXTURES.pdf.toString('latin1');
  const CATEGORY = field('category', 'document');

  const cases: Array<{ name: string; contentType: string; payload: string; status: number; code: string }> = [
    {
      name: 'truncated in a part header',
      contentType: MULTIPART,
      payload: (CATEGORY + filePart('file', 'a.pdf', PDF)).slice(0, 140),
      status: 400,
      code: 'MALFORMED_MULTIPART',
    },
    {
      name: 'truncated in the file',
      contentType: MULTIPART,
      payload: CATEGORY + filePart('file', 'a.pdf', PDF).slice(0, -20),
      status: 400,
      code: 'MALFORMED_MULTIPART',
    },
    {
      name: 'a boundary that is not the one in the body',
      contentType: 'multipart/form-data; boundary=other',
      payload: CATEGORY + filePart('file', 'a.pdf', PDF) + END,
      status: 400,
      code: 'MALFORMED_MULTIPART',
    },
    {
      name: 'no boundary at all',
      contentType: 'multipart/form-data',
      payload: CATEGORY + filePart('file', 'a.pdf', PDF) + END,
      status: 400,
      code: 'MALFORMED_MULTIPART',
    },
    {
      name: 'two file parts',
      contentType: MULTIPART,
      payload: CATEGORY + filePart('file', 'a.pdf', PDF) + filePart('file', 'b.pdf', PDF) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'the file under another field name',
      contentType: MULTIPART,
      payload: CATEGORY + filePart('upload', 'a.pdf', PDF) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'the file as a text field',
      contentType: MULTIPART,
      payload: CATEGORY + field('file', PDF) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'a field that is not one of the upload’s, before the file',
      contentType: MULTIPART,
      payload: CATEGORY + field('validateOnly', 'true') + filePart('file', 'a.pdf', PDF) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'a field that is not one of the upload’s, after the file',
      contentType: MULTIPART,
      payload: CATEGORY + filePart('file', 'a.pdf', PDF) + field('title', 'x') + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'the category twice',
      contentType: MULTIPART,
      payload: CATEGORY + CATEGORY + filePart('file', 'a.pdf', PDF) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'a NUL in the file name',
      contentType: MULTIPART,
      payload: CATEGORY + filePart('file', 'a\u0000.pdf', PDF) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'no file name',
      contentType: MULTIPART,
      payload: CATEGORY + filePart('file', '', PDF) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'metadata longer than 16 KiB',
      contentType: MULTIPART,
      payload:
        CATEGORY +
        field('metadata', `{"title":"${'x'.repeat(20_000)}"}`) +
        filePart('file', 'a.pdf', PDF) +
        END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'JSON instead of multipart',
      contentType: 'application/json',
      payload: '{"file":"x","category":"document"}',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'plain text instead of multipart',
      contentType: 'text/plain',
      payload: PDF,
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    { name: 'an empty body', contentType: MULTIPART, payload: '', status: 400, code: 'VALIDATION_ERROR' },
  ];

  it.each(cases)('$name → $status $code, nothing written', async ({ contentType, payload, status, code }) => {
    const before = await written();
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/files/upload',
      headers: { ...bearer(employee), 'content-type': contentType },
      payload: Buffer.from(payload, 'latin1'),
    });
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json();
    expect(body).toMatchObject({ success: false, error: { code } });
    expect(body.meta.requestId).toBe(response.headers['x-request-id']);
    expect(await written()).toEqual(before);
  });

  it('keeps only the name of a file sent with its folder', async () => {
    const file = await uploaded(t.app, employee, {
      category: 'document',
      file: { filename: 'C:\\fakepath\\Invoices\\march.pdf', content: FIXTURES.pdf },
    });
    expect(file).toMatchObject({ metadata: { filename: 'march.pdf' } });
  });
});

describe('listing', () => {
  let store: Session;
  const relatedId = randomUUID();

  beforeAll(async () => {
    store = await registerStore(t.app, 'Listing Grocer');
    const add = (filename: string, category: string, metadata: object = {}) =>
      uploaded(t.app, store, { category, metadata, file: { filename, content: FIXTURES.pdf } });
    await add('invoice-march.pdf', 'invoice', { tags: ['dairy'], relatedId });
    await add('invoice-april.pdf', 'invoice', { tags: ['dairy', 'produce'], title: 'April 100% paid' });
    await add('shelf.pdf', 'product_image', { tags: ['produce'] });
    await add('report_q1.pdf', 'report', { title: 'Quarter one' });
    await add('policy.pdf', 'document');
  });

  const list = async (query: string, session = store) => {
    const response = await get(session, `/v1/files${query}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    return {
      names: body.data.map((file: { metadata: { filename: string } }) => file.metadata.filename),
      body,
    };
  };

  it('lists the store’s files newest first, paginated like the inventory list', async () => {
    const { names, body } = await list('?limit=2');
    expect(names).toEqual(['policy.pdf', 'report_q1.pdf']);
    expect(body.meta.pagination).toEqual({ page: 1, limit: 2, total: 5, totalPages: 3 });
    expect((await list('?limit=2&page=3')).names).toEqual(['invoice-march.pdf']);
    expect(body.data[0]).toMatchObject({
      id: expect.any(String),
      url: expect.stringMatching(/^\/v1\/files\//),
    });
  });

  it('filters by category, related record, tag, and searches names and titles (any case, % as itself)', async () => {
    expect((await list('?category=invoice')).names).toEqual(['invoice-april.pdf', 'invoice-march.pdf']);
    expect((await list(`?relatedId=${relatedId}`)).names).toEqual(['invoice-march.pdf']);
    expect((await list('?tag=produce')).names).toEqual(['shelf.pdf', 'invoice-april.pdf']);
    expect((await list('?search=INVOICE')).names).toEqual(['invoice-april.pdf', 'invoice-march.pdf']);
    expect((await list('?search=quarter')).names).toEqual(['report_q1.pdf']);
    expect((await list('?search=100%25')).names).toEqual(['invoice-april.pdf']);
    expect((await list('?search=t_q')).names).toEqual(['report_q1.pdf']);
    expect((await list('?search=_')).names).toEqual(['report_q1.pdf']);
    expect((await list('?category=invoice&tag=produce')).body.meta.pagination.total).toBe(1);
  });

  it('lists deleted files to admins who ask, and to no one else', async () => {
    const doomed = await uploaded(t.app, store, {
      category: 'document',
      file: { filename: 'doomed.pdf', content: FIXTURES.pdf },
    });
    const deleted = await t.app.inject({ method: 'DELETE', url: doomed.url, headers: bearer(store) });
    expect(deleted.statusCode).toBe(204);
    expect((await list('')).names).not.toContain('doomed.pdf');
    const withDeleted = await list('?includeDeleted=true');
    expect(withDeleted.names).toContain('doomed.pdf');
    expect(withDeleted.body.data.find((file: { id: string }) => file.id === doomed.id).deletedAt).toEqual(
      expect.any(String),
    );

    const member = await addMember(t.app, t.testDatabase.database, store, 'manager');
    const refused = await get(member, '/v1/files?includeDeleted=true');
    expect(refused.statusCode).toBe(403);
    expect((await list('', member)).names).not.toContain('doomed.pdf');
  });
});

describe('download', () => {
  let file: { id: string; url: string; sha256: string };
  const content = Buffer.from(`%PDF-1.7\n${'0123456789'.repeat(100)}`);

  beforeAll(async () => {
    file = await uploaded(t.app, employee, {
      category: 'invoice',
      file: { filename: 'Rechnung März; final.pdf', content },
    });
  });

  it('streams the bytes with type, length, a safe Content-Disposition, the SHA-256 as ETag and Accept-Ranges', async () => {
    const response = await get(viewer, file.url);
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.equals(content)).toBe(true);
    expect(response.headers).toMatchObject({
      'content-type': 'application/pdf',
      'content-length': String(content.length),
      etag: `"${sha256(content)}"`,
      'accept-ranges': 'bytes',
      'content-disposition': `inline; filename="Rechnung M?rz; final.pdf"; filename*=UTF-8''Rechnung%20M%C3%A4rz%3B%20final.pdf`,
    });
    expect(response.headers['content-encoding']).toBeUndefined();
  });

  it('offers other kinds as attachments, so a browser never renders them in place', async () => {
    const xml = await uploaded(t.app, employee, {
      category: 'document',
      file: { filename: 'x.xml', content: FIXTURES.xml },
    });
    const response = await get(employee, xml.url, { 'accept-encoding': 'gzip' });
    expect(response.headers['content-disposition']).toBe('attachment; filename=x.xml');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-encoding']).toBeUndefined();
  });

  it('answers one byte range with 206 and Content-Range, in all three forms', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-9', 0, 9],
      ['bytes=100-199', 100, 199],
      ['bytes=1000-', 1000, content.length - 1],
      ['bytes=-5', content.length - 5, content.length - 1],
      ['bytes=5-999999', 5, content.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const response = await get(employee, file.url, { range });
      expect(response.statusCode, range).toBe(206);
      expect(response.headers['content-range'], range).toBe(`bytes ${start}-${end}/${content.length}`);
      expect(response.headers['content-length'], range).toBe(String(end - start + 1));
      expect(response.rawPayload.equals(content.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers 416 in the envelope for a range past the end, with the size', async () => {
    for (const range of [
      `bytes=${content.length}-`,
      `bytes=${content.length + 10}-${content.length + 20}`,
      'bytes=-0',
    ]) {
      const response = await get(employee, file.url, { range });
      expect(response.statusCode, range).toBe(416);
      expect(response.headers['content-range']).toBe(`bytes */${content.length}`);
      expect(response.json()).toMatchObject({ success: false, error: { code: 'RANGE_NOT_SATISFIABLE' } });
    }
  });

  it('sends the whole file for ranges it does not serve, and for an If-Range that does not match', async () => {
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=9-2', 'bytes=x-y']) {
      const response = await get(employee, file.url, { range });
      expect(response.statusCode, range).toBe(200);
      expect(response.rawPayload.length).toBe(content.length);
    }
    const stale = await get(employee, file.url, { range: 'bytes=0-9', 'if-range': '"an-older-version"' });
    expect(stale.statusCode).toBe(200);
    const current = await get(employee, file.url, { range: 'bytes=0-9', 'if-range': `"${file.sha256}"` });
    expect(current.statusCode).toBe(206);
  });

  it('answers 304 when the client’s copy is current', async () => {
    const response = await get(employee, file.url, { 'if-none-match': `W/"other", "${file.sha256}"` });
    expect(response.statusCode).toBe(304);
    expect(response.headers.etag).toBe(`"${file.sha256}"`);
    expect(response.rawPayload.length).toBe(0);
    expect((await get(employee, file.url, { 'if-none-match': '"other"' })).statusCode).toBe(200);
  });

  it('answers HEAD with the headers of the download and no body', async () => {
    const response = await t.app.inject({ method: 'HEAD', url: file.url, headers: bearer(employee) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(content.length));
    expect(response.headers.etag).toBe(`"${file.sha256}"`);
    expect(response.rawPayload.length).toBe(0);
  });

  it('gives the record as JSON at /metadata', async () => {
    const response = await get(viewer, `${file.url}/metadata`);
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toMatchObject({
      id: file.id,
      sha256: file.sha256,
      metadata: { filename: 'Rechnung März; final.pdf', size: content.length, mimeType: 'application/pdf' },
    });
  });
});

describe('parseRange', () => {
  it('reads one bytes range against a size, as RFC 9110 does', () => {
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=-20', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=3-', 10)).toEqual({ start: 3, end: 9 });
    expect(parseRange(' bytes=3-4 ', 10)).toEqual({ start: 3, end: 4 });
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=-1', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=99999999999999999999-', 10)).toBe('unsatisfiable');
    for (const ignored of ['bytes=-', 'bytes=4-3', 'bytes=1-2,4-5', 'pages=1-2', 'bytes=a-b', ''])
      expect(parseRange(ignored, 10), ignored).toBeUndefined();
  });
});

describe('delete', () => {
  it('soft-deletes: 204, then 404 everywhere, and the bytes stay until the purge', async () => {
    const file = await uploaded(t.app, employee, {
      category: 'document',
      file: { filename: 'old.pdf', content: FIXTURES.pdf },
    });
    const viewerDelete = await t.app.inject({ method: 'DELETE', url: file.url, headers: bearer(viewer) });
    expect(viewerDelete.statusCode).toBe(403);
    const response = await t.app.inject({ method: 'DELETE', url: file.url, headers: bearer(employee) });
    expect(response.statusCode).toBe(204);
    for (const url of [file.url, `${file.url}/metadata`, `${file.url}/thumbnail`]) {
      const gone = await get(employee, url);
      expect(gone.statusCode, url).toBe(404);
      expect(gone.json().error.code).toBe('NOT_FOUND');
    }
    const again = await t.app.inject({ method: 'DELETE', url: file.url, headers: bearer(employee) });
    expect(again.statusCode).toBe(404);
    expect(await storedFiles(t.app.config.dataDir)).toContain(
      `${admin.user.organization.id}/${file.id}/original`,
    );
  });
});

describe('stores', () => {
  it('answers 404 for another store’s file on every route, and never lists it', async () => {
    const theirs = await uploaded(t.app, other, {
      category: 'document',
      file: { filename: 'theirs.pdf', content: FIXTURES.pdf },
    });
    for (const url of [theirs.url, `${theirs.url}/metadata`, `${theirs.url}/thumbnail`]) {
      const response = await get(employee, url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.message).toMatch(/not found/);
    }
    const deleted = await t.app.inject({ method: 'DELETE', url: theirs.url, headers: bearer(admin) });
    expect(deleted.statusCode).toBe(404);
    const listed = await get(admin, '/v1/files?limit=200&includeDeleted=true');
    expect(listed.json().data.map((file: { id: string }) => file.id)).not.toContain(theirs.id);
    // Still theirs, and still there.
    expect((await get(other, `${theirs.url}/metadata`)).statusCode).toBe(200);
  });

  it('keeps a query without its org_id filter to the current store (row-level security)', async () => {
    const db = t.testDatabase.database.db;
    const ours = admin.user.organization.id;
    const theirs = other.user.organization.id;
    const seen = await withTenant(db, theirs, (trx) => trx.selectFrom('files').select('org_id').execute());
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((row) => row.org_id === theirs)).toBe(true);
    const touched = await withTenant(db, theirs, (trx) =>
      trx.updateTable('files').set({ title: 'renamed by the other store' }).returning('org_id').execute(),
    );
    expect(touched.every((row) => row.org_id === theirs)).toBe(true);
    const ownTitles = await db.selectFrom('files').select('title').where('org_id', '=', ours).execute();
    expect(ownTitles.map((row) => row.title)).not.toContain('renamed by the other store');
    await expect(
      withTenant(db, theirs, (trx) =>
        trx
          .insertInto('files')
          .values({
            org_id: ours,
            category: 'document',
            original_filename: 'planted.pdf',
            mime_type: 'application/pdf',
            size_bytes: 1,
            sha256: '0'.repeat(64),
            storage_key: `${ours}/${randomUUID()}/original`,
            title: null,
            description: null,
            tags: [],
            related_id: null,
            uploaded_by: null,
          })
          .execute(),
      ),
    ).rejects.toThrow(/row-level security/);
  });
});

describe('for processing jobs', () => {
  const platform = () => t.app.platform;

  it('reads a stored file as a stream, or as a temporary file that is removed afterwards', async () => {
    const file = await uploaded(t.app, employee, {
      category: 'invoice',
      file: { filename: 'scan.tif', content: FIXTURES.tiff },
    });
    const orgId = employee.user.organization.id;
    const opened = await openStoredFile(platform(), orgId, file.id);
    expect(opened.file).toMatchObject({
      id: file.id,
      orgId,
      mimeType: 'image/tiff',
      size: FIXTURES.tiff.length,
    });
    expect((await readAll(opened.body)).equals(FIXTURES.tiff)).toBe(true);

    let copy = '';
    const size = await withStoredFileOnDisk(platform(), orgId, file.id, async (filePath, info) => {
      copy = filePath;
      expect(filePath.endsWith('.tif')).toBe(true);
      expect(info.sha256).toBe(file.sha256);
      return (await fs.readFile(filePath)).length;
    });
    expect(size).toBe(FIXTURES.tiff.length);
    await expect(fs.stat(copy)).rejects.toMatchObject({ code: 'ENOENT' });

    await expect(openStoredFile(platform(), other.user.organization.id, file.id)).rejects.toMatchObject({
      status: 404,
    });
  });

  it('stores a thumbnail, shows its URL, serves it, and replaces it', async () => {
    const file = await uploaded(t.app, employee, {
      category: 'product_image',
      file: { filename: 'a.jpg', content: FIXTURES.jpeg },
    });
    const orgId = employee.user.organization.id;
    await storeThumbnail(platform(), orgId, file.id, Readable.from([FIXTURES.png]), 'image/png');
    const record = (await get(employee, `${file.url}/metadata`)).json().data;
    expect(record.thumbnailUrl).toBe(`${file.url}/thumbnail`);
    const thumbnail = await get(viewer, record.thumbnailUrl);
    expect(thumbnail.statusCode).toBe(200);
    expect(thumbnail.headers['content-type']).toBe('image/png');
    expect(thumbnail.rawPayload.equals(FIXTURES.png)).toBe(true);

    await storeThumbnail(platform(), orgId, file.id, FIXTURES.webp, 'image/webp');
    const replaced = await get(viewer, record.thumbnailUrl);
    expect(replaced.headers['content-type']).toBe('image/webp');
    const objects = await storedFiles(t.app.config.dataDir);
    expect(objects).toContain(`${orgId}/${file.id}/thumbnail.webp`);
    expect(objects).not.toContain(`${orgId}/${file.id}/thumbnail.png`);

    await t.app.inject({ method: 'DELETE', url: file.url, headers: bearer(employee) });
    await expect(
      storeThumbnail(platform(), orgId, file.id, Readable.from([FIXTURES.png]), 'image/png'),
    ).rejects.toMatchObject({ status: 404 });
    expect(await storedFiles(t.app.config.dataDir)).not.toContain(`${orgId}/${file.id}/thumbnail.png`);
  });
});
