import type { AuthContext } from '../auth/guard.ts';
import type { Permission } from '../auth/permissions.ts';

/**
 * The spec's SubscriptionType, plus `purchasing:updates` (purchase orders, receipts, vendors: an
 * extension). Each channel names who may read it.
 */
export const CHANNELS = {
  'inventory:changes': { permission: 'inventory:read' },
  'alerts:low_stock': { permission: 'inventory:read' },
  'alerts:expiry': { permission: 'inventory:read' },
  // An extension: high anomalies (GET /v1/ml/anomalies) as alerts of kind `anomaly`.
  'alerts:anomalies': { permission: 'reports:view' },
  'invoices:updates': { permission: 'invoice:process' },
  'shopping_list:changes': { permission: 'inventory:read' },
  // Who did what in the store: the admin's, as the audit trail is.
  'user:activity': { permission: 'users:manage' },
  'purchasing:updates': { permission: 'inventory:read' },
} as const satisfies Record<string, { permission: Permission }>;

export type Channel = keyof typeof CHANNELS;

export const CHANNEL_NAMES = Object.keys(CHANNELS) as Channel[];

export function isChannel(name: string): name is Channel {
  return Object.hasOwn(CHANNELS, name);
}

export function mayRead(auth: Pick<AuthContext, 'permissions'>, channel: Channel): boolean {
  return auth.permissions.has(CHANNELS[channel].permission);
}

/** Event type prefixes (before the first ':') and the channel their events go to. */
const BY_PREFIX: Record<string, Channel> = {
  inventory: 'inventory:changes',
  invoice: 'invoices:updates',
  shopping_list: 'shopping_list:changes',
  user: 'user:activity',
  purchase_order: 'purchasing:updates',
  receipt: 'purchasing:updates',
  vendor: 'purchasing:updates',
};

/** Alert events by their own type, else by `payload.kind` (alert:resolved, alert:acknowledged, …). */
const ALERT_TYPES: Record<string, Channel> = {
  'alert:low_stock': 'alerts:low_stock',
  'alert:expiry_warning': 'alerts:expiry',
  'alert:anomaly': 'alerts:anomalies',
};
const ALERT_KINDS: Record<string, Channel> = {
  low_stock: 'alerts:low_stock',
  expiry: 'alerts:expiry',
  anomaly: 'alerts:anomalies',
};

/**
 * The one table from event type to channel. Undefined: the event goes to no channel (it is never
 * sent over the WebSocket).
 */
export function channelOf(type: string, payload: Record<string, unknown>): Channel | undefined {
  const colon = type.indexOf(':');
  if (colon <= 0) return undefined;
  const prefix = type.slice(0, colon);
  if (prefix === 'alert') {
    const byType = ALERT_TYPES[type];
    if (byType) return byType;
    const kind = payload.kind;
    return typeof kind === 'string' && Object.hasOwn(ALERT_KINDS, kind) ? ALERT_KINDS[kind] : undefined;
  }
  return Object.hasOwn(BY_PREFIX, prefix) ? BY_PREFIX[prefix] : undefined;
}
