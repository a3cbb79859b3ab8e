import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { RawData, WebSocket } from 'ws';
import type { DB } from '../../platform/db/schema.ts';
import type { Logger } from '../../platform/logger.ts';
import { deliveryState, storeEventsBetween } from '../../platform/realtime/outbox.repository.ts';
import type { PublishedEvent } from '../../platform/realtime/outbox.repository.ts';
import type { AuthContext, Guard } from '../auth/guard.ts';
import type { AccessClaims } from '../auth/tokens.ts';
import { type Channel, channelOf, isChannel, mayRead } from './channels.ts';
import {
  CLOSE,
  type ClientMessage,
  type EventFrame,
  eventFrame,
  parseClientMessage,
  ProtocolError,
  serverMessage,
  TOKEN_SUBPROTOCOL,
} from './protocol.ts';

export interface RealtimeCounters {
  sent(count: number): void;
  dropped(reason: 'slow_consumer' | 'closed', count: number): void;
}

export interface HubOptions {
  guard: Pick<Guard, 'verifyAccessToken' | 'sessionIsLive'>;
  /** Where live events come from and how far it has dispatched. */
  relay: { readonly position: number; onEvents(listener: (events: readonly PublishedEvent[]) => void): void };
  /** For resumes: the store's events since the client's last id (read as the owner, filtered by store). */
  db: Kysely<DB>;
  logger: Logger;
  heartbeatSeconds: number;
  authTimeoutSeconds: number;
  maxBufferedBytes: number;
  counters: RealtimeCounters;
}

/** A token's holder is asked for a fresh one this long before it expires. */
const REAUTH_LEAD_MS = 30_000;
/** Events of a resume read per query. */
const RESUME_PAGE = 500;
/** A socket that does not finish its close handshake in this time is dropped. */
const CLOSE_GRACE_MS = 5_000;
/** Live events queued for a socket while its resume is read; past this it counts as too slow. */
const MAX_QUEUED_DURING_RESUME = 50_000;

/**
 * The sockets of this instance, grouped by store, and the fan-out of the relay's events to them.
 * Each event is serialised once and sent to the sockets of its store subscribed to its channel.
 */
export class RealtimeHub {
  readonly options: HubOptions;
  readonly #all = new Set<Connection>();
  readonly #byOrg = new Map<string, Set<Connection>>();
  readonly #heartbeat: NodeJS.Timeout;
  #closing = false;

  constructor(options: HubOptions) {
    this.options = options;
    options.relay.onEvents((events) => this.#dispatch(events));
    this.#heartbeat = setInterval(() => {
      for (const connection of this.#all) connection.heartbeat();
    }, options.heartbeatSeconds * 1000);
    this.#heartbeat.unref();
  }

  /** Open sockets (authenticated or still authenticating). */
  get size(): number {
    return this.#all.size;
  }

  accept(socket: WebSocket, request: FastifyRequest): void {
    if (this.#closing) {
      socket.close(CLOSE.goingAway, 'server going away');
      return;
    }
    const connection = new Connection(this, socket, request.log);
    this.#all.add(connection);
    socket.once('close', () => this.#remove(connection));
    connection.start(tokenFromSubprotocol(request.headers['sec-websocket-protocol']));
  }

  /** Called once a connection has authenticated: it receives its store's events from now on. */
  joined(connection: Connection, orgId: string): void {
    let members = this.#byOrg.get(orgId);
    if (!members) this.#byOrg.set(orgId, (members = new Set()));
    members.add(connection);
  }

  #remove(connection: Connection) {
    this.#all.delete(connection);
    connection.closed();
    const orgId = connection.auth?.orgId;
    if (!orgId) return;
    const members = this.#byOrg.get(orgId);
    members?.delete(connection);
    if (members?.size === 0) this.#byOrg.delete(orgId);
  }

  #dispatch(events: readonly PublishedEvent[]) {
    for (const event of events) {
      const members = this.#byOrg.get(event.orgId);
      if (!members) continue;
      const channel = channelOf(event.type, event.payload);
      if (!channel) continue;
      const frame = eventFrame(event.seq, event.type, channel, event.payload, event.createdAt);
      for (const connection of members) connection.deliver(frame, channel);
    }
  }

  /** Shutdown: every socket is closed with 1001; those that do not answer are dropped. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    const open = [...this.#all];
    await Promise.all(open.map((connection) => connection.close(CLOSE.goingAway, 'server going away')));
  }
}

/** `Sec-WebSocket-Protocol: access_token, <jwt>`: the token, if the client sent one this way. */
function tokenFromSubprotocol(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const protocols = header.split(',').map((value) => value.trim());
  const index = protocols.indexOf(TOKEN_SUBPROTOCOL);
  return index >= 0 ? protocols[index + 1] || undefined : undefined;
}

