import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { create as contentDisposition } from 'content-disposition';
import {
  assertValidKey,
  type ByteRange,
  clampRange,
  type ObjectStat,
  type PresignedAnswer,
  type PutOptions,
  RangeNotSatisfiableError,
  type Storage,
  StorageNotFoundError,
  type StoredObject,
} from './storage.ts';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server (MinIO, Ceph, R2…); unset = AWS S3 of `region`. */
  endpoint?: string | undefined;
  /** Both or neither; neither = the SDK's default chain (environment, IAM role, profile). */
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** bucket in the path (`https://host/bucket/key`), as most self-hosted servers need. */
  forcePathStyle?: boolean;
  /** Bytes per part of a multipart upload (at least 5 MiB, S3's minimum). */
  partSize?: number;
  /** Parts uploaded at once; an upload holds up to partSize × queueSize bytes in memory. */
  queueSize?: number;
}

/**
 * 8 MiB parts, two at a time: an upload holds at most 16 MiB (plus the part being filled) in
 * memory whatever the file's size, and S3's 10,000-part ceiling puts the largest object at
 * 80 GiB, far above FILE_MAX_BYTES.
 */
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_QUEUE_SIZE = 2;

const statusOf = (error: unknown) =>
  error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
const isMissing = (error: unknown) =>
  statusOf(error) === 404 ||
  (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound'));

/**
 * Objects in an S3-compatible bucket (@aws-sdk/client-s3). Bodies go up with lib-storage's
 * Upload: one PutObject when the body fits in one part, else a multipart upload of `partSize`
 * parts, which lib-storage aborts (removing the parts sent) if the body fails midway. S3 makes an
 * object visible only when its PutObject or CompleteMultipartUpload succeeds, so a failed body
 * never leaves a partial object under the key.
 */
export function createS3Storage(options: S3StorageOptions): Storage {
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.accessKeyId && options.secretAccessKey
      ? {
          credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
        }
      : {}),
    // Since 2025 the SDK adds CRC32 checksums to every upload by default, sent as a trailer of an
    // aws-chunked body, which many S3-compatible servers (older MinIO, Ceph, s3rver) refuse.
    // Checksums only where S3 requires them: the service keeps its own SHA-256 of every file.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const bucket = options.bucket;
  const partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, 5 * 1024 * 1024);
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;

  async function put(key: string, body: Readable, put: PutOptions): Promise<{ size: number }> {
    assertValidKey(key);
    let size = 0;
    let bodyError: unknown;
    const counted = Readable.from(
      (async function* () {
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            size += chunk.length;
            yield chunk;
          }
        } catch (error) {
          bodyError = error;
          throw error;
        }
      })(),
      { objectMode: false },
    );
    const upload = new Upload({
      client,
      params: {
        Bucket: bucket,
        Key: key,
        Body: counted,
        ContentType: put.contentType,
        ...(put.contentLength === undefined ? {} : { ContentLength: put.contentLength }),
      },
      partSize,
      queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      counted.destroy();
      body.destroy();
      // When the body failed, that is the cause, even if aborting the multipart upload then
      // failed too (lib-storage throws the abort's error then). An upload never completed is
      // never an object, and the bucket's lifecycle rule for incomplete uploads reclaims parts.
      throw bodyError ?? error;
    }
    return { size };
  }

  async function get(key: string, range?: ByteRange): Promise<StoredObject> {
    assertValidKey(key);
    if (range && (range.start < 0 || range.end < range.start)) {
      throw new RangeNotSatisfiableError((await stat(key))?.size ?? 0);
    }
    let answer;
    try {
      answer = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
    } catch (error) {
      if (isMissing(error)) throw new StorageNotFoundError(key);
      if (statusOf(error) === 416) {
        throw new RangeNotSatisfiableError((await stat(key))?.size ?? 0);
      }
      throw error;
    }
    const body = answer.Body as Readable;
    const contentLength = answer.ContentLength ?? 0;
    if (!range) return { body, size: contentLength, contentLength };
    // "bytes 0-99/1234": the served range and the whole size.
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(answer.ContentRange ?? '');
    if (!match) {
      body.destroy();
      throw new Error('The S3 server ignored the Range header (no Content-Range in its answer)');
    }
    const size = Number(match[3]);
    const served = clampRange({ start: Number(match[1]), end: Number(match[2]) }, size);
    return { body, size, contentLength: served.end - served.start + 1, range: served };
  }

  async function stat(key: string): Promise<ObjectStat | undefined> {
    assertValidKey(key);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  return {
    kind: 's3',
    put,
    get,
    stat,
    async exists(key) {
      return (await stat(key)) !== undefined;
    },
    async delete(key) {
      assertValidKey(key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    },
    async presignedGetUrl(key: string, seconds: number, answer: PresignedAnswer) {
      assertValidKey(key);
      return getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ResponseContentType: answer.contentType,
          ResponseContentDisposition: contentDisposition(answer.filename, {
            type: answer.disposition ?? 'attachment',
          }),
        }),
        { expiresIn: seconds },
      );
    },
    async check() {
      const probe = `.health/${randomUUID()}`;
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: probe, Body: 'ok', ContentType: 'text/plain' }),
      );
      try {
        const read = await client.send(new GetObjectCommand({ Bucket: bucket, Key: probe }));
        if ((await read.Body?.transformToString()) !== 'ok') throw new Error('storage read-back mismatch');
      } finally {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: probe }));
      }
    },
    close() {
      client.destroy();
    },
  };
}
