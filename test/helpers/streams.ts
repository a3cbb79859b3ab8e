import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface GeneratedBody {
  stream: Readable;
  /** SHA-256 (hex) of what the stream has produced so far: the whole body once it has ended. */
  sha256(): string;
}

/**
 * `size` bytes made as they are read (never held whole in memory): `head` first, then 64 KiB
 * chunks that differ from each other, so a part sent twice or out of order changes the hash.
 * `failAfter` makes the stream error once that many bytes have been produced.
 */
export function generatedBody(
  size: number,
  options: { head?: Buffer; failAfter?: number } = {},
): GeneratedBody {
  const hash = createHash('sha256');
  let digest: string | undefined;
  const chunkSize = 64 * 1024;
  async function* produce() {
    let produced = 0;
    let index = 0;
    while (produced < size) {
      if (options.failAfter !== undefined && produced >= options.failAfter) {
        throw new Error('the body failed midway (test)');
      }
      let chunk: Buffer;
      if (index === 0 && options.head) {
        chunk = options.head.subarray(0, size);
      } else {
        chunk = Buffer.alloc(Math.min(chunkSize, size - produced), `chunk ${index} of a generated body; `);
      }
      index += 1;
      produced += chunk.length;
      hash.update(chunk);
      yield chunk;
    }
  }
  return {
    stream: Readable.from(produce(), { objectMode: false }),
    sha256: () => (digest ??= hash.digest('hex')),
  };
}

export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function sha256Of(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}
