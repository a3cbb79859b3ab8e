import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, SignJWT } from 'jose';
import WebSocket from 'ws';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/modules/auth/tokens.ts';
import type { Database } from '../../src/platform/db/database.ts';
import { TEST_JWT_SECRET } from './app.ts';

export interface WsMessage {
  type: string;
  payload: Record<string, unknown>;
  timestamp: string;
  userId: string;
  id?: number;
  channel?: string;
}

export interface WsClient {
  socket: WebSocket;
  messages: WsMessage[];
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  send(type: string, payload?: Record<string, unknown>): void;
  /** Waits (bounded) until `done(messages)` holds; rejects with what was seen. */
  until(done: (messages: WsMessage[]) => boolean, timeoutMs?: number): Promise<WsMessage[]>;
  /** The first message matching, waiting for it if needed. */
  next(match: (message: WsMessage) => boolean, timeoutMs?: number): Promise<WsMessage>;
  /** Events (messages carrying an id). */
  events(): WsMessage[];
  close(): Promise<void>;
}

/** Starts listening on a random local port (once) and returns the ws:// URL of /ws. */
export async function wsUrl(app: FastifyInstance): Promise<string> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return `ws://127.0.0.1:${port}/ws`;
}

export interface ConnectOptions {
  /** Sent as `Sec-WebSocket-Protocol: access_token, <token>`. */
  protocolToken?: string;
  /** ws answers pings by itself unless this is false. */
  autoPong?: boolean;
}

export async function connectWs(url: string, options: ConnectOptions = {}): Promise<WsClient> {
  const socket = new WebSocket(url, options.protocolToken ? ['access_token', options.protocolToken] : [], {
    autoPong: options.autoPong ?? true,
  });
  const messages: WsMessage[] = [];
  const waiters = new Set<() => void>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const wake of waiters) wake();
    }),
  );
  socket.on('message', (data) => {
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString()
      : Buffer.isBuffer(data)
        ? data.toString()
        : Buffer.from(new Uint8Array(data)).toString();
    messages.push(JSON.parse(text) as WsMessage);
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const until = (done: (all: WsMessage[]) => boolean, timeoutMs = 15_000) =>
    new Promise<WsMessage[]>((resolve, reject) => {
      const check = () => {
        if (done(messages)) {
          cleanup();
          resolve(messages);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`condition not met in ${timeoutMs} ms; saw ${JSON.stringify(messages).slice(0, 4000)}`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    socket,
    messages,
    closed,
    send(type, payload = {}) {
      socket.send(JSON.stringify({ type, payload }));
    },
    until,
    async next(match, timeoutMs) {
      await until((all) => all.some(match), timeoutMs);
      return messages.find(match)!;
    },
    events: () => messages.filter((message) => message.id !== undefined),
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}

/** Connects, authenticates with a message and subscribes; resolves once the ack is in. */
export async function subscribed(
  url: string,
  token: string,
  channels: string[],
  lastEventId?: number,
): Promise<WsClient> {
  const client = await connectWs(url);
  client.send('auth', { token });
  await client.next((message) => message.type === 'auth:ok');
  client.send('subscribe', { channels, ...(lastEventId === undefined ? {} : { lastEventId }) });
  await client.next((message) => message.type === 'subscribed');
  return client;
}

/** The same claims as `token` (a real session's), signed with the test secret to expire at `exp`. */
export async function tokenExpiringAt(token: string, exp: number): Promise<string> {
  const { sub, iat: _iat, exp: _exp, iss: _iss, aud: _aud, ...claims } = decodeJwt(token);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub!)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(Math.min(exp, Math.floor(Date.now() / 1000)) - 60)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

/**
 * The delivery sequence once every committed outbox row is published: subscribing with it as
 * `lastEventId` starts a client exactly after everything done so far (a plain subscribe starts
 * from the relay's position, which can trail a commit that happened just before).
 */
export async function settledSeq(database: Database): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pending = await database.db
      .selectFrom('outbox_events')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('seq', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(pending.count) === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const state = await database.db.selectFrom('outbox_delivery').select('last_seq').executeTakeFirstOrThrow();
  return Number(state.last_seq);
}
