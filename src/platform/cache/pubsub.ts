import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

/**
 * Fan-out between instances. In-process it is an EventEmitter (one instance hears itself);
 * with Redis every instance subscribed to a channel hears every publish.
 */
export interface PubSub {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is live; the returned function unsubscribes. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const CHANNEL_PREFIX = 'fc:';

export function createMemoryPubSub(): PubSub {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    kind: 'memory',
    async publish(channel, message) {
      emitter.emit(channel, message);
    },
    async subscribe(channel, handler) {
      emitter.on(channel, handler);
      return async () => {
        emitter.off(channel, handler);
      };
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/** `publisher` is the shared client; a subscriber needs a connection of its own. */
export function createRedisPubSub(publisher: Redis, logger: Logger): PubSub {
  const subscriber = publisher.duplicate({
    enableOfflineQueue: true,
    connectionName: 'fresh-choice:subscriber',
  });
  // Without a listener ioredis prints every failed reconnect; the main client already logs the outage.
  subscriber.on('error', (error) => logger.debug({ err: error }, 'Redis subscriber connection error'));
  const handlers = new Map<string, Set<(message: string) => void>>();
  subscriber.on('message', (prefixed: string, message: string) => {
    for (const handler of handlers.get(prefixed.slice(CHANNEL_PREFIX.length)) ?? []) handler(message);
  });
  return {
    kind: 'redis',
    async publish(channel, message) {
      await publisher.publish(CHANNEL_PREFIX + channel, message);
    },
    async subscribe(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await subscriber.subscribe(CHANNEL_PREFIX + channel);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(channel);
          await subscriber.unsubscribe(CHANNEL_PREFIX + channel);
        }
      };
    },
    async close() {
      handlers.clear();
      subscriber.disconnect();
    },
  };
}
