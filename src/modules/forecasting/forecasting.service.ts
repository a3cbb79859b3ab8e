import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, StoredForecastPoint } from '../../platform/db/schema.ts';
import { type Executor, withTenant } from '../../platform/db/tenant.ts';
import { errors } from '../../platform/http/errors.ts';
import type { AuthContext } from '../auth/guard.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import type { Settings } from '../settings/settings.schemas.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import type { ForecastOptions, SeriesForecast, SeriesInput } from './engine/types.ts';
import {
  type ForecastItem,
  forecastItems,
  ledgerDays,
  ledgerSummaries,
  type PromotionRow,
  promotionsOverlapping,
  saveForecasts,
  type StoredForecast,
  storedForecasts,
} from './forecasting.repository.ts';
import { PERIOD_LIMITS } from './forecasting.schemas.ts';
import { demandHistory } from './history.ts';
import { publicHolidays } from './holidays.ts';
import { demandOver, type ReorderPolicy, reorderPolicy } from './policy.ts';

/** Runs the engine: in worker threads (engine/pool.ts) or in-process. */
export interface Forecaster {
  forecast(input: SeriesInput, options: ForecastOptions): Promise<SeriesForecast>;
}

/** Two years: enough for a yearly season to show twice. */
export const HISTORY_DAYS = 730;
/** What the nightly job stores: four weeks, more than any lead time plus review period in practice. */
export const STORED_HORIZON = 28;
/** Items one request may forecast live; more must come from the stored forecasts. */
export const LIVE_ITEM_LIMIT = 200;

export interface ForecastRequest {
  itemIds?: string[];
  categories?: string[];
  horizon: number;
  includeSeasonality: boolean;
  includePromotions: boolean;
}

export type PeriodKind = 'week' | 'month' | 'quarter';

const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** A forecast made for one item, with what it was made from. */
interface ComputedForecast {
  item: ForecastItem;
  forecast: SeriesForecast;
  historyThrough: string;
  historyDays: number;
  censoredDays: number;
  fingerprint: string;
}

export class ForecastingService {
  readonly #db: Kysely<DB>;
  readonly #settings: StoreSettings;
  readonly #forecaster: Forecaster;

  constructor(db: Kysely<DB>, settings: StoreSettings, forecaster: Forecaster) {
    this.#db = db;
    this.#settings = settings;
    this.#forecaster = forecaster;
  }

