import { createDecipheriv, createECDH, type ECDH, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/push-service/${name}`, import.meta.url));

export interface PushRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * A browser's side of a push subscription, made as a browser makes it: a fresh P-256 key pair and
 * a 16-byte auth secret. Only this object can read what is pushed to it.
 */
export class Browser {
  readonly ecdh: ECDH;
  readonly authSecret: Buffer;
  readonly endpoint: string;

  constructor(endpoint: string) {
    this.ecdh = createECDH('prime256v1');
    this.ecdh.generateKeys();
    this.authSecret = randomBytes(16);
    this.endpoint = endpoint;
  }

  /** PushSubscription.toJSON(). */
  subscription() {
    return {
      endpoint: this.endpoint,
      expirationTime: null,
      keys: {
        p256dh: this.ecdh.getPublicKey().toString('base64url'),
        auth: this.authSecret.toString('base64url'),
      },
    };
  }

  /**
   * Decrypts an `aes128gcm` push body (RFC 8188 record, keys derived as RFC 8291 §3.3-3.4 says),
   * with node:crypto only: not with the library that encrypted it.
   */
  decrypt(body: Buffer): string {
    const salt = body.subarray(0, 16);
    const recordSize = body.readUInt32BE(16);
    const idLength = body[20]!;
    const senderPublicKey = body.subarray(21, 21 + idLength);
    const ciphertext = body.subarray(21 + idLength);
    if (ciphertext.length > recordSize) throw new Error('more than one record');
    const receiverPublicKey = this.ecdh.getPublicKey();
    const sharedSecret = this.ecdh.computeSecret(senderPublicKey);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiverPublicKey, senderPublicKey]);
    const ikm = Buffer.from(hkdfSync('sha256', sharedSecret, this.authSecret, keyInfo, 32));
    const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
    const padded = Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
      decipher.final(),
    ]);
    // The last record ends with the delimiter 0x02, then zero or more zero bytes of padding.
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end--;
    if (padded[end] !== 2) throw new Error('no last-record delimiter');
    return padded.subarray(0, end).toString('utf8');
  }
}

/**
 * A local push service over HTTPS (a self-signed certificate for 127.0.0.1, trusted through
 * `agent`): records every request and answers with the status set for its path (201 by default).
 */
export class PushService {
  readonly requests: PushRequest[] = [];
  readonly #statuses = new Map<string, number[]>();
  readonly #waiters: Array<{ path: string; resolve: (request: PushRequest) => void }> = [];
  readonly agent = new Agent({ ca: fixture('cert.pem') });
  #server: Server | undefined;
  #origin = '';

  async start(): Promise<void> {
    const server = createServer({ key: fixture('key.pem'), cert: fixture('cert.pem') }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '';
        const request = { path, headers: req.headers, body: Buffer.concat(chunks) };
        this.requests.push(request);
        // Each request takes the next status; the last one stays.
        const statuses = this.#statuses.get(path) ?? [201];
        res.statusCode = statuses.length > 1 ? statuses.shift()! : (statuses[0] ?? 201);
        res.end();
        for (const waiter of this.#waiters.filter((w) => w.path === path)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(request);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.#origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  get origin(): string {
    return this.#origin;
  }

  /** A new browser with an endpoint on this service, answered with `statuses` in turn (201 by default). */
  browser(...statuses: number[]): Browser {
    const path = `/push/${randomUUID()}`;
    this.#statuses.set(path, statuses.length > 0 ? statuses : [201]);
    return new Browser(`${this.#origin}${path}`);
  }

  /** The next request to the browser's endpoint (or the first one already received). */
  async nextPush(browser: Browser, timeoutMs = 30_000): Promise<PushRequest> {
    const path = new URL(browser.endpoint).pathname;
    const seen = this.requests.find((request) => request.path === path);
    if (seen) return seen;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no push to ${path} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({
        path,
        resolve: (request) => {
          clearTimeout(timer);
          resolve(request);
        },
      });
    });
  }

  /** Waits (bounded) until the browser's endpoint has had `count` requests; returns them. */
  async pushes(browser: Browser, count: number, timeoutMs = 60_000): Promise<PushRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.pushesTo(browser).length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} pushes to ${browser.endpoint}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.pushesTo(browser);
  }

  pushesTo(browser: Browser): PushRequest[] {
    const path = new URL(browser.endpoint).pathname;
    return this.requests.filter((request) => request.path === path);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
