/**
 * Weekly and yearly profiles. The yearly profile is fitted here rather than by MSTL: a yearly
 * MSTL component needs the model fitted on two full years (730 points: as slow as the whole
 * per-series budget), while the weekday pattern and the trend only need recent weeks. So the
 * yearly shape is a low-order Fourier fit on the whole history, divided out, and the models fit
 * a bounded recent window of what is left.
 */

const YEAR_DAYS = 365.2425;
/**
 * Up to this many yearly harmonics; how many (none included) is chosen per series by BIC on the
 * weekly means, so a smooth swing takes one or two and a sharp Christmas peak more, and noise
 * none: the penalty keeps noise from becoming a "season".
 */
const MAX_HARMONICS = 6;

export interface YearlyProfile {
  /** Multiplier for a day (days since epoch); averages 1 over a year. */
  at(day: number): number;
}

/**
 * Fits log(weekly mean + offset) = level + trend·t + Σ_k a_k cos(2πkt/year) + b_k sin(2πkt/year)
 * (k = 1…K, K by BIC)
 * on the history (daily values are averaged over 7-day blocks, so the weekday pattern does not
 * leak in). `dayOfPeriod(i)` gives period i's first day; `periodLength` its days.
 */
export function estimateYearly(
  history: ArrayLike<number>,
  length: number,
  dayOfPeriod: (i: number) => number,
  periodLength: number,
): YearlyProfile | null {
  const perBlock = periodLength === 1 ? 7 : 1;
  const blocks = Math.floor(length / perBlock);
  const first = length - blocks * perBlock;
  const xs: number[] = [];
  const days: number[] = [];
  let total = 0;
  for (let b = 0; b < blocks; b++) {
    let sum = 0;
    for (let i = 0; i < perBlock; i++) sum += history[first + b * perBlock + i]!;
    xs.push(sum / perBlock);
    total += sum / perBlock;
    days.push(dayOfPeriod(first + b * perBlock) + (perBlock * periodLength - 1) / 2);
  }
  if (blocks < 2 + 2 * MAX_HARMONICS + 20 || total <= 0) return null;
  const offset = Math.max(0.1, (0.05 * total) / blocks);
  const y = xs.map((x) => Math.log(Math.max(0, x) + offset));
  const midDay = (days[0]! + days[blocks - 1]!) / 2;
  const row = (day: number, harmonics: number) => {
    const r = [1, (day - midDay) / YEAR_DAYS];
    for (let k = 1; k <= harmonics; k++) {
      const angle = (2 * Math.PI * k * day) / YEAR_DAYS;
      r.push(Math.cos(angle), Math.sin(angle));
    }
    return r;
  };
  const rows = days.map((day) => row(day, MAX_HARMONICS));
  let best: { harmonics: number; beta: number[]; bic: number } | undefined;
  for (let harmonics = 0; harmonics <= MAX_HARMONICS; harmonics++) {
    const parameters = 2 + 2 * harmonics;
    const fit = leastSquares(
      rows.map((r) => r.slice(0, parameters)),
      y,
      parameters,
    );
    if (!fit) continue;
    const bic = blocks * Math.log(Math.max(fit.rss, 1e-12) / blocks) + parameters * Math.log(blocks);
    if (!best || bic < best.bic) best = { harmonics, beta: fit.beta, bic };
  }
  if (!best || best.harmonics === 0) return null;
  const { harmonics, beta } = best;
  const parameters = 2 + 2 * harmonics;

  const seasonal = (day: number) => {
    const r = row(day, harmonics);
    let s = 0;
    for (let j = 2; j < parameters; j++) s += r[j]! * beta[j]!;
    return Math.exp(s);
  };
  let norm = 0;
  for (let d = 0; d < 365; d++) norm += seasonal(d);
  norm /= 365;
  return { at: (day) => seasonal(day) / norm };
}

/** Ordinary least squares by the normal equations (p is small); null when singular. */
function leastSquares(rows: number[][], y: number[], p: number): { beta: number[]; rss: number } | null {
  const a = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) a[j]![k]! += r[j]! * r[k]!;
      a[j]![p]! += r[j]! * y[i]!;
    }
  }
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    if (Math.abs(a[pivot]![col]!) < 1e-12) return null;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const factor = a[r]![col]! / a[col]![col]!;
      for (let k = col; k <= p; k++) a[r]![k]! -= factor * a[col]![k]!;
    }
  }
  const beta = a.map((r, j) => r[p]! / r[j]!);
  let rss = 0;
  for (let i = 0; i < rows.length; i++) {
    let fit = 0;
    for (let j = 0; j < p; j++) fit += rows[i]![j]! * beta[j]!;
    rss += (y[i]! - fit) ** 2;
  }
  return { beta, rss };
}

/**
 * Weekday multipliers (index 0 = the weekday of `history[0]`'s position modulo 7) from the last
 * `window` values: each weekday's mean over the overall mean. All 1 when the mean is 0.
 */
export function weekdayProfile(history: ArrayLike<number>, length: number, window: number): number[] {
  const from = Math.max(0, length - window);
  const sums = new Array<number>(7).fill(0);
  const counts = new Array<number>(7).fill(0);
  let total = 0;
  for (let t = from; t < length; t++) {
    sums[t % 7]! += history[t]!;
    counts[t % 7]!++;
    total += history[t]!;
  }
  const mean = total / Math.max(1, length - from);
  return sums.map((sum, i) => (mean > 0 && counts[i]! > 0 ? sum / counts[i]! / mean : 1));
}
