import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { startTestS3, type TestS3 } from '../../../test/helpers/s3.ts';
import { FIXTURES, sha256, upload, uploaded } from '../../../test/helpers/uploads.ts';
import { originalKeyOf, purgeDeletedFiles } from './files.service.ts';

/** The files API on the S3 driver, against an S3 server started here (test/helpers/s3.ts). */

let s3: TestS3;
let streaming: TestApp;
let redirecting: TestApp;
let store: Session;
let redirectStore: Session;
const MAX_BYTES = 20 * 1024 * 1024;

const s3Config = () => ({
  storageDriver: 's3' as const,
  s3Endpoint: s3.endpoint,
  s3Bucket: s3.bucket,
  s3Region: 'us-east-1',
  s3AccessKeyId: s3.accessKeyId,
  s3SecretAccessKey: s3.secretAccessKey,
  s3ForcePathStyle: true,
  fileMaxBytes: MAX_BYTES,
});

beforeAll(async () => {
  s3 = await startTestS3();
  streaming = await createTestApp(s3Config());
  redirecting = await createTestApp({ ...s3Config(), fileDownloadRedirect: true });
  store = await registerStore(streaming.app, 'S3 Grocer');
  redirectStore = await registerStore(redirecting.app, 'Redirect Grocer');
});
afterAll(async () => {
  await streaming?.close();
  await redirecting?.close();
});

/** A PDF of `size` bytes (its head makes it one), different in every 64 KiB. */
function pdfOf(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += 65_536) bytes.write(`block ${offset}`, offset);
  FIXTURES.pdf.copy(bytes);
  return bytes;
}

describe('files on S3', () => {
  it('reports the S3 storage as healthy', async () => {
    const health = await streaming.app.inject({ method: 'GET', url: '/health' });
    expect(health.json().data.services.storage).toMatchObject({ status: 'healthy', mode: 's3' });
  });

  it('streams a 12 MB upload to the bucket as a multipart upload and serves it back, whole and by range', async () => {
    const content = pdfOf(12 * 1024 * 1024);
    const before = s3.requests.length;
    const file = await uploaded(streaming.app, store, {
      category: 'invoice',
      file: { filename: 'big invoice.pdf', content },
    });
    expect(file).toMatchObject({ sha256: sha256(content), metadata: { size: content.length } });
    const key = originalKeyOf(store.user.organization.id, file.id);
    const sent = s3.requests.slice(before);
    expect(sent.filter((request) => request.startsWith(`POST /${s3.bucket}/${key}?uploads`))).toHaveLength(1);
    expect(sent.filter((request) => /^PUT .*partNumber=/.test(request))).toHaveLength(2);

    const whole = await streaming.app.inject({ method: 'GET', url: file.url, headers: bearer(store) });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-length']).toBe(String(content.length));
    expect(whole.rawPayload.equals(content)).toBe(true);

    const part = await streaming.app.inject({
      method: 'GET',
      url: file.url,
      headers: { ...bearer(store), range: 'bytes=9000000-9000099' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 9000000-9000099/${content.length}`);
    expect(part.rawPayload.equals(content.subarray(9_000_000, 9_000_100))).toBe(true);

    const past = await streaming.app.inject({
      method: 'GET',
      url: file.url,
      headers: { ...bearer(store), range: `bytes=${content.length}-` },
    });
    expect(past.statusCode).toBe(416);
  });

  it('refuses a file over FILE_MAX_BYTES with 413 and leaves no object in the bucket', async () => {
    const before = s3.requests.length;
    const response = await upload(streaming.app, store, {
      category: 'document',
      file: { filename: 'too big.pdf', content: pdfOf(MAX_BYTES + 1024 * 1024) },
    });
    expect(response.statusCode).toBe(413);
    const sent = s3.requests.slice(before);
    // Whatever parts went up never became an object: no PutObject, no CompleteMultipartUpload.
    expect(sent.filter((request) => /^PUT /.test(request) && !request.includes('partNumber='))).toEqual([]);
    expect(sent.filter((request) => /^POST .*uploadId=/.test(request))).toEqual([]);
    const keys = new Set(sent.map((request) => /^\w+ \/[^/]+\/([^?]+)/.exec(request)?.[1]).filter(Boolean));
    for (const key of keys) expect(await streaming.app.platform.storage.exists(key!)).toBe(false);
    const rows = await streaming.testDatabase.database.db
      .selectFrom('files')
      .select('id')
      .where('original_filename', '=', 'too big.pdf')
      .execute();
    expect(rows).toEqual([]);
  });

  it('purges a deleted file’s object from the bucket', async () => {
    const file = await uploaded(streaming.app, store, {
      category: 'document',
      file: { filename: 'old.pdf', content: FIXTURES.pdf },
    });
    const key = originalKeyOf(store.user.organization.id, file.id);
    expect(await streaming.app.platform.storage.exists(key)).toBe(true);
    await streaming.app.inject({ method: 'DELETE', url: file.url, headers: bearer(store) });
    const later = new Date(Date.now() + 31 * 86_400_000);
    expect(await purgeDeletedFiles(streaming.app.platform, later)).toEqual({ purged: 1, failed: 0 });
    expect(await streaming.app.platform.storage.exists(key)).toBe(false);
  });

  it('answers a download with a 302 to a presigned URL (valid 300 s) when FILE_DOWNLOAD_REDIRECT is on', async () => {
    const content = pdfOf(200_000);
    const file = await uploaded(redirecting.app, redirectStore, {
      category: 'document',
      file: { filename: 'price list.pdf', content },
    });
    const response = await redirecting.app.inject({
      method: 'GET',
      url: file.url,
      headers: bearer(redirectStore),
    });
    expect(response.statusCode).toBe(302);
    expect(response.headers['cache-control']).toBe('no-store');
    const location = response.headers.location!;
    expect(location.startsWith(`${s3.endpoint}/${s3.bucket}/`)).toBe(true);
    expect(location).toContain('X-Amz-Expires=300');

    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(content)).toBe(true);
    expect(fetched.headers.get('content-type')).toBe('application/pdf');
    expect(fetched.headers.get('content-disposition')).toBe('inline; filename="price list.pdf"');
    const ranged = await fetch(location, { headers: { range: 'bytes=0-7' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('%PDF-1.4');

    // Still only for the store's own live files.
    const stranger = await registerStore(redirecting.app, 'Stranger Grocer');
    const refused = await redirecting.app.inject({ method: 'GET', url: file.url, headers: bearer(stranger) });
    expect(refused.statusCode).toBe(404);
  });
});