  /** POST /v1/ml/forecast/demand: daily forecasts for items or categories. */
  async forecastDemand(auth: AuthContext, request: ForecastRequest) {
    if (!request.itemIds?.length && !request.categories?.length) {
      throw errors.validation('Name the items or the categories to forecast', [
        { field: 'itemIds', message: 'give itemIds or categories' },
      ]);
    }
    const { items, settings, through } = await withTenant(this.#db, auth.orgId, async (trx) => {
      const settings = await this.#settings.read(trx, auth.orgId);
      const items = await forecastItems(
        trx,
        auth.orgId,
        { itemIds: request.itemIds, categories: request.categories },
        LIVE_ITEM_LIMIT + 1,
      );
      return { items, settings, through: addDays(todayIn(settings.timeZone), -1) };
    });
    if (request.itemIds) {
      const found = new Set(items.map((item) => item.id));
      const missing = request.itemIds.filter((id) => !found.has(id));
      if (missing.length) throw errors.notFound(`Item ${missing[0]}`);
    }
    if (items.length > LIVE_ITEM_LIMIT) {
      throw errors.unprocessable(
        `More than ${LIVE_ITEM_LIMIT} items match: narrow the request, or read the nightly forecasts one item at a time`,
        [{ field: request.itemIds ? 'itemIds' : 'categories', message: `at most ${LIVE_ITEM_LIMIT} items` }],
      );
    }
    const computed = await this.#compute(auth.orgId, items, settings, through, request);
    return {
      forecasts: computed.map(({ item, forecast, historyDays, censoredDays }) => ({
        itemId: item.id,
        itemName: item.name,
        ...describeForecast(forecast, historyDays, censoredDays),
      })),
    };
  }

  /** GET /v1/ml/forecast/:itemId: the stored forecast, made now when the item has none yet. */
  async storedForecast(auth: AuthContext, itemId: string) {
    const { item, stored, settings } = await withTenant(this.#db, auth.orgId, async (trx) => {
      const [item] = await forecastItems(trx, auth.orgId, { itemIds: [itemId] }, 1);
      if (!item) throw errors.notFound('Item');
      const settings = await this.#settings.read(trx, auth.orgId);
      return { item, settings, stored: (await storedForecasts(trx, auth.orgId, [itemId])).get(itemId) };
    });
    const forecast = stored ?? (await this.#refreshItems(auth.orgId, [item], settings))[0]!;
    return presentStored(item, forecast);
  }

  /** The stored reorder policy of an item, or null before its first forecast. */
  async reorderPolicyOf(trx: Executor, orgId: string, itemId: string) {
    return (await storedForecasts(trx, orgId, [itemId])).get(itemId)?.reorderPolicy ?? null;
  }

  /**
   * GET /v1/inventory/forecasting: the daily forecasts summed per calendar week (Monday first),
   * month or quarter, the first period starting today (so it may be a part period: `from` says).
   * The sum's interval takes the days' errors as independent (√Σσ²).
   */
  async periodForecast(
    auth: AuthContext,
    query: { itemId?: string; category?: string; period: PeriodKind; horizon: number },
  ) {
    if ((query.itemId === undefined) === (query.category === undefined)) {
      throw errors.validation('Give an itemId or a category', [
        { field: 'itemId', message: 'give exactly one of itemId and category' },
      ]);
    }
    if (query.horizon > PERIOD_LIMITS[query.period]) {
      throw errors.validation(`At most ${PERIOD_LIMITS[query.period]} ${query.period}s ahead`, [
        { field: 'horizon', message: `must be at most ${PERIOD_LIMITS[query.period]} for ${query.period}` },
      ]);
    }
    const { items, settings, today } = await withTenant(this.#db, auth.orgId, async (trx) => {
      const settings = await this.#settings.read(trx, auth.orgId);
      const items = await forecastItems(
        trx,
        auth.orgId,
        query.itemId ? { itemIds: [query.itemId] } : { categories: [query.category!] },
        LIVE_ITEM_LIMIT + 1,
      );
      return { items, settings, today: todayIn(settings.timeZone) };
    });
    if (query.itemId && items.length === 0) throw errors.notFound('Item');
    if (items.length > LIVE_ITEM_LIMIT) {
      throw errors.unprocessable(
        `The category has more than ${LIVE_ITEM_LIMIT} items: ask for them one at a time`,
      );
    }
    const periods = calendarPeriods(today, query.period, query.horizon);
    const horizon = periods.length ? addDaysCount(today, periods.at(-1)!.to) + 1 : 0;
    const computed = await this.#compute(auth.orgId, items, settings, addDays(today, -1), {
      horizon,
      includeSeasonality: true,
      includePromotions: true,
    });
    return {
      forecasts: computed.map(({ item, forecast }) => ({
        itemId: item.id,
        itemName: item.name,
        method: forecast.method,
        predictions: periods.map((period) => summedPeriod(period, forecast.points)),
      })),
    };
  }

  /**
   * The nightly refresh of one store: every item, a page at a time, each page read, forecast
   * and written on its own (no transaction open while the engine works). An item whose stored
   * forecast was made from the same history, settings and promotions is skipped, so a rerun
   * after a crash continues where it stopped.
   */
  async refreshStore(
    orgId: string,
    onProgress: (done: number, total: number) => Promise<void>,
    options: { force?: boolean; pageSize?: number } = {},
  ) {
    const pageSize = options.pageSize ?? 100;
    const { total, settings } = await withTenant(this.#db, orgId, async (trx) => ({
      settings: await this.#settings.read(trx, orgId),
      total: Number(
        (
          await trx
            .selectFrom('inventory_items')
            .select((eb) => eb.fn.countAll<string>().as('count'))
            .where('org_id', '=', orgId)
            .where('deleted_at', 'is', null)
            .executeTakeFirstOrThrow()
        ).count,
      ),
    }));
    let afterId: string | undefined;
    let seen = 0;
    let computed = 0;
    for (;;) {
      const page = await withTenant(this.#db, orgId, (trx) =>
        forecastItems(trx, orgId, { afterId: afterId ?? '00000000-0000-0000-0000-000000000000' }, pageSize),
      );
      if (page.length === 0) break;
      afterId = page.at(-1)!.id;
      computed += (await this.#refreshItems(orgId, page, settings, options.force)).filter(Boolean).length;
      seen += page.length;
      await onProgress(seen, total);
    }
    return { items: seen, computed, skipped: seen - computed };
  }

  /** forecast:calculate: the named items now (ids not in the store are counted, not an error). */
  async refreshItems(orgId: string, itemIds: readonly string[]) {
    const { items, settings } = await withTenant(this.#db, orgId, async (trx) => ({
      settings: await this.#settings.read(trx, orgId),
      items: await forecastItems(trx, orgId, { itemIds }, itemIds.length),
    }));
    const stored = await this.#refreshItems(orgId, items, settings);
    return {
      items: items.length,
      computed: stored.filter(Boolean).length,
      notFound: itemIds.length - items.length,
    };
  }

  /**
   * Forecasts the items with the stored horizon and default options, adds their reorder
   * policies and stores them; returns the stored forecast per item (null where the stored one
   * was still current and was kept).
   */
  async #refreshItems(
    orgId: string,
    items: readonly ForecastItem[],
    settings: Settings,
    force = true,
  ): Promise<Array<StoredForecast | null>> {
    const through = addDays(todayIn(settings.timeZone), -1);
    let pending = [...items];
    if (!force) {
      const current = await withTenant(this.#db, orgId, async (trx) => {
        const stored = await storedForecasts(
          trx,
          orgId,
          items.map((item) => item.id),
        );
        const fingerprints = await this.#fingerprints(trx, orgId, items, settings, through);
        return new Set(
          items
            .filter((item) => stored.get(item.id)?.historyFingerprint === fingerprints.get(item.id))
            .map((item) => item.id),
        );
      });
      pending = items.filter((item) => !current.has(item.id));
    }
    const computed = await this.#compute(orgId, pending, settings, through, {
      horizon: STORED_HORIZON,
      includeSeasonality: true,
      includePromotions: true,
    });
    const now = new Date();
    const stored = computed.map(
      ({ item, forecast, historyThrough, historyDays, fingerprint }): StoredForecast => ({
        itemId: item.id,
        computedAt: now,
        historyThrough,
        historyDays,
        historyFingerprint: fingerprint,
        method: forecast.method,
        methodReason: forecast.methodReason,
        insufficientHistory: forecast.insufficientHistory,
        horizon: STORED_HORIZON,
        points: forecast.points.map(storedPoint),
        accuracy: forecast.accuracy ? { ...forecast.accuracy } : null,
        candidates: forecast.candidates.map((candidate) => ({ ...candidate })),
        reorderPolicy: {
          ...reorderPolicy({
            points: forecast.points,
            leadTimeDays: item.leadTimeDays ?? settings.defaultLeadTimeDays,
            reviewPeriodDays: settings.reviewPeriodDays,
            serviceLevel: settings.serviceLevel,
            shelfLifeDays: item.shelfLifeDays,
          }),
          leadTimeFrom: item.leadTimeDays === null ? 'store default' : 'vendor catalogue',
        },
      }),
    );
    await withTenant(this.#db, orgId, (trx) => saveForecasts(trx, orgId, stored));
    const byId = new Map(stored.map((forecast) => [forecast.itemId, forecast]));
    return items.map((item) => byId.get(item.id) ?? null);
  }

  async #fingerprints(
    trx: Executor,
    orgId: string,
    items: readonly ForecastItem[],
    settings: Settings,
    through: string,
  ): Promise<Map<string, string>> {
    const ids = items.map((item) => item.id);
    const ledger = await ledgerSummaries(trx, orgId, ids, through, settings.timeZone);
    const promotions = await promotionsOverlapping(
      trx,
      orgId,
      items,
      addDays(through, -HISTORY_DAYS),
      addDays(through, STORED_HORIZON + 1),
    );
    const context = [
      through,
      settings.country,
      settings.region,
      settings.serviceLevel,
      settings.reviewPeriodDays,
      settings.defaultLeadTimeDays,
    ].join('|');
    return new Map(
      items.map((item) => {
        const own = promotionsFor(item, promotions)
          .map((promotion) => `${promotion.startsOn}:${promotion.endsOn}:${promotion.discountPercent}`)
          .sort()
          .join(',');
        const hash = createHash('sha256')
          .update(`${context}|${ledger.get(item.id) ?? ''}|${own}|${item.leadTimeDays}|${item.shelfLifeDays}`)
          .digest('base64url');
        return [item.id, hash];
      }),
    );
  }

  /** Reads the items' histories and calendars, then runs the engine on each. */
  async #compute(
    orgId: string,
    items: readonly ForecastItem[],
    settings: Settings,
    through: string,
    options: Omit<ForecastRequest, 'itemIds' | 'categories'>,
  ): Promise<ComputedForecast[]> {
    if (items.length === 0) return [];
    const from = addDays(through, -(HISTORY_DAYS - 1));
    const last = addDays(through, options.horizon);
    const { ledger, promotions, fingerprints } = await withTenant(this.#db, orgId, async (trx) => ({
      ledger: await ledgerDays(
        trx,
        orgId,
        items.map((item) => item.id),
        from,
        through,
        settings.timeZone,
      ),
      promotions: options.includePromotions ? await promotionsOverlapping(trx, orgId, items, from, last) : [],
      fingerprints: await this.#fingerprints(trx, orgId, items, settings, through),
    }));
    const holidays = publicHolidays(settings.country, settings.region, from, last);
    return Promise.all(
      items.map(async (item) => {
        const history = demandHistory(ledger.get(item.id) ?? [], through);
        const forecast = await this.#forecaster.forecast(
          {
            start: history.start ?? addDays(through, 1),
            frequency: 'daily',
            values: history.values,
            holidays,
            promotions: promotionsFor(item, promotions).map((promotion) => ({
              from: promotion.startsOn,
              to: promotion.endsOn,
              discount: promotion.discountPercent / 100,
            })),
            includeSeasonality: options.includeSeasonality,
            includePromotions: options.includePromotions,
          },
          { horizon: options.horizon },
        );
        return {
          item,
          forecast,
          historyThrough: through,
          historyDays: history.values.length,
          censoredDays: history.censoredDays,
          fingerprint: fingerprints.get(item.id)!,
        };
      }),
    );
  }
}

