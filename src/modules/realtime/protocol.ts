/**
 * The WebSocket protocol of `GET /ws` (README has the description for clients).
 *
 * Server messages are the spec's WebSocketMessage: `{type, payload, timestamp, userId}`, where
 * `userId` is the signed-in user the connection belongs to. Events also carry `id` (the delivery
 * sequence: send the last one seen as `lastEventId` to resume) and `channel`.
 */
export const CLOSE = {
  /** Shutdown of this instance: reconnect (to another one) and resume. */
  goingAway: 1001,
  /** The access token expired and no fresh `auth` message came in time. */
  tokenExpired: 4001,
  /** No token, a bad one, or a session that has ended. */
  unauthorized: 4401,
  /** No `auth` message within the auth timeout. */
  authTimeout: 4408,
  /** The client reads too slowly: its send buffer passed WS_MAX_BUFFERED_BYTES. */
  slowConsumer: 4409,
} as const;

/** The subprotocol a client names before its token: `Sec-WebSocket-Protocol: access_token, <jwt>`. */
export const TOKEN_SUBPROTOCOL = 'access_token';

/** Largest client message accepted (ws closes with 1009 beyond it). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
/** Channels in one subscribe or unsubscribe. */
const MAX_CHANNELS = 32;

export type ClientMessage =
  | { type: 'auth'; token: string; lastEventId?: number }
  | { type: 'subscribe'; channels: string[]; lastEventId?: number }
  | { type: 'unsubscribe'; channels: string[] }
  | { type: 'ping' };

export class ProtocolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const bad = (message: string) => new ProtocolError('BAD_MESSAGE', message);

/** Parses one client text frame; throws ProtocolError naming what is wrong. */
export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('Messages are JSON objects: {"type": ..., "payload": {...}}');
  }
  if (!isObject(value) || typeof value.type !== 'string') throw bad('A message needs a string "type"');
  const payload = value.payload === undefined ? {} : value.payload;
  if (!isObject(payload)) throw bad('"payload" must be an object');
  switch (value.type) {
    case 'auth': {
      if (typeof payload.token !== 'string' || payload.token.length === 0 || payload.token.length > 4096)
        throw bad('auth needs payload.token: the access token');
      return { type: 'auth', token: payload.token, ...lastEventIdOf(payload) };
    }
    case 'subscribe':
      return { type: 'subscribe', channels: channelsOf(payload), ...lastEventIdOf(payload) };
    case 'unsubscribe':
      return { type: 'unsubscribe', channels: channelsOf(payload) };
    case 'ping':
      return { type: 'ping' };
    default:
      throw bad(`Unknown message type; send auth, subscribe, unsubscribe or ping`);
  }
}

function channelsOf(payload: Record<string, unknown>): string[] {
  const channels = payload.channels;
  if (
    !Array.isArray(channels) ||
    channels.length === 0 ||
    channels.length > MAX_CHANNELS ||
    !channels.every((channel) => typeof channel === 'string' && channel.length > 0 && channel.length <= 100)
  )
    throw bad(`payload.channels must be a list of 1 to ${MAX_CHANNELS} channel names`);
  return [...new Set(channels as string[])];
}

function lastEventIdOf(payload: Record<string, unknown>): { lastEventId?: number } {
  const raw = payload.lastEventId;
  if (raw === undefined || raw === null) return {};
  const value = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw bad('payload.lastEventId must be the id of an event this server sent (a non-negative integer)');
  return { lastEventId: value };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A server message other than an event. */
export function serverMessage(type: string, payload: unknown, userId: string): string {
  return JSON.stringify({ type, payload, timestamp: new Date().toISOString(), userId });
}

/**
 * An event, serialised once for all its recipients: everything but the recipient's `userId`,
 * which `forUser` splices in.
 */
export interface EventFrame {
  seq: number;
  forUser(userId: string): string;
}

export function eventFrame(
  seq: number,
  type: string,
  channel: string,
  payload: unknown,
  createdAt: Date,
): EventFrame {
  const head = JSON.stringify({ id: seq, type, channel, payload, timestamp: createdAt.toISOString() }).slice(
    0,
    -1,
  );
  return { seq, forUser: (userId) => `${head},"userId":${JSON.stringify(userId)}}` };
}
