import type { Kysely } from 'kysely';
import { writeOutboxEvents } from '../../platform/db/outbox.ts';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant, withTenantRetry } from '../../platform/db/tenant.ts';
import { paginate } from '../../platform/http/envelope.ts';
import type { AuthContext } from '../auth/guard.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import * as repo from './anomalies.repository.ts';
import type { Anomaly, AnomalyListQuery } from './anomalies.schemas.ts';
import {
  describeCost,
  describeDemand,
  describeQuality,
  judgeCost,
  judgeDemand,
  judgeQuality,
} from './detectors.ts';

/** Complete sales days judged on each run: yesterday and the two before (a missed night is caught up). */
export const DEMAND_DAYS = 3;
/** Receipts judged on each run: those dated in the last 7 days (the dedupe key keeps each once). */
export const COST_DAYS = 7;
/** An `anomaly` alert resolves once its item has had no high anomaly for this many days. */
export const ANOMALY_ALERT_DAYS = 7;
/** GET runs detection first when the store's last run is older than this. */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

const day = (value: string | Date) =>
  typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);
const nullableNumber = (value: string | null) => (value === null ? null : Number(value));

/** ISO week of a date, as 2026-W05: quality anomalies are kept once per item, vendor and week. */
export function isoWeek(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export interface DetectionSummary {
  today: string;
  found: number;
  stored: number;
  alertsOpened: number;
  alertsResolved: number;
}

/**
 * One detection pass over a store, in the caller's tenant transaction: gathers the figures, lets
 * the detectors judge them, stores the anomalies not stored before, opens or updates an `anomaly`
 * alert for each new high one (its event `alert:anomaly` on the alert channel) and resolves the
 * alerts of items quiet for ANOMALY_ALERT_DAYS. A rerun finds the same keys and stores nothing.
 */
export async function detectAnomalies(
  trx: Kysely<DB>,
  orgId: string,
  timeZone: string,
  extra: Record<string, unknown> = {},
): Promise<DetectionSummary> {
  const today = todayIn(timeZone);
  const found: repo.NewAnomaly[] = [];
  const itemNames = new Map<string, string>();

  for (const row of await repo.demandDays(
    trx,
    orgId,
    addDays(today, -DEMAND_DAYS),
    addDays(today, -1),
    timeZone,
  )) {
    const stockStart = nullableNumber(row.stock_start) ?? 0;
    const stockEnd = nullableNumber(row.stock_end) ?? 0;
    const sold = Number(row.sold);
    const verdict = judgeDemand({
      sold,
      stockOut: stockStart <= 0 || stockEnd <= 0,
      forecast: row.forecast ?? undefined,
      sameWeekday: row.same_weekday.map(Number),
    });
    if (!verdict) continue;
    const date = day(row.day);
    itemNames.set(row.item_id, row.description);
    found.push({
      itemId: row.item_id,
      type: verdict.type,
      severity: verdict.severity,
      dedupeKey: date,
      observedOn: date,
      vendorId: null,
      ...describeDemand(row.description, date, sold, verdict),
      details: { sold, ...verdict },
    });
  }

  for (const row of await repo.receiptCosts(trx, orgId, addDays(today, -COST_DAYS))) {
    const unitCost = Number(row.unit_cost);
    const verdict = judgeCost(unitCost, row.earlier_costs.map(Number));
    if (!verdict) continue;
    itemNames.set(row.item_id, row.description);
    found.push({
      itemId: row.item_id,
      type: 'cost_increase',
      severity: verdict.severity,
      dedupeKey: `receipt_line:${row.receipt_line_id}`,
      observedOn: day(row.received_date),
      vendorId: row.vendor_id,
      ...describeCost(row.description, row.vendor_name, unitCost, verdict),
      details: { receiptLineId: row.receipt_line_id, unitCost, ...verdict },
    });
  }

  for (const row of await repo.qualityFigures(trx, orgId, today, timeZone)) {
    const figures = {
      recentWaste: Number(row.recent_waste),
      recentEvents: Number(row.recent_events),
      recentReceived: Number(row.recent_received),
      earlierWaste: Number(row.earlier_waste),
      earlierReceived: Number(row.earlier_received),
    };
    const verdict = judgeQuality(figures);
    if (!verdict) continue;
    itemNames.set(row.item_id, row.description);
    found.push({
      itemId: row.item_id,
      type: 'quality_issue',
      severity: verdict.severity,
      dedupeKey: `vendor:${row.vendor_id}:${isoWeek(today)}`,
      observedOn: today,
      vendorId: row.vendor_id,
      ...describeQuality(row.description, row.vendor_name, verdict),
      details: { ...figures, ...verdict },
    });
  }

  const stored = await repo.storeAnomalies(trx, orgId, found);
  const high = stored.filter((anomaly) => anomaly.severity === 'high');
  const stock = await repo.itemStock(
    trx,
    orgId,
    high.map((anomaly) => anomaly.item_id),
  );
  let alertsOpened = 0;
  const events = [];
  for (const anomaly of high) {
    const details = {
      itemId: anomaly.item_id,
      itemName: itemNames.get(anomaly.item_id) ?? '',
      currentStock: stock.get(anomaly.item_id) ?? 0,
      anomalyId: anomaly.id,
      anomalyType: anomaly.type,
      description: anomaly.description,
    };
    const alert = await repo.raiseAnomalyAlert(trx, orgId, anomaly, details);
    if (alert.opened) alertsOpened++;
    events.push({
      type: 'alert:anomaly',
      payload: {
        ...details,
        alertId: alert.id,
        kind: 'anomaly',
        severity: 'critical',
        state: alert.state,
        ...extra,
      },
    });
  }
  const resolved = await repo.resolveQuietAnomalyAlerts(
    trx,
    orgId,
    new Date(Date.now() - ANOMALY_ALERT_DAYS * 86_400_000),
  );
  for (const alert of resolved)
    events.push({
      type: 'alert:resolved',
      payload: {
        alertId: alert.id,
        kind: 'anomaly',
        itemId: alert.item_id,
        itemName: alert.details.itemName ?? null,
        resolution: 'anomaly_passed',
        ...extra,
      },
    });
  if (events.length > 0) await writeOutboxEvents(trx, orgId, events);
  const summary = {
    today,
    found: found.length,
    stored: stored.length,
    alertsOpened,
    alertsResolved: resolved.length,
  };
  await repo.recordRun(trx, orgId, summary);
  return summary;
}

function toAnomaly(row: Awaited<ReturnType<typeof repo.listAnomalies>>['rows'][number]): Anomaly {
  return {
    id: row.id,
    type: row.type,
    itemId: row.item_id,
    itemName: row.item_name,
    severity: row.severity,
    description: row.description,
    detectedAt: new Date(row.detected_at).toISOString(),
    suggestedActions: row.suggested_actions,
    observedOn: day(row.observed_on),
    vendorId: row.vendor_id,
    state: row.state,
    alertId: row.alert_id,
    details: row.details,
  };
}

export class AnomaliesService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;

  constructor(db: Kysely<DB>, settings: StoreSettings) {
    this.#db = db;
    this.#settings = settings;
  }

  /** Stored anomalies, newest first; detection runs first when the store's last run is over a day old. */
  async list(auth: AuthContext, query: AnomalyListQuery) {
    const last = await withTenant(this.#db, auth.orgId, (trx) => repo.lastRun(trx, auth.orgId));
    if (!last || Date.now() - last.getTime() > STALE_AFTER_MS) {
      await withTenantRetry(this.#db, auth.orgId, async (trx) => {
        const settings = await this.#settings.read(trx, auth.orgId);
        return detectAnomalies(trx, auth.orgId, settings.timeZone, { source: 'request' });
      });
    }
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { rows, total } = await repo.listAnomalies(trx, auth.orgId, query);
      return { anomalies: rows.map(toAnomaly), pagination: paginate(query.page, query.limit, total) };
    });
  }
}