function promotionsFor(item: ForecastItem, promotions: readonly PromotionRow[]): PromotionRow[] {
  const category = item.category.trim().toLowerCase();
  return promotions.filter(
    (promotion) =>
      promotion.itemId === item.id ||
      (promotion.category !== null && promotion.category.trim().toLowerCase() === category),
  );
}

function storedPoint(point: SeriesForecast['points'][number]): StoredForecastPoint {
  return {
    date: point.date,
    mean: round3(point.mean),
    sd: round3(point.sd),
    lo80: round3(point.lo80),
    hi80: round3(point.hi80),
    lo95: round3(point.lo95),
    hi95: round3(point.hi95),
    factors: point.factors.map((factor) => ({ name: factor.name, impact: round3(factor.impact) })),
  };
}

/** One day of the answer: the spec's fields, with the 80% interval and the 95% one added. */
function prediction(point: StoredForecastPoint) {
  return {
    date: point.date,
    predictedDemand: round3(point.mean),
    confidence: 0.8,
    lowerBound: round3(point.lo80),
    upperBound: round3(point.hi80),
    intervals: [
      { confidence: 0.8, lower: round3(point.lo80), upper: round3(point.hi80) },
      { confidence: 0.95, lower: round3(point.lo95), upper: round3(point.hi95) },
    ],
    factors: point.factors.map((factor) => ({ name: factor.name, impact: round3(factor.impact) })),
  };
}

