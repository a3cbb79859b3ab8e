import type { Kysely } from 'kysely';
import { writeOutboxEvents } from '../../platform/db/outbox.ts';
import type { AlertKind, DB } from '../../platform/db/schema.ts';
import { withTenant, withTenantRetry } from '../../platform/db/tenant.ts';
import { paginate } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import type { AuthContext } from '../auth/guard.ts';
import * as repo from './alerts.repository.ts';
import type { AlertRules } from './alerts.repository.ts';
import type { Alert, AlertListQuery } from './alerts.schemas.ts';

/**
 * Alerts as rows: one live (open or acknowledged) alert per item and kind, kept in step with the
 * item by the stock-change path (syncItemAlerts) and by the daily checks (syncStoreAlerts), which
 * raise what the passage of time did (stock that became expiring or expired).
 */

const BOTH_KINDS: readonly AlertKind[] = ['low_stock', 'expiry'];

/**
 * Opens, updates and resolves one item's alerts of both kinds from its current totals, and writes
 * the events for those opened, escalated or resolved: one statement, in the caller's transaction.
 * The caller holds the item's row lock and has refreshed its totals (or soft-deleted it: its
 * alerts then resolve as `item_deleted`).
 */
export async function syncItemAlerts(trx: Kysely<DB>, orgId: string, itemId: string, rules: AlertRules) {
  return repo.syncAlerts(trx, orgId, rules, { kinds: BOTH_KINDS, itemIds: [itemId] });
}

/**
 * The daily checks' store-wide pass for one kind: finds the items whose alerts would change,
 * locks them (so a stock change cannot interleave; it would set their alerts itself), then sets
 * their alerts in one statement. Running it again finds nothing to change and writes nothing.
 */
export async function syncStoreAlerts(
  trx: Kysely<DB>,
  orgId: string,
  rules: AlertRules,
  kind: AlertKind,
  extra: Record<string, unknown>,
) {
  const scope = { kinds: [kind], extra };
  const pending = await repo.pendingAlertChanges(trx, orgId, rules, scope);
  if (pending.itemIds.length === 0)
    return { qualifying: pending.qualifying, opened: 0, escalated: 0, resolved: 0 };
  await repo.lockItems(trx, orgId, pending.itemIds);
  const done = await repo.syncAlerts(trx, orgId, rules, { ...scope, itemIds: pending.itemIds });
  return { qualifying: pending.qualifying, ...done };
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function toAlert(row: repo.AlertRow): Alert {
  return {
    id: row.id,
    kind: row.kind,
    severity: row.severity,
    state: row.state,
    itemId: row.item_id,
    details: row.details as Alert['details'],
    openedAt: iso(row.opened_at)!,
    updatedAt: iso(row.updated_at)!,
    acknowledgedAt: iso(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: iso(row.resolved_at),
    resolution: row.resolution,
  };
}

const alreadyResolved = (row: repo.AlertRow) =>
  new AppError(409, 'ALERT_RESOLVED', 'The alert has already resolved', {
    resolvedAt: iso(row.resolved_at),
    resolution: row.resolution,
  });

export class AlertsService {
  readonly #db: Kysely<DB>;

  constructor(db: Kysely<DB>) {
    this.#db = db;
  }

  async list(auth: AuthContext, query: AlertListQuery) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { rows, total } = await repo.listAlerts(trx, auth.orgId, query);
      return { alerts: rows.map(toAlert), pagination: paginate(query.page, query.limit, total) };
    });
  }

  async get(auth: AuthContext, id: string): Promise<Alert> {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const row = await repo.findAlert(trx, auth.orgId, id);
      if (!row) throw errors.notFound('Alert');
      return toAlert(row);
    });
  }

  /**
   * Open → acknowledged, with `alert:acknowledged`. Acknowledging an acknowledged alert answers it
   * unchanged (the first acknowledgement stands, no second event); a resolved one is a 409.
   */
  async acknowledge(auth: AuthContext, id: string): Promise<Alert> {
    return withTenantRetry(this.#db, auth.orgId, async (trx) => {
      const updated = await repo.acknowledgeOpen(trx, auth.orgId, id, auth.userId);
      if (updated) {
        const details = updated.details as { itemName?: string };
        await writeOutboxEvents(trx, auth.orgId, [
          {
            type: 'alert:acknowledged',
            payload: {
              alertId: updated.id,
              kind: updated.kind,
              itemId: updated.item_id,
              itemName: details.itemName ?? null,
              acknowledgedBy: auth.userId,
            },
          },
        ]);
        return toAlert(updated);
      }
      const row = await repo.findAlert(trx, auth.orgId, id);
      if (!row) throw errors.notFound('Alert');
      if (row.state === 'resolved') throw alreadyResolved(row);
      return toAlert(row);
    });
  }
}
