/**
 * Prediction intervals calibrated on the backtest: the spread comes from the errors the chosen
 * model actually made at each step ahead over the rolling origins, not from the model's own
 * assumptions; the shape is a negative binomial for count data (skewed, never below zero, with a
 * mass at zero for slow movers) and a normal clipped at zero otherwise.
 */

export interface StepError {
  /** Steps ahead, 1-based. */
  step: number;
  error: number;
}

/** Error variance at step j: base + growth·(j − 1) (a random-walk-like widening, never narrowing). */
export interface ErrorScale {
  base: number;
  growth: number;
}

export function fitErrorScale(errors: ReadonlyArray<StepError>): ErrorScale {
  const n = errors.length;
  if (n === 0) return { base: 0, growth: 0 };
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const { step, error } of errors) {
    const x = step - 1;
    const y = error * error;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const meanX = sx / n;
  const meanY = sy / n;
  const varianceX = sxx / n - meanX * meanX;
  let growth = varianceX > 0 ? (sxy / n - meanX * meanY) / varianceX : 0;
  let base = meanY - growth * meanX;
  if (growth < 0) {
    growth = 0;
    base = meanY;
  } else if (base < 0) {
    base = 0;
    growth = sxx > 0 ? sxy / sxx : 0;
  }
  // A handful of errors underestimates the spread: inflate as a t distribution would.
  const smallSample = n > 3 ? n / (n - 2) : 3;
  return { base: base * smallSample, growth: growth * smallSample };
}

export function errorSd(scale: ErrorScale, step: number): number {
  return Math.sqrt(Math.max(0, scale.base + scale.growth * (step - 1)));
}

export interface Interval {
  lo80: number;
  hi80: number;
  lo95: number;
  hi95: number;
}

const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;
/** Beyond this mean the negative binomial is near normal and its sum would take long. */
const MAX_DISCRETE_MEAN = 2000;

export function predictiveInterval(mean: number, sd: number, counts: boolean): Interval {
  if (!(mean > 0) || !(sd > 0)) {
    const m = Math.max(0, mean);
    return { lo80: m, hi80: m, lo95: m, hi95: m };
  }
  const variance = sd * sd;
  if (counts && variance > mean && mean < MAX_DISCRETE_MEAN) {
    const q = negativeBinomialQuantiles(mean, variance, [0.025, 0.1, 0.9, 0.975]);
    if (q) return { lo95: q[0]!, lo80: q[1]!, hi80: q[2]!, hi95: q[3]! };
  }
  return {
    lo80: Math.max(0, mean - Z80 * sd),
    hi80: mean + Z80 * sd,
    lo95: Math.max(0, mean - Z95 * sd),
    hi95: mean + Z95 * sd,
  };
}

/** Quantiles (ascending probabilities) of the negative binomial with this mean and variance. */
function negativeBinomialQuantiles(mean: number, variance: number, probabilities: number[]): number[] | null {
  const size = (mean * mean) / (variance - mean);
  const p = size / (size + mean);
  let pmf = Math.exp(size * Math.log(p));
  if (!(pmf > 0)) return null;
  const out: number[] = [];
  let cdf = pmf;
  let k = 0;
  const limit = mean + 50 * Math.sqrt(variance) + 100;
  for (const probability of probabilities) {
    while (cdf < probability && k < limit) {
      pmf *= ((k + size) / (k + 1)) * (1 - p);
      k++;
      cdf += pmf;
    }
    if (k >= limit) return null;
    out.push(k);
  }
  return out;
}
