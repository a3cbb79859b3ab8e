import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { type HistoryDay, insertSalesHistory } from '../../../test/helpers/sales-history.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import { publicHolidays } from './holidays.ts';

/**
 * Forecasts from the ledger, end to end: history written as past ledger rows, forecasts asked
 * through the API, stored by the nightly job, summed per period, with promotions and holidays
 * from the store's calendars. The engine's own behaviour (model choice, intervals) is tested in
 * engine/; here: that what reaches it is the store's real demand and calendars, and what comes
 * back is stored, exposed and isolated per store.
 */

let t: TestApp;
let manager: Session;
let viewer: Session;
let other: Session;
const today = todayIn('UTC');
const yesterday = addDays(today, -1);

/** Mon..Sun demand: a busy weekend. */
const WEEK = [10, 10, 11, 12, 18, 30, 24];
const weekdayOf = (day: string) => (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
/** Deterministic ±1 noise, so the series is not a perfect repetition. */
const noise = (index: number) => ((index * 7919) % 3) - 1;

function pattern(
  days: number,
  edit: (day: string, index: number, sold: number) => HistoryDay = (day, _i, sold) => ({ day, sold }),
) {
  return Array.from({ length: days }, (_, index) => {
    const day = addDays(yesterday, index - days + 1);
    return edit(day, index, WEEK[weekdayOf(day)]! + noise(index));
  });
}

const orgOf = (session: Session) => session.user.organization.id;

async function itemWithHistory(session: Session, name: string, days: HistoryDay[], extra: object = {}) {
  const item = await createItem(t.app, session, { description: name, category: 'Dairy', ...extra });
  await insertSalesHistory(t.testDatabase.database, orgOf(session), item.id, days);
  return item.id;
}

const post = (session: Session, url: string, payload: object) =>
  t.app.inject({ method: 'POST', url, headers: bearer(session), payload });
const get = (session: Session, url: string) => t.app.inject({ method: 'GET', url, headers: bearer(session) });

interface Prediction {
  date: string;
  predictedDemand: number;
  lowerBound: number;
  upperBound: number;
  confidence: number;
  intervals: Array<{ confidence: number; lower: number; upper: number }>;
  factors: Array<{ name: string; impact: number }>;
}

async function forecast(session: Session, itemIds: string[], horizon: number, options: object = {}) {
  const response = await post(session, '/v1/ml/forecast/demand', {
    itemIds,
    horizon,
    includeSeasonality: true,
    includePromotions: true,
    ...options,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().data.forecasts as Array<{
    itemId: string;
    method: string;
    methodReason: string;
    insufficientHistory: boolean;
    historyDays: number;
    censoredDays: number;
    predictions: Prediction[];
    accuracy: { mape: number | null; rmse: number; mase: number | null; bias: number } | null;
  }>;
}

/** A factor's impact on a day; a factor not listed has none. */
const impactOf = (prediction: Prediction, name: string) =>
  prediction.factors.find((factor) => factor.name === name)?.impact ?? 0;

const meanOf = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

async function runJob(session: Session, type: string, payload: object = {}) {
  const started = await post(session, '/v1/jobs', { type, payload });
  expect(started.statusCode, started.body).toBe(201);
  const id = started.json().data.job.id;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const job = (await get(session, `/v1/jobs/${id}`)).json().data;
    if (job.status === 'completed') return job;
    if (job.status === 'failed' || Date.now() > deadline) throw new Error(JSON.stringify(job));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  t = await createTestApp();
  manager = await registerStore(t.app, 'Forecast Grocer');
  viewer = await addMember(t.app, t.testDatabase.database, manager, 'viewer');
  other = await registerStore(t.app, 'Another Grocer');
});
afterAll(() => t.close());

describe('POST /v1/ml/forecast/demand', () => {
  it('forecasts the weekly pattern of ledger sales, from today, with intervals and backtest accuracy', async () => {
    const milk = await itemWithHistory(manager, 'Weekly milk', pattern(84));
    const [result] = await forecast(manager, [milk], 14);
    expect(result!.itemId).toBe(milk);
    expect(result!.insufficientHistory).toBe(false);
    expect(result!.method).not.toBe('mean');
    expect(result!.historyDays).toBe(84);
    expect(result!.censoredDays).toBe(0);
    const predictions = result!.predictions;
    expect(predictions.map((p) => p.date)).toEqual(Array.from({ length: 14 }, (_, i) => addDays(today, i)));
    const saturdays = predictions.filter((p) => weekdayOf(p.date) === 5).map((p) => p.predictedDemand);
    const tuesdays = predictions.filter((p) => weekdayOf(p.date) === 1).map((p) => p.predictedDemand);
    expect(meanOf(saturdays)).toBeGreaterThan(2 * meanOf(tuesdays));
    for (const p of predictions) {
      expect(p.confidence).toBe(0.8);
      expect(p.intervals.map((i) => i.confidence)).toEqual([0.8, 0.95]);
      expect(p.lowerBound).toBe(p.intervals[0]!.lower);
      expect(p.intervals[1]!.lower).toBeLessThanOrEqual(p.lowerBound);
      expect(p.lowerBound).toBeLessThanOrEqual(p.predictedDemand);
      expect(p.predictedDemand).toBeLessThanOrEqual(p.upperBound);
      expect(p.upperBound).toBeLessThanOrEqual(p.intervals[1]!.upper);
    }
    expect(result!.accuracy).not.toBeNull();
    expect(result!.accuracy!.rmse).toBeGreaterThan(0);
    expect(result!.accuracy!.mape).toBeGreaterThan(0);
  });

  it('treats stock-out days as censored demand, not as days of low demand', async () => {
    // Both items sell the weekly pattern, then for the last three weeks only 2 units on every
    // other day. For one the shelf was empty (it sold out), for the other the stock was there.
    const lastWeeks = (soldOut: boolean) =>
      pattern(84, (day, index, sold) =>
        index >= 63 && index % 2 === 0 ? { day, sold: 2, soldOut } : { day, sold },
      );
    const empty = await itemWithHistory(manager, 'Sold-out bread', lastWeeks(true));
    const slow = await itemWithHistory(manager, 'Slow bread', lastWeeks(false));
    const results = await forecast(manager, [empty, slow], 7);
    const byId = new Map(results.map((result) => [result.itemId, result]));
    expect(byId.get(empty)!.censoredDays).toBe(10);
    expect(byId.get(slow)!.censoredDays).toBe(0);
    const level = (id: string) => meanOf(byId.get(id)!.predictions.map((p) => p.predictedDemand));
    // Censored: the pattern's level (16.4 a day); counted as demand, the last weeks drag it down.
    expect(level(empty)).toBeGreaterThan(13);
    expect(level(empty)).toBeGreaterThan(1.15 * level(slow));
  });

  it('answers an item with too little history with the method it used, and says so', async () => {
    const fresh = await itemWithHistory(manager, 'New yoghurt', pattern(5));
    const never = (await createItem(t.app, manager, { description: 'Never sold', category: 'Dairy' })).id;
    const results = await forecast(manager, [fresh, never], 7);
    for (const result of results) {
      expect(result.method).toBe('mean');
      expect(result.insufficientHistory).toBe(true);
      expect(result.accuracy).toBeNull();
      expect(result.predictions).toHaveLength(7);
    }
    const byId = new Map(results.map((result) => [result.itemId, result]));
    expect(byId.get(fresh)!.historyDays).toBe(5);
    expect(byId.get(fresh)!.methodReason).toMatch(/5/);
    expect(byId.get(never)!.historyDays).toBe(0);
    expect(byId.get(never)!.predictions.every((p) => p.predictedDemand === 0)).toBe(true);
  });

  it("applies the store's promotions, learnt from past ones, only when asked to", async () => {
    // Past promotions lifted sales 80%; one runs for the next three days.
    const past = [20, 21, 22, 45, 46, 47].map((back) => addDays(yesterday, -back));
    const pasta = await itemWithHistory(
      manager,
      'Promo pasta',
      pattern(84, (day, _i, sold) => ({ day, sold: past.includes(day) ? Math.round(sold * 1.8) : sold })),
      { category: 'Pantry' },
    );
    for (const [from, to] of [
      [past[2], past[0]],
      [past[5], past[3]],
      [today, addDays(today, 2)],
    ]) {
      const created = await post(manager, '/v1/ml/promotions', {
        name: 'Pasta week',
        itemId: pasta,
        startsOn: from,
        endsOn: to,
        discountPercent: 30,
      });
      expect(created.statusCode, created.body).toBe(201);
    }
    const [withPromotions] = await forecast(manager, [pasta], 7);
    const [without] = await forecast(manager, [pasta], 7, { includePromotions: false });
    for (const index of [0, 1, 2]) {
      const promoted = withPromotions!.predictions[index]!;
      expect(impactOf(promoted, 'promotion')).toBeGreaterThan(0.3);
      expect(promoted.predictedDemand).toBeGreaterThan(1.3 * without!.predictions[index]!.predictedDemand);
      expect(impactOf(without!.predictions[index]!, 'promotion')).toBe(0);
    }
    expect(impactOf(withPromotions!.predictions[5]!, 'promotion')).toBe(0);
  });

  it("applies the store country's public holidays, learnt from the item's own history", async () => {
    const store = await registerStore(t.app, 'Holiday Grocer');
    const set = await t.app.inject({
      method: 'PUT',
      url: '/v1/settings',
      headers: bearer(store),
      payload: { country: 'IT' },
    });
    expect(set.statusCode, set.body).toBe(200);
    const holidays = new Set(publicHolidays('IT', null, addDays(yesterday, -420), addDays(today, 90)));
    // Closed-ish on public holidays: a fifth of a normal day.
    const item = await createItem(t.app, store, { description: 'Holiday milk', category: 'Dairy' });
    await insertSalesHistory(
      t.testDatabase.database,
      orgOf(store),
      item.id,
      pattern(420, (day, _i, sold) => ({ day, sold: holidays.has(day) ? Math.round(sold / 5) : sold })),
    );
    const [result] = await forecast(store, [item.id], 90);
    const holidayDays = result!.predictions.filter((p) => holidays.has(p.date));
    expect(holidayDays.length).toBeGreaterThan(0);
    for (const day of holidayDays) {
      expect(impactOf(day, 'holiday')).toBeLessThan(-0.3);
    }
    const ordinary = result!.predictions.filter((p) => !holidays.has(p.date));
    expect(ordinary.every((p) => impactOf(p, 'holiday') === 0)).toBe(true);

    // Without a country there is no holiday calendar.
    await t.app.inject({
      method: 'PUT',
      url: '/v1/settings',
      headers: bearer(store),
      payload: { country: null },
    });
    const [plain] = await forecast(store, [item.id], 90);
    expect(plain!.predictions.every((p) => impactOf(p, 'holiday') === 0)).toBe(true);
  });

  it('forecasts a category, and refuses bad requests with a clear 4xx', async () => {
    await itemWithHistory(manager, 'Category cheese', pattern(30), { category: 'Cheese Counter' });
    const byCategory = await post(manager, '/v1/ml/forecast/demand', {
      categories: ['  cheese counter '],
      horizon: 3,
      includeSeasonality: false,
      includePromotions: false,
    });
    expect(byCategory.statusCode, byCategory.body).toBe(200);
    expect(byCategory.json().data.forecasts.map((f: { itemName: string }) => f.itemName)).toEqual([
      'Category cheese',
    ]);

    const bad = async (payload: object, status: number) => {
      const response = await post(manager, '/v1/ml/forecast/demand', payload);
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json().success).toBe(false);
    };
    await bad({ horizon: 7, includeSeasonality: true, includePromotions: true }, 400);
    await bad(
      { itemIds: [crypto.randomUUID()], horizon: 91, includeSeasonality: true, includePromotions: true },
      400,
    );
    await bad(
      { itemIds: ['not-a-uuid'], horizon: 7, includeSeasonality: true, includePromotions: true },
      400,
    );
    await bad(
      { itemIds: [crypto.randomUUID()], horizon: 7, includeSeasonality: true, includePromotions: true },
      404,
    );
  });
});

describe('stored forecasts and the nightly job', () => {
  it('stores every item’s forecast with its reorder policy, skips unchanged items on a rerun, redoes changed ones', async () => {
    const store = await registerStore(t.app, 'Nightly Grocer');
    const steady = await itemWithHistory(store, 'Steady apples', pattern(60), { shelfLifeDays: 30 });
    // Lettuce keeps 2 days: the policy may not hold more than sells in lead time + 2 days.
    const lettuce = await itemWithHistory(store, 'Lettuce', pattern(60), { shelfLifeDays: 2 });

    expect((await get(store, `/v1/inventory/${lettuce}`)).json().data.reorderPolicy).toBeNull();
    const first = await runJob(store, 'forecast:update_predictions');
    expect(first.result).toEqual({ items: 2, computed: 2, skipped: 0 });
    expect(first.progress).toBe(100);

    const stored = await get(store, `/v1/ml/forecast/${steady}`);
    expect(stored.statusCode, stored.body).toBe(200);
    const data = stored.json().data;
    expect(data).toMatchObject({
      itemId: steady,
      historyThrough: yesterday,
      horizon: 28,
      insufficientHistory: false,
    });
    expect(data.predictions[0].date).toBe(today);
    expect(data.predictions).toHaveLength(28);
    expect(data.reorderPolicy).toMatchObject({
      leadTimeDays: 2,
      reviewPeriodDays: 7,
      serviceLevel: 0.95,
      leadTimeFrom: 'store default',
      cappedByShelfLife: false,
    });
    const sum = (from: number, days: number) =>
      data.predictions
        .slice(from, from + days)
        .reduce((total: number, p: Prediction) => total + p.predictedDemand, 0);
    expect(data.reorderPolicy.leadTimeDemand).toBeCloseTo(sum(0, 2), 1);
    expect(data.reorderPolicy.cycleDemand).toBeCloseTo(sum(0, 9), 1);
    expect(data.reorderPolicy.orderUpTo).toBeGreaterThan(data.reorderPolicy.cycleDemand);

    const capped = (await get(store, `/v1/ml/forecast/${lettuce}`)).json().data.reorderPolicy;
    expect(capped.cappedByShelfLife).toBe(true);
    expect(capped.orderUpTo).toBe(capped.shelfLifeCap);
    expect(capped.orderUpTo).toBeLessThan(capped.cycleDemand);
    // The item itself carries its policy.
    expect((await get(store, `/v1/inventory/${lettuce}`)).json().data.reorderPolicy).toEqual(capped);

    // Nothing changed: nothing recomputed. A sale today is not history yet either.
    expect((await runJob(store, 'forecast:update_predictions')).result).toEqual({
      items: 2,
      computed: 0,
      skipped: 2,
    });
    // A correction to yesterday's ledger changes one item's history.
    await insertSalesHistory(
      t.testDatabase.database,
      orgOf(store),
      lettuce,
      [{ day: yesterday, sold: 3 }],
      100,
    );
    expect((await runJob(store, 'forecast:update_predictions')).result).toEqual({
      items: 2,
      computed: 1,
      skipped: 1,
    });
    expect((await runJob(store, 'forecast:update_predictions', { force: true })).result).toEqual({
      items: 2,
      computed: 2,
      skipped: 0,
    });

    // forecast:calculate: named items now.
    expect(
      (await runJob(store, 'forecast:calculate', { itemIds: [steady, crypto.randomUUID()] })).result,
    ).toEqual({
      items: 1,
      computed: 1,
      notFound: 1,
    });
  });

  it('makes and stores the forecast on first read, and isolates stores', async () => {
    const item = await itemWithHistory(manager, 'First read', pattern(40));
    const first = await get(viewer, `/v1/ml/forecast/${item}`);
    expect(first.statusCode, first.body).toBe(200);
    const again = await get(manager, `/v1/ml/forecast/${item}`);
    expect(again.json().data.computedAt).toBe(first.json().data.computedAt);
    expect((await get(other, `/v1/ml/forecast/${item}`)).statusCode).toBe(404);
    expect(
      (
        await post(other, '/v1/ml/forecast/demand', {
          itemIds: [item],
          horizon: 3,
          includeSeasonality: true,
          includePromotions: true,
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (await get(other, `/v1/inventory/forecasting?itemId=${item}&period=week&horizon=2`)).statusCode,
    ).toBe(404);
  });
});

describe('GET /v1/inventory/forecasting', () => {
  it('sums the daily forecasts per calendar week, month or quarter', async () => {
    const item = await itemWithHistory(manager, 'Period bread', pattern(70), { category: 'Period Bakery' });
    const weeks = await get(manager, `/v1/inventory/forecasting?itemId=${item}&period=week&horizon=3`);
    expect(weeks.statusCode, weeks.body).toBe(200);
    const [entry] = weeks.json().data.forecasts;
    expect(entry.itemId).toBe(item);
    expect(entry.predictions).toHaveLength(3);
    const [firstWeek, secondWeek] = entry.predictions;
    expect(firstWeek.from).toBe(today);
    expect(weekdayOf(firstWeek.to)).toBe(6);
    expect(secondWeek.from).toBe(addDays(firstWeek.to, 1));
    expect(secondWeek.to).toBe(addDays(secondWeek.from, 6));
    expect(secondWeek.period).toMatch(/^\d{4}-W\d{2}$/);
    // A full week of this pattern: about 115 units, within its interval.
    expect(secondWeek.predictedDemand).toBeGreaterThan(95);
    expect(secondWeek.predictedDemand).toBeLessThan(135);
    expect(secondWeek.lowerBound).toBeLessThan(secondWeek.predictedDemand);
    expect(secondWeek.upperBound).toBeGreaterThan(secondWeek.predictedDemand);

    // The same days from the daily forecast add up to the week.
    const days = await forecast(manager, [item], 21);
    const daily = days[0]!.predictions.filter((p) => p.date >= secondWeek.from && p.date <= secondWeek.to);
    expect(daily).toHaveLength(7);
    expect(daily.reduce((total, p) => total + p.predictedDemand, 0)).toBeCloseTo(
      secondWeek.predictedDemand,
      1,
    );

    const quarters = await get(
      manager,
      `/v1/inventory/forecasting?category=period%20bakery&period=quarter&horizon=2`,
    );
    expect(quarters.statusCode, quarters.body).toBe(200);
    const [quarter] = quarters.json().data.forecasts;
    expect(quarter.predictions.map((p: { period: string }) => p.period)[0]).toMatch(/^\d{4}-Q[1-4]$/);
    const months = await get(manager, `/v1/inventory/forecasting?itemId=${item}&period=month&horizon=1`);
    expect(months.json().data.forecasts[0].predictions[0].period).toBe(today.slice(0, 7));
  });

  it('refuses an unclear query with a 400, not a uuid error', async () => {
    const item = (await createItem(t.app, manager, { description: 'Query item' })).id;
    for (const query of [
      'period=week&horizon=2',
      `itemId=${item}&category=Dairy&period=week&horizon=2`,
      `itemId=${item}&period=year&horizon=2`,
      `itemId=${item}&period=month&horizon=13`,
      `itemId=${item}&period=week&horizon=0`,
    ]) {
      const response = await get(manager, `/v1/inventory/forecasting?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.message).not.toMatch(/uuid/i);
    }
    expect(
      (await get(manager, `/v1/inventory/forecasting?itemId=${crypto.randomUUID()}&period=week&horizon=2`))
        .statusCode,
    ).toBe(404);
  });
});

describe('/v1/ml/promotions', () => {
  it('keeps the promotion calendar: validated, filtered, changed, removed, per store', async () => {
    const item = (await createItem(t.app, manager, { description: 'Promo juice', category: 'Drinks' })).id;
    const created = await post(manager, '/v1/ml/promotions', {
      name: ' Summer drinks ',
      category: 'Drinks',
      startsOn: '2027-06-01',
      endsOn: '2027-06-14',
      discountPercent: 15,
    });
    expect(created.statusCode, created.body).toBe(201);
    const promotion = created.json().data;
    expect(promotion).toMatchObject({
      name: 'Summer drinks',
      itemId: null,
      category: 'Drinks',
      discountPercent: 15,
    });

    const invalid = async (payload: object, field: string) => {
      const response = await post(manager, '/v1/ml/promotions', payload);
      expect(response.statusCode, response.body).toBe(400);
      expect(JSON.stringify(response.json().error)).toContain(field);
    };
    const base = { name: 'x', startsOn: '2027-01-10', endsOn: '2027-01-12', discountPercent: 10 };
    await invalid({ ...base }, 'itemId');
    await invalid({ ...base, itemId: item, category: 'Drinks' }, 'itemId');
    await invalid({ ...base, itemId: item, endsOn: '2027-01-09' }, 'endsOn');
    await invalid({ ...base, itemId: item, endsOn: '2028-06-01' }, 'endsOn');
    await invalid({ ...base, itemId: item, discountPercent: 0 }, 'discountPercent');
    await invalid({ ...base, itemId: crypto.randomUUID() }, 'itemId');
    expect((await post(viewer, '/v1/ml/promotions', { ...base, itemId: item })).statusCode).toBe(403);

    const itemPromotion = (await post(manager, '/v1/ml/promotions', { ...base, itemId: item })).json().data;
    const list = (await get(manager, '/v1/ml/promotions?from=2027-05-01')).json();
    expect(list.data.promotions.map((p: { id: string }) => p.id)).toEqual([promotion.id]);
    expect((await get(manager, `/v1/ml/promotions?itemId=${item}`)).json().data.promotions).toHaveLength(1);
    expect((await get(viewer, `/v1/ml/promotions/${promotion.id}`)).json().data.name).toBe('Summer drinks');

    const moved = await t.app.inject({
      method: 'PUT',
      url: `/v1/ml/promotions/${promotion.id}`,
      headers: bearer(manager),
      payload: { itemId: item, discountPercent: 20 },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().data).toMatchObject({
      itemId: item,
      category: null,
      discountPercent: 20,
      startsOn: '2027-06-01',
    });

    expect((await get(other, `/v1/ml/promotions/${promotion.id}`)).statusCode).toBe(404);
    expect((await get(other, '/v1/ml/promotions')).json().data.promotions).toEqual([]);
    const foreignDelete = await t.app.inject({
      method: 'DELETE',
      url: `/v1/ml/promotions/${itemPromotion.id}`,
      headers: bearer(other),
    });
    expect(foreignDelete.statusCode).toBe(404);
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/v1/ml/promotions/${itemPromotion.id}`,
      headers: bearer(manager),
    });
    expect(deleted.statusCode).toBe(204);
    expect((await get(manager, `/v1/ml/promotions/${itemPromotion.id}`)).statusCode).toBe(404);
  });
});
