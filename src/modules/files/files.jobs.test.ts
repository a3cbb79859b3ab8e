import { sql } from 'kysely';
import { readFile } from 'node:fs/promises';
import { BACKUP_TABLES, NOT_BACKED_UP } from '../backup/backup.repository.ts';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { ean13Png, expectedInvoiceNumber, fixture, makePdf } from '../../../test/helpers/processing.ts';
import { FIXTURES, uploaded } from '../../../test/helpers/uploads.ts';

let t: TestApp;
let admin: Session;
let other: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'Scanning Grocer');
  other = await registerStore(t.app, 'Other Grocer');
});
afterAll(async () => t?.close());

const get = (url: string, session: Session) => t.app.inject({ method: 'GET', url, headers: bearer(session) });
const post = (url: string, session: Session, payload: object) =>
  t.app.inject({ method: 'POST', url, headers: bearer(session), payload });

async function settled(session: Session, jobId: string, seconds = 80) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const job = (await get(`/v1/jobs/${jobId}`, session)).json().data;
    if (job.status === 'completed' || job.status === 'failed') return job;
    if (Date.now() > deadline) throw new Error(`job still ${job.status}: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function metadataOnceThumbnailed(session: Session, fileId: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const file = (await get(`/v1/files/${fileId}/metadata`, session)).json().data;
    if (file.thumbnailUrl || Date.now() > deadline) return file;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('thumbnails', () => {
  it('are made by a job queued with the upload, for an image and for a PDF’s first page', async () => {
    const photo = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#3a7' } })
      .jpeg()
      .toBuffer();
    const image = await uploaded(t.app, admin, {
      category: 'product_image',
      file: { filename: 'apples.jpg', content: photo, contentType: 'image/jpeg' },
    });
    const pdf = await uploaded(t.app, admin, {
      category: 'document',
      file: {
        filename: 'note.pdf',
        content: await makePdf({}, (document) => document.text('Delivery note 4711')),
        contentType: 'application/pdf',
      },
    });
    for (const file of [image, pdf]) {
      const record = await metadataOnceThumbnailed(admin, file.id);
      expect(record.thumbnailUrl).toBe(`/v1/files/${file.id}/thumbnail`);
      const thumbnail = await get(record.thumbnailUrl, admin);
      expect(thumbnail.statusCode).toBe(200);
      const size = await sharp(thumbnail.rawPayload).metadata();
      expect(Math.max(size.width, size.height)).toBeLessThanOrEqual(320);
    }
    expect(
      (await sharp((await get(`/v1/files/${image.id}/thumbnail`, admin)).rawPayload).metadata()).width,
    ).toBe(320);
    expect((await get(`/v1/files/${image.id}/thumbnail`, other)).statusCode).toBe(404);
  });
});

describe('POST /v1/files/:id/process', () => {
  it('OCRs a scanned invoice and finds its invoice number', async () => {
    const scan = await uploaded(t.app, admin, {
      category: 'invoice',
      file: { filename: 'oyo.png', content: await readFile(fixture('oyo.png')), contentType: 'image/png' },
    });
    const queued = await post(`/v1/files/${scan.id}/process`, admin, {
      type: 'ocr',
      options: { language: 'eng' },
    });
    expect(queued.statusCode).toBe(202);
    expect(queued.json().data).toMatchObject({ status: 'processing', jobId: expect.any(String) });
    const job = await settled(admin, queued.json().data.jobId, 120);
    expect(job).toMatchObject({ status: 'completed', type: 'files:process' });
    expect(job.result).toMatchObject({ fileId: scan.id, type: 'ocr', method: 'ocr', pages: 1 });
    expect(job.result.text).toContain(await expectedInvoiceNumber('oyo'));
    // Another store sees neither the file nor the job.
    expect((await post(`/v1/files/${scan.id}/process`, other, { type: 'ocr' })).statusCode).toBe(404);
    expect((await get(`/v1/jobs/${job.id}`, other)).statusCode).toBe(404);
  });

  it('reads a PDF’s text layer without OCR, and finds and checks barcodes in a product photo', async () => {
    const pdf = await uploaded(t.app, admin, {
      category: 'document',
      file: {
        filename: 'sammy.pdf',
        content: await readFile(fixture('SammyMaystoneLinesTest.pdf')),
        contentType: 'application/pdf',
      },
    });
    const text = await settled(
      admin,
      (await post(`/v1/files/${pdf.id}/process`, admin, { type: 'ocr' })).json().data.jobId,
    );
    expect(text.result).toMatchObject({ method: 'text-layer' });
    expect(text.result.text).toContain(await expectedInvoiceNumber('SammyMaystoneLinesTest'));

    const photo = await uploaded(t.app, admin, {
      category: 'product_image',
      file: { filename: 'label.png', content: await ean13Png('4006381333931'), contentType: 'image/png' },
    });
    const analysed = await settled(
      admin,
      (await post(`/v1/files/${photo.id}/process`, admin, { type: 'image_analysis' })).json().data.jobId,
    );
    expect(analysed.result).toMatchObject({ type: 'image_analysis', format: 'png' });
    expect(analysed.result.barcodes).toEqual([
      expect.objectContaining({ format: 'EAN-13', text: '4006381333931', valid: true }),
    ]);
  });

  it('refuses what it cannot process with a clear 4xx, and fails a corrupt file at once', async () => {
    const csv = await uploaded(t.app, admin, {
      category: 'document',
      file: { filename: 'lines.csv', content: FIXTURES.csv, contentType: 'text/csv' },
    });
    const unsupported = await post(`/v1/files/${csv.id}/process`, admin, { type: 'ocr' });
    expect(unsupported.statusCode).toBe(415);
    expect(unsupported.json().error.message).toContain('text/csv');
    const unknownType = await post(`/v1/files/${csv.id}/process`, admin, { type: 'invoice_extraction' });
    expect(unknownType.statusCode).toBe(400);
    expect(unknownType.json().error.details[0].field).toBe('body.type');

    // A PDF header and nothing readable after it: the upload takes it, processing cannot.
    const broken = await uploaded(t.app, admin, {
      category: 'document',
      file: { filename: 'broken.pdf', content: FIXTURES.pdf, contentType: 'application/pdf' },
    });
    const job = await settled(
      admin,
      (await post(`/v1/files/${broken.id}/process`, admin, { type: 'ocr' })).json().data.jobId,
    );
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job.error).toBeTruthy();

    const viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    expect((await post(`/v1/files/${csv.id}/process`, viewer, { type: 'ocr' })).statusCode).toBe(403);
  });
});

describe('data:backup', () => {
  it('writes the store’s data as a downloadable gzipped JSON-lines file, without secrets', async () => {
    const item = await createItem(t.app, admin, {
      description: 'Backup Basil',
      remainingStock: 4,
      qtyShipped: 4,
    });
    await createItem(t.app, other, { description: 'Not in this backup', remainingStock: 1, qtyShipped: 1 });
    const employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
    expect((await post('/v1/jobs', employee, { type: 'data:backup' })).statusCode).toBe(403);

    const started = await post('/v1/jobs', admin, { type: 'data:backup' });
    expect(started.statusCode).toBe(201);
    const job = await settled(admin, started.json().data.job.id);
    expect(job).toMatchObject({ status: 'completed', progress: 100 });
    expect(job.result.rows).toMatchObject({ organizations: 1, inventory_items: 1 });
    expect(job.result.rows.users).toBeGreaterThanOrEqual(2);

    const file = (await get(`/v1/files/${job.result.fileId}/metadata`, admin)).json().data;
    expect(file).toMatchObject({ category: 'document', metadata: { mimeType: 'application/gzip' } });
    const download = await get(job.result.url, admin);
    expect(download.statusCode).toBe(200);
    const lines = gunzipSync(download.rawPayload)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { table?: string; row?: Record<string, unknown>; format?: string });
    expect(lines[0]).toMatchObject({
      format: 'fresh-choice-backup',
      version: 1,
      storeId: admin.user.organization.id,
    });
    const items = lines.filter((line) => line.table === 'inventory_items');
    expect(items.map((line) => line.row!.id)).toEqual([item.id]);
    const users = lines.filter((line) => line.table === 'users');
    expect(users.length).toBeGreaterThanOrEqual(2);
    for (const user of users) expect(user.row).not.toHaveProperty('password_hash');
    expect(JSON.stringify(lines)).not.toContain('Not in this backup');
    expect((await get(job.result.url, other)).statusCode).toBe(404);
  });

  it('covers every store table: each is backed up or left out with a reason', async () => {
    const { rows } = await sql<{ table_name: string }>`
      select distinct table_name from information_schema.columns
       where table_schema = 'public' and column_name = 'org_id'
         and table_name in (select table_name from information_schema.tables where table_type = 'BASE TABLE')
       order by table_name`.execute(t.testDatabase.database.db);
    const covered = new Set([...BACKUP_TABLES.map((spec) => spec.table), ...Object.keys(NOT_BACKED_UP)]);
    expect(rows.map((row) => row.table_name).filter((table) => !covered.has(table))).toEqual([]);
    const backedUp = BACKUP_TABLES.map((spec) => spec.table as string);
    expect(backedUp.filter((table) => table in NOT_BACKED_UP)).toEqual([]);
    // A restore inserts in this order: a table after every table it has a foreign key to.
    const { rows: references } = await sql<{ child: string; parent: string }>`
      select distinct tc.table_name as child, ccu.table_name as parent
        from information_schema.table_constraints tc
        join information_schema.constraint_column_usage ccu on ccu.constraint_name = tc.constraint_name
       where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = 'public'`.execute(
      t.testDatabase.database.db,
    );
    const position = new Map(backedUp.map((table, index) => [table, index]));
    const outOfOrder = references.filter(
      ({ child, parent }) =>
        child !== parent &&
        position.has(child) &&
        position.has(parent) &&
        position.get(parent)! > position.get(child)!,
    );
    expect(outOfOrder).toEqual([]);
  });
});
