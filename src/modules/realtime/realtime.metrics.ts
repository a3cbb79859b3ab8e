import { Counter, Gauge, type Registry } from 'prom-client';
import type { RealtimeCounters } from './hub.ts';

/**
 * `ws_connections` (open sockets of this instance, read when scraped), `ws_messages_sent_total`
 * and `ws_messages_dropped_total{reason}` (slow_consumer: the send buffer was full and the
 * socket is closed; closed: the socket was closing).
 */
export function registerRealtimeMetrics(registry: Registry, connections: () => number): RealtimeCounters {
  new Gauge({
    name: 'ws_connections',
    help: 'Open WebSocket connections on this instance',
    registers: [registry],
    collect() {
      this.set(connections());
    },
  });
  const sent = new Counter({
    name: 'ws_messages_sent_total',
    help: 'WebSocket messages sent by this instance (events and control messages)',
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'ws_messages_dropped_total',
    help: 'WebSocket messages not sent, by reason (slow_consumer: send buffer full; closed: socket closing)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    sent: (count) => sent.inc(count),
    dropped: (reason, count) => dropped.inc({ reason }, count),
  };
}