function accuracyOf(accuracy: Record<string, number | null> | null) {
  if (!accuracy) return null;
  const value = (key: string) =>
    accuracy[key] === null || accuracy[key] === undefined ? null : round3(accuracy[key]);
  return {
    mape: value('mape'),
    rmse: value('rmse') ?? 0,
    mase: value('mase'),
    bias: value('bias') ?? 0,
    origins: accuracy.origins ?? 0,
    horizon: accuracy.horizon ?? 0,
    points: accuracy.points ?? 0,
  };
}

function describeForecast(forecast: SeriesForecast, historyDays: number, censoredDays: number) {
  return {
    method: forecast.method,
    methodReason: forecast.methodReason,
    insufficientHistory: forecast.insufficientHistory,
    historyDays,
    censoredDays,
    predictions: forecast.points.map((point) => prediction(storedPoint(point))),
    accuracy: accuracyOf(forecast.accuracy ? { ...forecast.accuracy } : null),
    candidates: forecast.candidates.map((candidate) => ({
      method: candidate.method,
      mase: candidate.mase === null ? null : round3(candidate.mase),
      rmse: round3(candidate.rmse),
    })),
  };
}

function presentStored(item: ForecastItem, stored: StoredForecast) {
  return {
    itemId: item.id,
    itemName: item.name,
    computedAt: stored.computedAt.toISOString(),
    historyThrough: stored.historyThrough,
    historyDays: stored.historyDays,
    method: stored.method,
    methodReason: stored.methodReason,
    insufficientHistory: stored.insufficientHistory,
    horizon: stored.horizon,
    predictions: stored.points.map(prediction),
    accuracy: accuracyOf(stored.accuracy),
    candidates: stored.candidates as Array<{ method: string; mase: number | null; rmse: number }>,
    reorderPolicy: stored.reorderPolicy as (ReorderPolicy & { leadTimeFrom: string }) | null,
  };
}