type Frame = { frame: EventFrame; channel: Channel };

/** One socket: authentication, subscriptions, resume and bounded sending. */
export class Connection {
  readonly #hub: RealtimeHub;
  readonly #socket: WebSocket;
  readonly #log: Logger;
  auth: AuthContext | undefined;
  #claims: AccessClaims | undefined;
  #expiresAt = 0;
  readonly #channels = new Set<Channel>();
  /** Every event up to this sequence has been dealt with; undefined until the first subscribe. */
  #cursor: number | undefined;
  #resumeFrom: number | undefined;
  #catchingUp = false;
  #queued: Frame[] = [];
  #alive = true;
  #closing = false;
  #chain: Promise<void> = Promise.resolve();
  #authTimer: NodeJS.Timeout | undefined;
  #expiringTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #closedWaiters: Array<() => void> = [];
  #isClosed = false;

  constructor(hub: RealtimeHub, socket: WebSocket, log: Logger) {
    this.#hub = hub;
    this.#socket = socket;
    this.#log = log;
  }

  start(subprotocolToken: string | undefined): void {
    this.#socket.on('message', (data, isBinary) => {
      const text = isBinary ? undefined : textOf(data);
      this.#enqueue(() => this.#onMessage(text));
    });
    this.#socket.on('pong', () => (this.#alive = true));
    if (subprotocolToken) this.#enqueue(() => this.#authenticate(subprotocolToken, undefined));
    else {
      this.#authTimer = setTimeout(() => {
        if (!this.auth) void this.close(CLOSE.authTimeout, 'authentication timeout');
      }, this.#hub.options.authTimeoutSeconds * 1000);
      this.#authTimer.unref();
    }
  }

  /** Messages are handled one at a time, in order (a resume finishes before the next message). */
  #enqueue(work: () => Promise<void>) {
    this.#chain = this.#chain.then(work).catch((error: unknown) => {
      this.#log.error({ err: error }, 'websocket message handling failed');
      void this.close(1011, 'internal error');
    });
  }

  async #onMessage(text: string | undefined): Promise<void> {
    if (this.#closing) return;
    let message: ClientMessage;
    try {
      if (text === undefined) throw new ProtocolError('BAD_MESSAGE', 'Send text frames of JSON');
      message = parseClientMessage(text);
    } catch (error) {
      if (error instanceof ProtocolError) return this.#error(error.code, error.message);
      throw error;
    }
    if (message.type === 'auth') return this.#authenticate(message.token, message.lastEventId);
    if (!this.auth)
      return this.#error(
        'NOT_AUTHENTICATED',
        'Send {"type":"auth","payload":{"token":"<accessToken>"}} first',
      );
    switch (message.type) {
      case 'subscribe':
        return this.#subscribe(message.channels, message.lastEventId);
      case 'unsubscribe':
        for (const name of message.channels) if (isChannel(name)) this.#channels.delete(name);
        this.#sendControl('unsubscribed', { channels: message.channels, active: [...this.#channels] });
        return;
      case 'ping':
        this.#sendControl('pong', {});
        return;
    }
  }

  async #authenticate(token: string, lastEventId: number | undefined): Promise<void> {
    const first = !this.auth;
    let verified;
    try {
      verified = await this.#hub.options.guard.verifyAccessToken(token);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'INVALID_TOKEN';
      const message = (error as Error).message;
      if (!first) return this.#error(code, `${message}; the connection keeps its current token`);
      return this.close(
        code === 'TOKEN_EXPIRED' ? CLOSE.tokenExpired : CLOSE.unauthorized,
        code === 'TOKEN_EXPIRED' ? 'token expired' : 'unauthorized',
      );
    }
    if (this.#closing) return;
    if (!first) {
      if (verified.auth.userId !== this.auth!.userId || verified.auth.orgId !== this.auth!.orgId)
        return this.#error('AUTH_MISMATCH', 'A fresh token must be for the same user and store');
    }
    clearTimeout(this.#authTimer);
    this.auth = verified.auth;
    this.#claims = verified.claims;
    this.#expiresAt = verified.expiresAt;
    this.#scheduleExpiry();
    if (first) {
      this.#resumeFrom = lastEventId;
      this.#hub.joined(this, verified.auth.orgId);
    } else {
      // A new role may read less: channels it may no longer read are dropped, and said so.
      for (const channel of this.#channels)
        if (!mayRead(verified.auth, channel)) {
          this.#channels.delete(channel);
          this.#error('FORBIDDEN_CHANNEL', `Your role may not read ${channel}`, channel);
        }
    }
    this.#sendControl('auth:ok', {
      userId: verified.auth.userId,
      role: verified.auth.role,
      expiresAt: new Date(verified.expiresAt).toISOString(),
    });
  }

  #scheduleExpiry() {
    clearTimeout(this.#expiringTimer);
    clearTimeout(this.#expiryTimer);
    const left = this.#expiresAt - Date.now();
    const warnIn = Math.max(0, left - REAUTH_LEAD_MS);
    this.#expiringTimer = setTimeout(() => {
      this.#sendControl('auth:expiring', {
        expiresAt: new Date(this.#expiresAt).toISOString(),
        secondsLeft: Math.max(0, Math.round((this.#expiresAt - Date.now()) / 1000)),
      });
    }, clampDelay(warnIn));
    this.#expiringTimer.unref();
    this.#expiryTimer = setTimeout(
      () => void this.close(CLOSE.tokenExpired, 'token expired'),
      clampDelay(Math.max(0, left)),
    );
    this.#expiryTimer.unref();
  }

  async #subscribe(names: string[], lastEventId: number | undefined): Promise<void> {
    const added: Channel[] = [];
    for (const name of names) {
      if (!isChannel(name)) this.#error('UNKNOWN_CHANNEL', `There is no channel ${name}`, name);
      else if (!mayRead(this.auth!, name))
        this.#error('FORBIDDEN_CHANNEL', `Your role may not read ${name}`, name);
      else {
        this.#channels.add(name);
        added.push(name);
      }
    }
    this.#sendControl('subscribed', { channels: added, active: [...this.#channels] });
    // Delivery starts with the first subscription that holds a channel, from the resume point if
    // one was given (here or with auth); later subscriptions add channels to the live stream.
    if (this.#cursor === undefined && this.#channels.size > 0)
      await this.#startDelivery(lastEventId ?? this.#resumeFrom);
  }

  /**
   * The hand-over from resume to live without a gap or a duplicate: `through` is what the relay
   * has dispatched so far. Events after it arrive live; while the resume reads (L, through] from
   * the database they are queued, then sent after it. The cursor drops anything at or below what
   * was already sent (a resume that went past this instance's relay, which another instance's
   * client may do).
   */
  async #startDelivery(lastEventId: number | undefined): Promise<void> {
    const through = this.#hub.options.relay.position;
    if (lastEventId === undefined) {
      this.#cursor = through;
      return;
    }
    this.#cursor = lastEventId;
    this.#catchingUp = true;
    try {
      const { db } = this.#hub.options;
      const state = await deliveryState(db);
      if (lastEventId < state.prunedThrough || lastEventId > state.lastSeq) {
        this.#sendControl('resync', {
          lastEventId,
          reason: lastEventId > state.lastSeq ? 'unknown_event_id' : 'retention_exceeded',
          message:
            'Events after your last id are no longer available: reload, then resume from the id of this stream',
          resumeFrom: through,
        });
        this.#cursor = through;
        return;
      }
      let after = lastEventId;
      while (after < through && !this.#closing) {
        const page = await storeEventsBetween(db, this.auth!.orgId, after, through, RESUME_PAGE);
        for (const event of page) {
          const channel = channelOf(event.type, event.payload);
          if (channel)
            this.#emit({
              frame: eventFrame(event.seq, event.type, channel, event.payload, event.createdAt),
              channel,
            });
        }
        if (page.length < RESUME_PAGE) break;
        after = page.at(-1)!.seq;
        if (!(await this.#drained())) return;
      }
      this.#cursor = Math.max(this.#cursor, through);
    } finally {
      this.#catchingUp = false;
      for (const queued of this.#queued.splice(0)) this.#emit(queued);
    }
  }

  /** A live event of this socket's store (from the hub). */
  deliver(frame: EventFrame, channel: Channel): void {
    if (this.#cursor === undefined || this.#closing) return;
    if (this.#catchingUp) {
      if (this.#queued.length >= MAX_QUEUED_DURING_RESUME) {
        this.#hub.options.counters.dropped('slow_consumer', 1);
        void this.close(CLOSE.slowConsumer, 'slow consumer');
        return;
      }
      this.#queued.push({ frame, channel });
      return;
    }
    this.#emit({ frame, channel });
  }

  #emit({ frame, channel }: Frame) {
    if (this.#cursor !== undefined && frame.seq <= this.#cursor) return;
    this.#cursor = frame.seq;
    if (this.#channels.has(channel)) this.#send(frame.forUser(this.auth!.userId));
  }

  /**
   * The bound on a slow client: a message that would take the socket's unsent bytes past
   * WS_MAX_BUFFERED_BYTES is not sent; the socket is closed with 4409 (the client reconnects and
   * resumes from its last id). `text.length` is a lower bound of its UTF-8 bytes.
   */
  #send(text: string): boolean {
    const { counters, maxBufferedBytes } = this.#hub.options;
    if (this.#closing || this.#socket.readyState !== this.#socket.OPEN) {
      counters.dropped('closed', 1);
      return false;
    }
    if (this.#socket.bufferedAmount + text.length > maxBufferedBytes) {
      counters.dropped('slow_consumer', 1);
      void this.close(CLOSE.slowConsumer, 'slow consumer: send buffer full');
      return false;
    }
    this.#socket.send(text);
    counters.sent(1);
    return true;
  }

  /** Between resume pages: waits for the send buffer to fall under half the bound. */
  async #drained(): Promise<boolean> {
    const { maxBufferedBytes } = this.#hub.options;
    const deadline = Date.now() + this.#hub.options.heartbeatSeconds * 1000;
    while (this.#socket.bufferedAmount > maxBufferedBytes / 2) {
      if (this.#closing) return false;
      if (Date.now() > deadline) {
        this.#hub.options.counters.dropped('slow_consumer', 1);
        void this.close(CLOSE.slowConsumer, 'slow consumer');
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return !this.#closing;
  }

  #sendControl(type: string, payload: unknown) {
    this.#send(serverMessage(type, payload, this.auth?.userId ?? ''));
  }

  #error(code: string, message: string, channel?: string) {
    this.#sendControl('error', { code, message, ...(channel === undefined ? {} : { channel }) });
  }

  /** Heartbeat tick: a socket that did not answer the last ping is dropped; the session is re-checked. */
  heartbeat(): void {
    if (!this.#alive) {
      this.#socket.terminate();
      return;
    }
    this.#alive = false;
    this.#socket.ping();
    const claims = this.#claims;
    if (claims && !this.#closing)
      this.#hub.options.guard
        .sessionIsLive(claims)
        .then((live) => {
          if (!live && this.#claims === claims) void this.close(CLOSE.unauthorized, 'session ended');
        })
        .catch((error: unknown) => this.#log.warn({ err: error }, 'websocket session check failed'));
  }

  /** Closes with `code` and waits (at most CLOSE_GRACE_MS) for the handshake, then drops the socket. */
  close(code: number, reason: string): Promise<void> {
    if (this.#isClosed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#closedWaiters.push(resolve));
    if (!this.#closing) {
      this.#closing = true;
      this.#clearTimers();
      this.#socket.close(code, reason);
      setTimeout(() => {
        if (!this.#isClosed) this.#socket.terminate();
      }, CLOSE_GRACE_MS).unref();
    }
    return done;
  }

  /** The socket has closed (either side). */
  closed(): void {
    this.#isClosed = true;
    this.#closing = true;
    this.#clearTimers();
    this.#queued = [];
    for (const resolve of this.#closedWaiters.splice(0)) resolve();
  }

  #clearTimers() {
    clearTimeout(this.#authTimer);
    clearTimeout(this.#expiringTimer);
    clearTimeout(this.#expiryTimer);
  }
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
}

/** setTimeout's longest delay is 2^31-1 ms. */
const clampDelay = (ms: number) => Math.min(ms, 2 ** 31 - 1);
