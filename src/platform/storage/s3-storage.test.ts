import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3, type TestS3 } from '../../../test/helpers/s3.ts';
import { generatedBody, readAll, sha256Of } from '../../../test/helpers/streams.ts';
import { createS3Storage } from './s3-storage.ts';
import { RangeNotSatisfiableError, type Storage, StorageNotFoundError } from './storage.ts';

/** The S3 driver against a real S3 protocol server (s3rver, started here; see test/helpers/s3.ts). */

let s3: TestS3;
let storage: Storage;
const MiB = 1024 * 1024;

function storageFor(s3: TestS3, overrides: { secretAccessKey?: string; partSize?: number } = {}) {
  return createS3Storage({
    bucket: s3.bucket,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: overrides.secretAccessKey ?? s3.secretAccessKey,
    forcePathStyle: true,
    ...(overrides.partSize ? { partSize: overrides.partSize } : {}),
  });
}

beforeAll(async () => {
  s3 = await startTestS3();
  storage = storageFor(s3, { partSize: 5 * MiB });
});
afterAll(() => storage.close?.());

describe('S3 storage', () => {
  it('stores and reads back an object with signed requests, and passes its health check', async () => {
    const stored = await storage.put('org-1/file-1/original', Readable.from([Buffer.from('hello, bucket')]), {
      contentType: 'text/plain',
    });
    expect(stored).toEqual({ size: 13 });
    const object = await storage.get('org-1/file-1/original');
    expect(object).toMatchObject({ size: 13, contentLength: 13 });
    expect((await readAll(object.body)).toString()).toBe('hello, bucket');
    expect(await storage.stat('org-1/file-1/original')).toEqual({ size: 13 });
    await expect(storage.check()).resolves.toBeUndefined();
    // Every request to the bucket was signed (s3rver checks each signature).
    expect(s3.requests.length).toBeGreaterThan(0);
  });

  it('is refused with a wrong secret, and stores nothing', async () => {
    const wrong = storageFor(s3, { secretAccessKey: 'not-the-secret' });
    try {
      await expect(
        wrong.put('org-1/refused/original', Readable.from([Buffer.from('x')]), { contentType: 'text/plain' }),
      ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
      await expect(wrong.check()).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
      expect(await storage.exists('org-1/refused/original')).toBe(false);
    } finally {
      wrong.close?.();
    }
  });

  it('uploads a 30 MB body as a multipart upload of 5 MiB parts and reads it back whole', async () => {
    const size = 30 * 1000 * 1000;
    const body = generatedBody(size);
    const before = s3.requests.length;
    const stored = await storage.put('org-1/large/original', body.stream, { contentType: 'application/pdf' });
    expect(stored.size).toBe(size);
    const sent = s3.requests.slice(before);
    expect(sent.filter((request) => /^POST .*\?uploads/.test(request))).toHaveLength(1);
    // 30,000,000 bytes in 5 MiB parts: five full parts and a sixth of the rest.
    expect(sent.filter((request) => /^PUT .*partNumber=\d+/.test(request))).toHaveLength(6);
    expect(sent.filter((request) => /^POST .*uploadId=/.test(request))).toHaveLength(1);

    const object = await storage.get('org-1/large/original');
    expect(object.size).toBe(size);
    expect(await sha256Of(object.body)).toBe(body.sha256());
  });

  it('leaves no object when the body fails midway through a multipart upload, and reports the body’s error', async () => {
    const body = generatedBody(20 * MiB, { failAfter: 12 * MiB });
    await expect(
      storage.put('org-1/failed/original', body.stream, { contentType: 'application/pdf' }),
    ).rejects.toThrow('the body failed midway (test)');
    expect(await storage.exists('org-1/failed/original')).toBe(false);
  });

  it('reads a byte range, clamps its end, and refuses one past the end', async () => {
    const content = Buffer.from('0123456789abcdefghij');
    await storage.put('org-1/range/original', Readable.from([content]), { contentType: 'text/plain' });
    const part = await storage.get('org-1/range/original', { start: 5, end: 9 });
    expect(part).toMatchObject({ size: 20, contentLength: 5, range: { start: 5, end: 9 } });
    expect((await readAll(part.body)).toString()).toBe('56789');

    const tail = await storage.get('org-1/range/original', { start: 15, end: 1000 });
    expect(tail).toMatchObject({ size: 20, contentLength: 5, range: { start: 15, end: 19 } });
    expect((await readAll(tail.body)).toString()).toBe('fghij');

    await expect(storage.get('org-1/range/original', { start: 20, end: 25 })).rejects.toBeInstanceOf(
      RangeNotSatisfiableError,
    );
  });

  it('deletes an object; a second delete and a missing key are not errors', async () => {
    await storage.put('org-1/gone/original', Readable.from([Buffer.from('bye')]), {
      contentType: 'text/plain',
    });
    expect(await storage.exists('org-1/gone/original')).toBe(true);
    await storage.delete('org-1/gone/original');
    expect(await storage.exists('org-1/gone/original')).toBe(false);
    expect(await storage.stat('org-1/gone/original')).toBeUndefined();
    await expect(storage.get('org-1/gone/original')).rejects.toBeInstanceOf(StorageNotFoundError);
    await expect(storage.delete('org-1/gone/original')).resolves.toBeUndefined();
  });

  it('makes a presigned URL that anyone can GET, with the file name and type, and that a changed signature breaks', async () => {
    await storage.put('org-1/signed/original', Readable.from([Buffer.from('%PDF-1.7 signed bytes')]), {
      contentType: 'application/pdf',
    });
    // An ASCII name: the header of a non-ASCII one carries `filename*=UTF-8''…`, whose `'` and
    // `*` s3rver leaves unescaped when it recomputes the signature (it uses encodeURIComponent,
    // where S3 and the SDK escape them as RFC 3986 says), so s3rver refuses URLs S3 accepts.
    const url = await storage.presignedGetUrl!('org-1/signed/original', 300, {
      filename: 'Invoice 2026-03.pdf',
      contentType: 'application/pdf',
    });
    expect(url).toContain('X-Amz-Signature=');
    expect(url).toContain('X-Amz-Expires=300');
    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe('%PDF-1.7 signed bytes');
    expect(fetched.headers.get('content-type')).toBe('application/pdf');
    expect(fetched.headers.get('content-disposition')).toBe('attachment; filename="Invoice 2026-03.pdf"');

    const tampered = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_match, first: string) => `X-Amz-Signature=${first === '0' ? '1' : '0'}`,
    );
    const refused = await fetch(tampered);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('SignatureDoesNotMatch');
  });
});
