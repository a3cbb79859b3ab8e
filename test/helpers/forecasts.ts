import type { Kysely } from 'kysely';
import type { DB, StoredForecastPoint } from '../../src/platform/db/schema.ts';

/**
 * item_forecasts rows written straight into the table (migration 0027), as the owner, the way the
 * nightly forecast:update_predictions job stores them: one row per item, `points` the daily
 * forecast from the day after `historyThrough`, each with its 80% and 95% intervals from a
 * normal σ. For tests of modules that read stored forecasts without running the job.
 */
export function forecastPoints(
  from: string,
  days: ReadonlyArray<{ mean: number; sd: number }>,
): StoredForecastPoint[] {
  return days.map(({ mean, sd }, index) => {
    const date = new Date(`${from}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() + index);
    const band = (z: number) => [Math.max(0, mean - z * sd), mean + z * sd] as const;
    const [lo80, hi80] = band(1.2816);
    const [lo95, hi95] = band(1.96);
    return { date: date.toISOString().slice(0, 10), mean, sd, lo80, hi80, lo95, hi95, factors: [] };
  });
}

export async function insertForecast(
  db: Kysely<DB>,
  orgId: string,
  itemId: string,
  forecast: {
    /** The last day of history: the points start the day after. */
    historyThrough: string;
    /** Daily mean and σ from the day after historyThrough. */
    days: ReadonlyArray<{ mean: number; sd: number }>;
    method?: string;
  },
) {
  const start = new Date(`${forecast.historyThrough}T00:00:00Z`);
  start.setUTCDate(start.getUTCDate() + 1);
  const points = forecastPoints(start.toISOString().slice(0, 10), forecast.days);
  await db
    .insertInto('item_forecasts')
    .values({
      org_id: orgId,
      item_id: itemId,
      history_through: forecast.historyThrough,
      history_days: 90,
      history_fingerprint: 'test',
      method: forecast.method ?? 'test',
      method_reason: 'Written by a test',
      insufficient_history: false,
      horizon: points.length,
      points: JSON.stringify(points),
      accuracy: null,
      candidates: JSON.stringify([]),
      reorder_policy: null,
    })
    .onConflict((conflict) =>
      conflict.columns(['org_id', 'item_id']).doUpdateSet((eb) => ({
        history_through: eb.ref('excluded.history_through'),
        points: eb.ref('excluded.points'),
        horizon: eb.ref('excluded.horizon'),
      })),
    )
    .execute();
}

/** `count` days of the same mean and σ. */
export const steady = (mean: number, sd: number, count = 28) =>
  Array.from({ length: count }, () => ({ mean, sd }));
