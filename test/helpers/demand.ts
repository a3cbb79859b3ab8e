/** Generated demand series for the forecasting tests: seeded, so every run sees the same numbers. */

/** mulberry32: a small seeded uniform generator on [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson draw (Knuth's method below 30, a rounded normal above). */
export function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let product = random();
  while (product > limit) {
    k++;
    product *= random();
  }
  return k;
}

export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Daily Poisson demand whose mean on day t is `mean(t, weekday)` (weekday 0 = Monday). */
export function dailySeries(
  start: string,
  days: number,
  seed: number,
  mean: (t: number, weekday: number) => number,
): number[] {
  const random = seededRandom(seed);
  const firstWeekday = (new Date(`${start}T00:00:00Z`).getUTCDay() + 6) % 7;
  return Array.from({ length: days }, (_, t) => poisson(random, mean(t, (firstWeekday + t) % 7)));
}
