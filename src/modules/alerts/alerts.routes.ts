import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import { Alert, AlertList, AlertListQuery, AlertParams } from './alerts.schemas.ts';
import type { AlertsService } from './alerts.service.ts';

export interface AlertsRoutesOptions {
  service: AlertsService;
  guard: Guard;
}

const tags = ['alerts'];

const RULES =
  'One live (open or acknowledged) alert per item and kind: a hundred sales below the threshold make one alert, whose `details` follow each change. ' +
  'Severity — low_stock: `warning` at or below the item’s reorder point (else the store’s lowStockThreshold), `critical` at or below 0; ' +
  'expiry (the earliest expiry date of a lot with stock): `info` within the store’s expiryWarningDays, `warning` today or tomorrow, `critical` already past. ' +
  'An alert resolves by itself: low_stock when stock rises above the threshold (`replenished`), expiry when no stock expiring within the window remains (`expiring_stock_gone`), either when the item is deleted (`item_deleted`). ' +
  'Stock changes keep alerts in step; the daily checks (`inventory:check_expiry` 06:00, `inventory:low_stock_check` 08:00, store time) raise what time did. ' +
  'Events: `alert:low_stock` / `alert:expiry_warning` (the spec’s payload plus `alertId`, `kind`, `severity`, `state`, and `previousSeverity` when it escalated) when an alert opens or its severity rises — an acknowledged alert whose severity rises goes back to `open` — and `alert:resolved` / `alert:acknowledged` (`alertId`, `kind`, `itemId`, `itemName`, `resolution`). Other changes of `details` write no event.';

/** /v1/alerts: the store's low-stock and expiry alerts. Reads need inventory:read, acknowledging inventory:write. */
export const alertsRoutes: FastifyPluginAsyncTypebox<AlertsRoutesOptions> = async (
  app,
  { service, guard },
) => {
  app.get(
    '',
    guard.protect('inventory:read', {
      tags,
      summary: "List the store's alerts, newest first: kind, state, severity, item, pages",
      description: `\`state\` defaults to \`live\` (open and acknowledged); \`all\` lists resolved ones too. Newest opened first. Pages are in \`meta.pagination\`. ${RULES}`,
      querystring: AlertListQuery,
      response: { 200: Envelope(AlertList) },
    }),
    async (request) => {
      const { alerts, pagination } = await service.list(authOf(request), request.query);
      return ok(request, { alerts }, pagination);
    },
  );

  app.get(
    '/:id',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: 'One alert, whatever its state',
        description: RULES,
        params: AlertParams,
        response: { 200: Envelope(Alert) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await service.get(authOf(request), request.params.id)),
  );

  app.post(
    '/:id/acknowledge',
    guard.protect(
      'inventory:write',
      {
        tags,
        summary: 'Acknowledge an alert (someone is on it)',
        description:
          'An open alert becomes `acknowledged` (with `acknowledgedAt`, `acknowledgedBy`) and `alert:acknowledged` is written. Acknowledging an acknowledged alert answers it unchanged (the first acknowledgement stands, no second event). A resolved alert → 409 `ALERT_RESOLVED`. It stays live until it resolves by itself; if its severity rises it goes back to `open`.',
        params: AlertParams,
        response: { 200: Envelope(Alert) },
      },
      { errors: [404, 409] },
    ),
    async (request) => ok(request, await service.acknowledge(authOf(request), request.params.id)),
  );
};
