import type { IncomingMessage } from 'node:http';
import S3rver from '@20minutes/s3rver';
import { afterAll } from 'vitest';
import { tempDir } from './files.ts';

/**
 * An S3 server in this process for the S3 storage driver's tests: s3rver (the @20minutes fork,
 * which runs on Node 24 with current dependencies). It checks AWS Signature V4 on every signed
 * request, header or presigned query, against its one account (S3RVER / S3RVER), supports
 * multipart uploads and ranged reads, and keeps objects on disk, so it exercises the real
 * protocol the AWS SDK speaks. fauxqs (the other maintained in-process S3 emulator on npm) does
 * not check signatures at all, so it could not tell a wrong secret from the right one.
 */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `METHOD path?query` of every request the server received, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startTestS3(bucket = 'fresh-choice-files'): Promise<TestS3> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: await tempDir('fresh-choice-s3-'),
    configureBuckets: [{ name: bucket }],
  });
  const address = await server.run();
  const requests: string[] = [];
  server.httpServer.on('request', (request: IncomingMessage) =>
    requests.push(`${request.method} ${request.url}`),
  );
  const s3: TestS3 = {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    requests,
    close: async () => {
      server.httpServer.closeAllConnections();
      await server.close();
    },
  };
  afterAll(() => s3.close().catch(() => {}));
  return s3;
}
