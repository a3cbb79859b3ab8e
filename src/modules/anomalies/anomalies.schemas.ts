import { type Static, Type } from 'typebox';
import type { AnomalySeverity, AnomalyType } from '../../platform/db/schema.ts';

/** Request and response shapes of GET /v1/ml/anomalies (the spec's AnomalyDetectionResponse, extended). */

export const ANOMALY_TYPES = [
  'demand_spike',
  'demand_drop',
  'cost_increase',
  'quality_issue',
] as const satisfies readonly AnomalyType[];
export const ANOMALY_SEVERITIES = ['low', 'medium', 'high'] as const satisfies readonly AnomalySeverity[];

export const ANOMALIES_DESCRIPTION = [
  'Stored anomalies, newest first. Detection runs nightly (job `anomalies:detect`, 01:30 store time, before the 02:00 forecast refresh, so yesterday is judged against the forecast made for it) and, when the last run is over a day old, before this answer. Each anomaly is stored once: a rerun finds nothing new.',
  '',
  '- `demand_spike` / `demand_drop`: units sold on each of the last 3 complete store days, against the stored forecast’s 95% interval when the forecast covers that day, else the same weekday’s median ± 3 scaled MADs over the 8 weeks before (at least 4 such days; the band is at least ±3·√median). A day the item was out of stock at its start or end is never a drop. Severity by the distance from the expected value: under 3 σ low, under 5 medium, else high. Once per item, kind and day.',
  '- `cost_increase`: a receipt line’s unit cost (last 7 days) above the median of the item’s 10 latest earlier receipt costs (within a year, at least 3) by more than 10%. Up to 20% low, up to 35% medium, else high. Once per receipt line.',
  '- `quality_issue`: waste marked damaged or spoiled from one vendor’s lots, as a share of the units received from that vendor, over the last 30 days, with at least 3 such waste movements, above max(5%, twice its share in the 90 days before). Under 10% low, under 25% medium, else high. Once per item, vendor and ISO week.',
  '- A `high` anomaly opens (or updates) the item’s live alert of kind `anomaly` (GET /v1/alerts, event `alert:anomaly` on the `alerts:anomalies` channel); it resolves once the item has had no high anomaly for 7 days.',
].join('\n');

export const Anomaly = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.Unsafe<AnomalyType>({ type: 'string', enum: [...ANOMALY_TYPES] }),
  itemId: Type.String({ format: 'uuid' }),
  itemName: Type.String(),
  severity: Type.Unsafe<AnomalySeverity>({ type: 'string', enum: [...ANOMALY_SEVERITIES] }),
  description: Type.String({ description: 'What was seen, against what was expected, in a sentence' }),
  detectedAt: Type.String({ format: 'date-time' }),
  suggestedActions: Type.Array(Type.String()),
  observedOn: Type.String({
    format: 'date',
    description: 'The store day it is about (sales day, receipt date)',
  }),
  vendorId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
    description: 'cost_increase and quality_issue: the vendor',
  }),
  state: Type.Unsafe<'open' | 'dismissed'>({ type: 'string', enum: ['open', 'dismissed'] }),
  alertId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
    description: 'The alert a high anomaly raised',
  }),
  details: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'The figures behind it: units sold and the band, or the cost and its median, or the waste shares',
  }),
});
export type Anomaly = Static<typeof Anomaly>;

export const AnomalyList = Type.Object({ anomalies: Type.Array(Anomaly) });

export const AnomalyListQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    type: Type.Optional(Type.Unsafe<AnomalyType>({ type: 'string', enum: [...ANOMALY_TYPES] })),
    severity: Type.Optional(Type.Unsafe<AnomalySeverity>({ type: 'string', enum: [...ANOMALY_SEVERITIES] })),
    itemId: Type.Optional(Type.String({ format: 'uuid', description: "One item's anomalies" })),
    since: Type.Optional(
      Type.String({ format: 'date-time', maxLength: 40, description: 'Detected at or after this instant' }),
    ),
  },
  { additionalProperties: false },
);
export type AnomalyListQuery = Static<typeof AnomalyListQuery>;
