/**
 * The candidate models. Each takes a history that is already cleaned (no nulls: censored periods
 * imputed, holiday and promotion effects and the yearly profile divided out) and returns point
 * forecasts for the next `horizon` periods on that same adjusted scale.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MSTL, initSync as initMstl } from '@bsull/augurs/mstl';
import { AutoETS, initSync as initEts } from '@bsull/augurs/ets';

let augursReady = false;

/**
 * augurs is WebAssembly; the package does not export the .wasm files' paths, so they are read from
 * beside its JavaScript. Loaded on the first fit, not at start-up: most processes never forecast.
 */
function loadAugurs(): void {
  if (augursReady) return;
  const dir = path.dirname(createRequire(import.meta.url).resolve('@bsull/augurs/mstl'));
  initMstl({ module: readFileSync(path.join(dir, 'mstl_bg.wasm')) });
  initEts({ module: readFileSync(path.join(dir, 'ets_bg.wasm')) });
  augursReady = true;
}

/** Repeats the last `period` values (period 1: the last value, i.e. naive). */
export function seasonalNaive(history: ArrayLike<number>, period: number, horizon: number): Float64Array {
  const n = history.length;
  const out = new Float64Array(horizon);
  const p = Math.min(period, n);
  for (let h = 0; h < horizon; h++) out[h] = p === 0 ? 0 : history[n - p + (h % p)]!;
  return out;
}

/**
 * MSTL (additive seasonal components for `periods`) with an AutoETS trend, from augurs. Without
 * periods it is AutoETS alone on a non-seasonal specification (level, optional damped trend).
 */
export function mstlEts(history: Float64Array, periods: number[], horizon: number): Float64Array {
  loadAugurs();
  const usable = periods.filter((period) => history.length >= 2 * period);
  const model = usable.length > 0 ? MSTL.ets(usable) : new AutoETS(1, 'ZZN');
  try {
    model.fit(history);
    return Float64Array.from(model.predict(horizon).point);
  } finally {
    model.free();
  }
}

/**
 * Teunter–Syntetos–Babai: the probability of a non-zero period and the size of a non-zero one,
 * each smoothed exponentially (the probability every period, the size only when there is demand),
 * forecast = probability × size. Unlike Croston it decays the probability through a long run of
 * zeros, so an item that stopped selling stops being forecast. The two smoothing constants are
 * chosen from a small grid by one-step-ahead squared error on the history.
 */
export function tsb(history: ArrayLike<number>, horizon: number): Float64Array {
  const n = history.length;
  let best = { error: Infinity, forecast: 0 };
  for (const alpha of TSB_SIZE_ALPHAS) {
    for (const beta of TSB_PROBABILITY_BETAS) {
      const fit = tsbFit(history, n, alpha, beta);
      if (fit.error < best.error) best = fit;
    }
  }
  return new Float64Array(horizon).fill(best.forecast);
}

const TSB_SIZE_ALPHAS = [0.05, 0.1, 0.2, 0.4];
const TSB_PROBABILITY_BETAS = [0.02, 0.05, 0.1, 0.2];

function tsbFit(history: ArrayLike<number>, n: number, alpha: number, beta: number) {
  // Initial state from the first quarter of the history (at least 8 periods).
  const warm = Math.min(n, Math.max(8, Math.floor(n / 4)));
  let nonZero = 0;
  let total = 0;
  for (let t = 0; t < warm; t++) {
    if (history[t]! > 0) {
      nonZero++;
      total += history[t]!;
    }
  }
  let probability = warm > 0 ? nonZero / warm : 0;
  let size = nonZero > 0 ? total / nonZero : 0;
  if (size === 0) {
    for (let t = 0; t < n; t++) if (history[t]! > 0) size = history[t]!;
  }
  let error = 0;
  for (let t = 0; t < n; t++) {
    const y = history[t]!;
    const residual = y - probability * size;
    error += residual * residual;
    if (y > 0) {
      probability += beta * (1 - probability);
      size += alpha * (y - size);
    } else {
      probability -= beta * probability;
    }
  }
  return { error, forecast: probability * size };
}