interface CalendarPeriod {
  label: string;
  /** Day offsets from today, inclusive. */
  from: string;
  to: string;
}

const addDaysCount = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/** `count` calendar periods from the one holding `today` (which starts at today). */
export function calendarPeriods(today: string, kind: PeriodKind, count: number): CalendarPeriod[] {
  const periods: CalendarPeriod[] = [];
  let from = today;
  for (let index = 0; index < count; index++) {
    const date = new Date(`${from}T00:00:00Z`);
    let end: Date;
    let label: string;
    if (kind === 'week') {
      const weekday = (date.getUTCDay() + 6) % 7; // Monday 0
      end = new Date(date);
      end.setUTCDate(date.getUTCDate() + (6 - weekday));
      label = isoWeekLabel(end);
    } else {
      const months = kind === 'month' ? 1 : 3;
      const firstMonth =
        kind === 'month' ? date.getUTCMonth() : date.getUTCMonth() - (date.getUTCMonth() % 3);
      end = new Date(Date.UTC(date.getUTCFullYear(), firstMonth + months, 0));
      label =
        kind === 'month'
          ? `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`
          : `${date.getUTCFullYear()}-Q${Math.floor(date.getUTCMonth() / 3) + 1}`;
    }
    const to = end.toISOString().slice(0, 10);
    periods.push({ label, from, to });
    from = addDays(to, 1);
  }
  return periods;
}

/** ISO 8601 week label of the week ending on `sunday`, e.g. 2026-W49. */
function isoWeekLabel(sunday: Date): string {
  const thursday = new Date(sunday);
  thursday.setUTCDate(sunday.getUTCDate() - 3);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** A period's demand: the days' means summed, the interval from √Σσ², the factors that moved it. */
function summedPeriod(period: CalendarPeriod, points: readonly SeriesForecast['points'][number][]) {
  const days = points.filter((point) => point.date >= period.from && point.date <= period.to);
  const { mean, sd } = demandOver(days, 0, days.length);
  const factors = new Map<string, number>();
  for (const day of days) {
    for (const factor of day.factors) {
      factors.set(
        factor.name,
        (factors.get(factor.name) ?? 0) + (factor.impact * day.mean) / Math.max(mean, 1e-9),
      );
    }
  }
  return {
    period: period.label,
    from: period.from,
    to: period.to,
    predictedDemand: round3(mean),
    confidence: 0.8,
    lowerBound: round3(Math.max(0, mean - Z80 * sd)),
    upperBound: round3(mean + Z80 * sd),
    intervals: [
      { confidence: 0.8, lower: round3(Math.max(0, mean - Z80 * sd)), upper: round3(mean + Z80 * sd) },
      { confidence: 0.95, lower: round3(Math.max(0, mean - Z95 * sd)), upper: round3(mean + Z95 * sd) },
    ],
    // The factors that move the period's demand by 5% or more, strongest first, e.g. "holiday +12%".
    factors: [...factors]
      .filter(([, impact]) => Math.abs(impact) >= 0.05)
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
      .map(([name, impact]) => `${name} ${impact > 0 ? '+' : '−'}${Math.round(Math.abs(impact) * 100)}%`),
  };
}
