import { sql } from 'kysely';
import { createForecaster } from '../src/modules/forecasting/forecaster.ts';
import { ForecastingService } from '../src/modules/forecasting/forecasting.service.ts';
import { addDays, todayIn } from '../src/modules/inventory/inventory.service.ts';
import { DEFAULT_SETTINGS } from '../src/modules/settings/settings.schemas.ts';
import { StoreSettings } from '../src/modules/settings/store-settings.ts';
import { createMemoryCache } from '../src/platform/cache/cache.ts';
import { createDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';

/**
 * The nightly forecast refresh (forecast:update_predictions' work, without the queue around it)
 * for a store of `items` items with `days` days of daily sales each, in a database of its own on
 * PostgreSQL. The history is generated in SQL: a weekly pattern, a yearly swing, a trend and
 * Poisson-like noise, a fifth of the items slow movers that sell on few days, and one day in
 * fifty a stock-out (censored). Timed from the first page read to the last forecast stored;
 * peak RSS sampled every 100 ms (the engine's worker threads are in this process).
 */
export interface ForecastingReport {
  items: number;
  historyDays: number;
  threads: number;
  seconds: number;
  itemsPerSecond: number;
  peakRssMb: number;
  /** CPU seconds this process spent (main thread and the engine's workers): on a shared machine,
   * items per CPU second says more than the wall clock. */
  cpuSeconds: number;
  /** How many items each method was chosen for. */
  methods: Record<string, number>;
  ledgerRows: number;
}

interface Options {
  databaseUrl: string;
  items: number;
  days: number;
  threads: number;
  log: (line: string) => void;
}

export async function runForecastingBench(options: Options): Promise<ForecastingReport> {
  const admin = await createDatabase({ url: options.databaseUrl, poolMax: 1 });
  const name = `fresh_choice_bench_forecast_${Date.now()}`;
  await admin.withSession((session) => session.exec(`create database "${name}"`));
  const url = new URL(options.databaseUrl);
  url.pathname = `/${name}`;
  const database = await createDatabase({ url: url.toString(), poolMax: 4 });
  const forecaster = createForecaster(options.threads);
  try {
    await migrate(database);
    const db = database.db;
    const org = await db
      .insertInto('organizations')
      .values({ name: 'Forecast bench', settings: JSON.stringify(DEFAULT_SETTINGS) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const orgId = org.id;
    const through = addDays(todayIn('UTC'), -1);
    options.log(`forecasting: ${options.items} items × ${options.days} days of sales…`);
    await sql`
      insert into inventory_items (org_id, description, category, remaining_stock, shelf_life_days)
      select ${orgId}, 'Bench item ' || n, 'Category ' || (n % 40), 1000000, case when n % 5 = 0 then 3 else null end
        from generate_series(1, ${options.items}) n`.execute(db);
    // One sale a day per item (none on a slow mover's quiet days); a stock-out day leaves 0.
    const seeded = performance.now();
    const { numAffectedRows } = await sql`
      insert into stock_movements (org_id, item_id, type, reason, quantity, stock_before, stock_after, occurred_at)
      select ${orgId}, i.id, 'sale', 'sale', -d.qty, 1000000, case when d.stockout then 0 else 1000000 - d.qty end,
             (${through}::date - g.back)::timestamp + interval '12 hours'
        from (select id, row_number() over (order by id) as n from inventory_items where org_id = ${orgId}) i
        cross join generate_series(0, ${options.days - 1}) g(back)
        cross join lateral (
          select greatest(1, round(
                   (case when i.n % 5 = 0 then 0.6 else 4 + (i.n % 37) end)
                   * (1 + 0.5 * (extract(isodow from ${through}::date - g.back) in (5, 6))::int)
                   * (1 + 0.2 * sin(2 * pi() * (${through}::date - g.back - date '2000-01-01') / 365.25))
                   * (1 + 0.0003 * (${options.days} - g.back))
                   * (0.6 + 0.8 * random())))::numeric as qty,
                 random() < 0.02 as stockout,
                 i.n % 5 = 0 and random() < 0.7 as quiet
        ) d
       where not d.quiet`.execute(db);
    const ledgerRows = Number(numAffectedRows ?? 0);
    await sql`analyze stock_movements`.execute(db);
    options.log(
      `forecasting: ${ledgerRows} ledger rows in ${Math.round((performance.now() - seeded) / 1000)} s; refreshing…`,
    );

    const service = new ForecastingService(db, new StoreSettings(createMemoryCache()), forecaster);
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    const cpuBefore = process.cpuUsage();
    const began = performance.now();
    let lastLog = began;
    const result = await service.refreshStore(orgId, async (done, total) => {
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        options.log(`forecasting: ${done}/${total} after ${Math.round((lastLog - began) / 1000)} s`);
      }
    });
    const seconds = (performance.now() - began) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    if (result.computed !== options.items) throw new Error(`computed ${result.computed} of ${options.items}`);
    const { rows } = await sql<{ method: string; count: number }>`
      select method, count(*)::int as count from item_forecasts where org_id = ${orgId} group by method`.execute(
      db,
    );
    return {
      items: options.items,
      historyDays: options.days,
      threads: options.threads,
      seconds: Math.round(seconds * 10) / 10,
      itemsPerSecond: Math.round(options.items / seconds),
      peakRssMb: Math.round(peakRss / 1_048_576),
      cpuSeconds: Math.round((cpu.user + cpu.system) / 100_000) / 10,
      methods: Object.fromEntries(rows.map((row) => [row.method, row.count])),
      ledgerRows,
    };
  } finally {
    await forecaster.close();
    await database.close();
    await admin.withSession((session) => session.exec(`drop database if exists "${name}" with (force)`));
    await admin.close();
  }
}

// `node bench/forecasting.ts` runs this section alone (DATABASE_URL required).
if (import.meta.main) {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL (PostgreSQL) is required');
  const report = await runForecastingBench({
    databaseUrl,
    items: Number(process.env.BENCH_FORECAST_ITEMS ?? 10_000),
    days: Number(process.env.BENCH_FORECAST_DAYS ?? 730),
    threads: Number(process.env.FORECAST_THREADS ?? 2),
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
