import { Type } from 'typebox';
import type { JobQueue } from '../../platform/queue/queue.ts';
import type { ForecastingService } from './forecasting.service.ts';

/**
 * forecast:update_predictions (the spec's daily task, 02:00 in the store's zone): every item's
 * forecast from yesterday's history, its backtest and its reorder policy, stored in
 * item_forecasts a page at a time with progress. Items whose stored forecast was made from the
 * same history, promotions and settings are skipped, so a retry after a crash carries on where
 * it stopped and a second run the same night computes nothing (`force` recomputes all).
 *
 * forecast:calculate (the spec's FORECAST_CALCULATION): the same for named items, now.
 */
export function defineForecastJobs(queue: JobQueue, service: ForecastingService): void {
  queue.define<{ force?: boolean }>({
    type: 'forecast:update_predictions',
    description: "Refresh every item's demand forecast and reorder policy from the ledger",
    startPermission: 'inventory:write',
    payloadSchema: Type.Object(
      {
        force: Type.Optional(
          Type.Boolean({ description: 'Recompute items whose history has not changed too' }),
        ),
      },
      { additionalProperties: false },
    ),
    defaultSchedule: { name: 'Update Sales Forecasts', cron: '0 2 * * *' },
    // 10,000 items take minutes; a retry continues where the failed attempt stopped.
    expireInSeconds: 3 * 3600,
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new Error(`${job.type} needs a store`);
      return service.refreshStore(orgId, (done, total) => job.progress(total ? (100 * done) / total : 100), {
        force: job.payload.force ?? false,
      });
    },
  });

  queue.define<{ itemIds: string[] }>({
    type: 'forecast:calculate',
    description: 'Forecast the named items now and store their forecasts and reorder policies',
    startPermission: 'inventory:write',
    payloadSchema: Type.Object(
      {
        itemIds: Type.Array(Type.String({ format: 'uuid' }), {
          minItems: 1,
          maxItems: 1000,
          uniqueItems: true,
        }),
      },
      { additionalProperties: false },
    ),
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new Error(`${job.type} needs a store`);
      return service.refreshItems(orgId, job.payload.itemIds);
    },
  });
}
