import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { multipart } from '../../../test/helpers/multipart.ts';
import { type ImportField, parseRow } from './import.rows.ts';

/**
 * Malformed multipart bodies to bulk import: each is a 400, 413 or 415 in the envelope, and
 * nothing is written. Busboy reported most of them as plain errors, which were 500s.
 */

let t: TestApp;
let store: Session;

beforeAll(async () => {
  t = await createTestApp({ importMaxBytes: 64 * 1024 });
  store = await registerStore(t.app, 'Multipart Market');
  await createItem(t.app, store, { description: 'Already here', itemSku: 'HERE-1', remainingStock: 2 });
});
afterAll(() => t.close());

const BOUNDARY = '----fresh-choice-test-boundary';
const CSV = 'description,category,sku,qty\nGreen Apples,Produce,GA-1,5\n';
const filePart = (name: string, filename: string, content: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n` +
  `Content-Type: text/csv\r\n\r\n${content}\r\n`;
const field = (name: string, value: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const END = `--${BOUNDARY}--\r\n`;
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

const send = (contentType: string, payload: string | Buffer) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/inventory/bulk-import',
    headers: { ...bearer(store), 'content-type': contentType },
    payload,
  });

async function itemCount(): Promise<number> {
  const response = await t.app.inject({
    method: 'GET',
    url: '/v1/inventory?limit=1',
    headers: bearer(store),
  });
  return response.json<{ meta: { pagination: { total: number } } }>().meta.pagination.total;
}

describe('bulk import with a malformed multipart body', () => {
  const cases: Array<{ name: string; contentType: string; payload: string; status: number; code: string }> = [
    {
      name: 'truncated in a part header',
      contentType: MULTIPART,
      payload: filePart('file', 'a.csv', CSV).slice(0, 70),
      status: 400,
      code: 'MALFORMED_MULTIPART',
    },
    {
      name: 'truncated in the file',
      contentType: MULTIPART,
      payload: filePart('file', 'a.csv', CSV).slice(0, -20),
      status: 400,
      code: 'MALFORMED_MULTIPART',
    },
    {
      name: 'a boundary that is not the one in the body',
      contentType: 'multipart/form-data; boundary=something-else',
      payload: filePart('file', 'a.csv', CSV) + END,
      status: 400,
      code: 'MALFORMED_MULTIPART',
    },
    {
      name: 'no boundary at all',
      contentType: 'multipart/form-data',
      payload: filePart('file', 'a.csv', CSV) + END,
      status: 400,
      code: 'MALFORMED_MULTIPART',
    },
    {
      name: 'no file part',
      contentType: MULTIPART,
      payload: field('options', '{"validateOnly":true}') + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'two file parts',
      contentType: MULTIPART,
      payload: filePart('file', 'a.csv', CSV) + filePart('file', 'b.csv', CSV) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'the file under another field name',
      contentType: MULTIPART,
      payload: filePart('upload', 'a.csv', CSV) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'JSON instead of multipart',
      contentType: 'application/json',
      payload: '{"file":"description\\nx"}',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'plain text instead of multipart',
      contentType: 'text/plain',
      payload: CSV,
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'the options field twice',
      contentType: MULTIPART,
      payload:
        field('options', '{}') +
        field('options', '{"validateOnly":true}') +
        filePart('file', 'a.csv', CSV) +
        END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'a NUL in the options',
      contentType: MULTIPART,
      payload: field('options', '{"validateOnly":true,"x\u0000":1}') + filePart('file', 'a.csv', CSV) + END,
      status: 400,
      code: 'VALIDATION_ERROR',
    },
  ];

  it.each(cases)('$name → $status $code, nothing written', async ({ contentType, payload, status, code }) => {
    const before = await itemCount();
    const response = await send(contentType, payload);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json();
    expect(body).toMatchObject({ success: false, error: { code } });
    expect(body.meta.requestId).toBe(response.headers['x-request-id']);
    expect(await itemCount()).toBe(before);
  });

  it('refuses an option sent beside the file instead of inside `options`, naming it, and imports nothing', async () => {
    const before = await itemCount();
    const response = await send(
      MULTIPART,
      field('validateOnly', 'true') + filePart('file', 'a.csv', CSV) + END,
    );
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [{ field: 'validateOnly', message: expect.stringContaining('"options"') }],
    });
    // Sent after the file too: the file has been spooled, but nothing is imported.
    const after = await send(MULTIPART, filePart('file', 'a.csv', CSV) + field('validateOnly', 'true') + END);
    expect(after.statusCode).toBe(400);
    expect(await itemCount()).toBe(before);
  });

  it('refuses an unknown key inside `options`, naming it', async () => {
    const response = await send(
      MULTIPART,
      field('options', '{"validateonly":true}') + filePart('file', 'a.csv', CSV) + END,
    );
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details).toEqual([
      { field: 'options.validateonly', message: expect.stringContaining('validateOnly') },
    ]);
  });

  it('still imports a well-formed upload (the checks do not refuse good requests)', async () => {
    const before = await itemCount();
    const form = multipart({
      options: '{"validateOnly":false}',
      file: { filename: 'ok.csv', content: 'description,category,sku,qty\nGood Pears,Produce,GP-1,4\n' },
    });
    const response = await send(form.headers['content-type'], form.payload);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().data).toMatchObject({ created: 1, errorCount: 0 });
    expect(await itemCount()).toBe(before + 1);
  });
});

describe('bulk import cells that cannot be stored', () => {
  it('reports a NUL in a CSV cell as that row and column, and imports the other rows', async () => {
    const other = await registerStore(t.app, 'NUL Cells CSV');
    const form = multipart({
      file: {
        filename: 'nul.csv',
        content: 'description,category,sku,qty\nGood Plums,Produce,PL-1,3\nBad\u0000Plums,Produce,PL-2,3\n',
      },
    });
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/inventory/bulk-import',
      headers: { ...bearer(other), ...form.headers },
      payload: form.payload,
    });
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json().data;
    expect(result).toMatchObject({ processed: 2, created: 1, errorCount: 1 });
    expect(result.errors).toEqual([
      {
        row: 3,
        field: 'description',
        message: expect.stringMatching(/^column A \(description\) contains a NUL character/),
      },
    ]);
  });

  it('reports a NUL or a lone surrogate in any cell a reader hands over, naming the column', () => {
    // exceljs's streaming reader refuses a workbook whose XML holds a NUL (it is not valid XML: a
    // 400 INVALID_IMPORT_FILE, as for any damaged workbook), so cells are checked where every
    // reader's rows meet, whatever the file kind.
    const columns = new Map<number, ImportField>([
      [0, 'category'],
      [1, 'description'],
      [2, 'itemSku'],
    ]);
    expect(parseRow(['Produce', 'Bad\u0000Figs', 'FG-2'], columns).errors).toEqual([
      { field: 'description', message: expect.stringMatching(/^column B contains a NUL character/) },
    ]);
    expect(parseRow(['Produce\uD800', 'Odd Figs', 'FG-3'], columns).errors).toEqual([
      { field: 'category', message: expect.stringMatching(/^column A contains a lone UTF-16 surrogate/) },
    ]);
    expect(parseRow(['Produce', 'Fine Figs', 'FG-1'], columns)).toEqual({
      values: { category: 'Produce', description: 'Fine Figs', itemSku: 'FG-1' },
      errors: [],
    });
  });
});
