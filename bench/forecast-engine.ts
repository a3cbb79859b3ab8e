/**
 * `node bench/forecast-engine.ts`: the forecasting engine on generated 730-day daily series of six
 * kinds (smooth weekly + yearly, a trend break, intermittent, promotions, holidays, stock-outs),
 * each with over-dispersed (negative-binomial) noise: accuracy on a 28-day hold-out per kind
 * (MASE against plain weekly seasonal naive, interval coverage, methods chosen), and the time of
 * one forecastSeries call (horizon 28, backtest included) on one thread: median and p95.
 * FORECAST_BENCH_SERIES (per kind, 40) and FORECAST_BENCH_SEED (1).
 */
import { addDays, poisson, seededRandom } from '../test/helpers/demand.ts';
import { forecastSeries } from '../src/modules/forecasting/engine/forecast.ts';
import type { PromotionSpan, SeriesInput } from '../src/modules/forecasting/engine/types.ts';

const DAYS = 730;
const HOLDOUT = 28;
const START = '2023-01-02';
const perKind = Number(process.env.FORECAST_BENCH_SERIES ?? 40);
const random = seededRandom(Number(process.env.FORECAST_BENCH_SEED ?? 1));
const uniform = (low: number, high: number) => low + (high - low) * random();

/** Gamma–Poisson (negative binomial) draw: Poisson with a gamma-distributed mean, shape `size`. */
function overdispersed(mean: number, size: number): number {
  // Marsaglia–Tsang gamma(size ≥ 1) scaled to mean 1.
  const d = size - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    if (Math.log(random()) < 0.5 * z * z + d - d * v + d * Math.log(v))
      return poisson(random, (mean * d * v) / size);
  }
}

interface Case {
  input: SeriesInput;
  actual: Array<number | null>;
}

function makeCase(kind: string): Case {
  const level = Math.exp(uniform(Math.log(3), Math.log(150)));
  const shape = Array.from({ length: 7 }, () => uniform(0.6, 1.5));
  const amplitude = uniform(0, 0.4);
  const phase = uniform(0, 2 * Math.PI);
  const dispersion = uniform(3, 30);
  const promotions: PromotionSpan[] = [];
  const holidays: string[] = [];
  const holidayEffect = new Map<string, number>();
  let trend = (_t: number) => 1;
  if (kind === 'trend break') {
    const at = DAYS - Math.floor(uniform(40, 150));
    const slope = uniform(-0.004, 0.006);
    trend = (t) => Math.max(0.2, 1 + (t > at ? slope * (t - at) : 0));
  }
  if (kind === 'promotions') {
    for (let t = Math.floor(uniform(10, 40)); t < DAYS; t += Math.floor(uniform(25, 60))) {
      const length = Math.floor(uniform(3, 8));
      promotions.push({
        from: addDays(START, t),
        to: addDays(START, t + length - 1),
        discount: Math.round(uniform(0.1, 0.4) * 100) / 100,
      });
    }
    const t = DAYS - HOLDOUT + Math.floor(uniform(3, 18));
    promotions.push({ from: addDays(START, t), to: addDays(START, t + 4), discount: 0.25 });
  }
  if (kind === 'holidays') {
    const dates = ['01-01', '04-25', '05-01', '06-02', '08-15', '11-01', '12-08', '12-25', '12-26'];
    for (const year of [2023, 2024, 2025]) {
      for (const md of dates) holidays.push(`${year}-${md}`);
    }
    // A holiday in the hold-out every run: move the hold-out's fixed dates in by construction.
    holidays.push(addDays(START, DAYS - HOLDOUT + 10));
    for (const date of holidays)
      holidayEffect.set(date, date.endsWith('12-24') || date.endsWith('12-08') ? 1.8 : 0.3);
  }
  const demand: Array<number | null> = [];
  for (let t = 0; t < DAYS; t++) {
    const date = addDays(START, t);
    let mean =
      level * shape[(t + 0) % 7]! * (1 + amplitude * Math.sin((2 * Math.PI * t) / 365.25 + phase)) * trend(t);
    const promotion = promotions.find((p) => date >= p.from && date <= p.to);
    if (promotion) mean *= (1 - promotion.discount) ** -2.5;
    mean *= holidayEffect.get(date) ?? 1;
    demand.push(overdispersed(mean, dispersion));
  }
  if (kind === 'intermittent') {
    const p = uniform(0.03, 0.3);
    const size = uniform(0.5, 3);
    for (let t = 0; t < DAYS; t++) demand[t] = random() < p * shape[t % 7]! ? 1 + poisson(random, size) : 0;
  }
  const history = demand.slice(0, DAYS - HOLDOUT);
  if (kind === 'stock-outs') {
    for (let t = 0; t < history.length; t++) {
      if (random() < 0.02) {
        const run = Math.floor(uniform(1, 6));
        for (let k = 0; k < run && t + k < history.length; k++) history[t + k] = null;
        t += run;
      }
    }
  }
  return {
    input: { start: START, frequency: 'daily', values: history, promotions, holidays },
    actual: demand.slice(DAYS - HOLDOUT),
  };
}

const kinds = ['smooth', 'trend break', 'intermittent', 'promotions', 'holidays', 'stock-outs'];
const times: number[] = [];
const lines = ['| kind | series | MASE | coverage80 | coverage95 | methods |', '|---|---|---|---|---|---|'];
for (const kind of kinds) {
  let maseSum = 0;
  let maseCount = 0;
  let inside80 = 0;
  let inside95 = 0;
  let points = 0;
  const methods: Record<string, number> = {};
  for (let i = 0; i < perKind; i++) {
    const { input, actual } = makeCase(kind);
    const started = performance.now();
    const forecast = forecastSeries(input, { horizon: HOLDOUT });
    times.push(performance.now() - started);
    methods[forecast.method] = (methods[forecast.method] ?? 0) + 1;
    const history = input.values;
    let absolute = 0;
    let naiveAbsolute = 0;
    forecast.points.forEach((point, j) => {
      const value = actual[j]!;
      let s = history.length - 7 + (j % 7);
      while (s >= 0 && history[s] == null) s -= 7;
      absolute += Math.abs(point.mean - value);
      naiveAbsolute += Math.abs((s >= 0 ? history[s]! : 0) - value);
      if (value >= point.lo80 && value <= point.hi80) inside80++;
      if (value >= point.lo95 && value <= point.hi95) inside95++;
      points++;
    });
    if (naiveAbsolute > 0) {
      maseSum += absolute / naiveAbsolute;
      maseCount++;
    }
  }
  const methodList = Object.entries(methods)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  lines.push(
    `| ${kind} | ${perKind} | ${(maseSum / maseCount).toFixed(3)} | ${((100 * inside80) / points).toFixed(1)}% | ${((100 * inside95) / points).toFixed(1)}% | ${methodList} |`,
  );
}
times.sort((a, b) => a - b);
const quantile = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
lines.push(
  '',
  `forecastSeries on ${times.length} series of ${DAYS - HOLDOUT} days, horizon ${HOLDOUT}: median ${quantile(0.5)} ms, p95 ${quantile(0.95)} ms (one thread)`,
);
process.stdout.write(`${lines.join('\n')}\n`);
