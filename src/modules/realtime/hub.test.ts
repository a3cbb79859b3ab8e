import { EventEmitter } from 'node:events';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import type { DB } from '../../platform/db/schema.ts';
import { createLogger } from '../../platform/logger.ts';
import type { PublishedEvent } from '../../platform/realtime/outbox.repository.ts';
import type { VerifiedAccessToken } from '../auth/guard.ts';
import { permissionSetOf } from '../auth/permissions.ts';
import { channelOf } from './channels.ts';
import { RealtimeHub } from './hub.ts';
import { CLOSE, parseClientMessage, ProtocolError } from './protocol.ts';

/** A socket whose unsent bytes the test sets: the slow client, made deterministic. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: number | undefined;
  send(text: string) {
    this.sent.push(text);
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = 2;
  }
  ping() {}
  terminate() {
    this.readyState = 3;
  }
}

const ORG = '00000000-0000-4000-8000-000000000001';

function hubWith(maxBufferedBytes: number) {
  let dispatch: (events: readonly PublishedEvent[]) => void = () => {};
  const counted = { sent: 0, dropped: 0 };
  const verified: VerifiedAccessToken = {
    auth: {
      userId: 'u1',
      orgId: ORG,
      email: 'a@example.com',
      role: 'admin',
      permissions: permissionSetOf('admin'),
      sessionId: 's1',
    },
    claims: {} as never,
    expiresAt: Date.now() + 600_000,
  };
  const hub = new RealtimeHub({
    guard: { verifyAccessToken: async () => verified, sessionIsLive: async () => true },
    relay: { position: 10, onEvents: (listener) => (dispatch = listener) },
    db: undefined as unknown as Kysely<DB>,
    logger: createLogger({ logLevel: 'silent' }),
    heartbeatSeconds: 3600,
    authTimeoutSeconds: 60,
    maxBufferedBytes,
    counters: {
      sent: (count) => (counted.sent += count),
      dropped: (_reason, count) => (counted.dropped += count),
    },
  });
  return { hub, counted, dispatch: (events: PublishedEvent[]) => dispatch(events) };
}

const event = (seq: number, orgId = ORG): PublishedEvent => ({
  seq,
  orgId,
  type: 'inventory:stock_updated',
  payload: { itemId: 'i1', oldStock: 2, newStock: 1 },
  createdAt: new Date(),
});

async function connected(hub: RealtimeHub) {
  const socket = new FakeSocket();
  hub.accept(
    socket as unknown as WebSocket,
    {
      log: createLogger({ logLevel: 'silent' }),
      headers: {},
    } as unknown as FastifyRequest,
  );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  socket.emit('message', Buffer.from(JSON.stringify({ type: 'auth', payload: { token: 't' } })), false);
  socket.emit(
    'message',
    Buffer.from(JSON.stringify({ type: 'subscribe', payload: { channels: ['inventory:changes'] } })),
    false,
  );
  for (let i = 0; i < 5; i++) await settle();
  return socket;
}

describe('the hub', () => {
  it('sends live events of the socket’s store once, and closes a client whose send buffer is full with 4409', async () => {
    const { hub, counted, dispatch } = hubWith(4096);
    const socket = await connected(hub);
    expect(socket.sent.map((text) => JSON.parse(text).type)).toEqual(['auth:ok', 'subscribed']);

    dispatch([event(11), event(12, '00000000-0000-4000-8000-000000000002'), event(11)]);
    const events = socket.sent.slice(2).map((text) => JSON.parse(text) as { id: number; userId: string });
    expect(events.map((sent) => sent.id)).toEqual([11]);
    expect(events[0]!.userId).toBe('u1');

    // The client stops reading: its unsent bytes reach the bound.
    socket.bufferedAmount = 4000;
    dispatch([event(13)]);
    expect(socket.closedWith).toBe(CLOSE.slowConsumer);
    expect(socket.sent).toHaveLength(3);
    expect(counted).toEqual({ sent: 3, dropped: 1 });
    socket.emit('close');
    expect(hub.size).toBe(0);
  });
});

describe('channels', () => {
  it('maps event types to channels in one table', () => {
    expect(channelOf('inventory:stock_updated', {})).toBe('inventory:changes');
    expect(channelOf('inventory:bulk_imported', {})).toBe('inventory:changes');
    expect(channelOf('alert:low_stock', {})).toBe('alerts:low_stock');
    expect(channelOf('alert:expiry_warning', {})).toBe('alerts:expiry');
    expect(channelOf('alert:resolved', { kind: 'low_stock' })).toBe('alerts:low_stock');
    expect(channelOf('alert:acknowledged', { kind: 'expiry' })).toBe('alerts:expiry');
    expect(channelOf('alert:resolved', {})).toBeUndefined();
    expect(channelOf('invoice:processed', {})).toBe('invoices:updates');
    expect(channelOf('shopping_list:item_added', {})).toBe('shopping_list:changes');
    expect(channelOf('user:login', {})).toBe('user:activity');
    expect(channelOf('purchase_order:sent', {})).toBe('purchasing:updates');
    expect(channelOf('receipt:created', {})).toBe('purchasing:updates');
    expect(channelOf('vendor:created', {})).toBe('purchasing:updates');
    expect(channelOf('constructor:x', {})).toBeUndefined();
    expect(channelOf('nothing', {})).toBeUndefined();
  });
});

describe('client messages', () => {
  it('parses the protocol and refuses anything else with a named error', () => {
    expect(
      parseClientMessage('{"type":"subscribe","payload":{"channels":["a","a"],"lastEventId":"12"}}'),
    ).toEqual({
      type: 'subscribe',
      channels: ['a'],
      lastEventId: 12,
    });
    for (const bad of [
      'nope',
      '[]',
      '{"type":"subscribe","payload":{"channels":[]}}',
      '{"type":"subscribe","payload":{"channels":["a"],"lastEventId":-1}}',
      '{"type":"auth","payload":{}}',
      '{"type":"shout"}',
    ])
      expect(() => parseClientMessage(bad), bad).toThrow(ProtocolError);
  });
});
