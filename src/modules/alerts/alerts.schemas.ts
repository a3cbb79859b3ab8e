import { type Static, Type } from 'typebox';
import type { AlertKind, AlertSeverity, AlertState } from '../../platform/db/schema.ts';

/** Request and response shapes of /v1/alerts. */

export const ALERT_KINDS = ['low_stock', 'expiry', 'anomaly'] as const satisfies readonly AlertKind[];
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const satisfies readonly AlertSeverity[];
export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const satisfies readonly AlertState[];

const nullable = (type: 'string' | 'number', extra: Record<string, unknown> = {}) =>
  Type.Unsafe<string | null>({ type: [type, 'null'], ...extra });

/**
 * What the alert says now: the spec's LowStockAlert payload (`threshold`, `category`, `location`)
 * or ExpiryWarning payload (`expiryDate`, `daysUntilExpiry`), kept up to date as stock changes.
 */
export const AlertDetails = Type.Object({
  itemId: Type.String({ format: 'uuid' }),
  itemName: Type.String(),
  currentStock: Type.Number({ description: "The item's stock (all lots)" }),
  threshold: Type.Optional(
    Type.Number({ description: "low_stock: the item's reorder point, else the store's lowStockThreshold" }),
  ),
  category: Type.Optional(nullable('string', { description: 'low_stock' })),
  location: Type.Optional(nullable('string', { description: 'low_stock' })),
  expiryDate: Type.Optional(
    Type.String({ format: 'date', description: 'expiry: the earliest expiry date of a lot with stock' }),
  ),
  daysUntilExpiry: Type.Optional(
    Type.Integer({ description: "expiry: from the store's today; negative when already expired" }),
  ),
  anomalyId: Type.Optional(Type.String({ format: 'uuid', description: 'anomaly: the latest high anomaly' })),
  anomalyType: Type.Optional(Type.String({ description: 'anomaly: its type (GET /v1/ml/anomalies)' })),
  description: Type.Optional(Type.String({ description: 'anomaly: what was seen' })),
});

export const Alert = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.Unsafe<AlertKind>({ type: 'string', enum: [...ALERT_KINDS] }),
  severity: Type.Unsafe<AlertSeverity>({ type: 'string', enum: [...ALERT_SEVERITIES] }),
  state: Type.Unsafe<AlertState>({ type: 'string', enum: [...ALERT_STATES] }),
  itemId: Type.String({ format: 'uuid' }),
  details: AlertDetails,
  openedAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time', description: 'Last change of severity, details or state' }),
  acknowledgedAt: nullable('string', { format: 'date-time' }),
  acknowledgedBy: nullable('string', { format: 'uuid', description: 'The user who acknowledged it' }),
  resolvedAt: nullable('string', { format: 'date-time' }),
  resolution: nullable('string', {
    description: 'Why it resolved: `replenished`, `expiring_stock_gone`, `item_deleted` or `anomaly_passed`',
  }),
});
export type Alert = Static<typeof Alert>;

export const AlertList = Type.Object({ alerts: Type.Array(Alert) });

export const AlertListQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    kind: Type.Optional(Type.Unsafe<AlertKind>({ type: 'string', enum: [...ALERT_KINDS] })),
    state: Type.Unsafe<AlertState | 'live' | 'all'>({
      type: 'string',
      enum: ['live', ...ALERT_STATES, 'all'],
      default: 'live',
      description: 'live (default): open and acknowledged; all: every state',
    }),
    severity: Type.Optional(Type.Unsafe<AlertSeverity>({ type: 'string', enum: [...ALERT_SEVERITIES] })),
    itemId: Type.Optional(Type.String({ format: 'uuid', description: "One item's alerts" })),
  },
  { additionalProperties: false },
);
export type AlertListQuery = Static<typeof AlertListQuery>;

export const AlertParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
