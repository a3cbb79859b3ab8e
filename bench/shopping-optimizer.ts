import {
  type LineOffer,
  type OptimizeCriteria,
  type OptimizerLine,
  type OptimizerVendor,
  optimizePlan,
} from '../src/modules/shopping-lists/optimizer.ts';

/**
 * POST /v1/shopping-lists/:id/optimize's solve, without the database around it: `lines` lines ×
 * `vendors` vendors, each line carried by about 60% of the general vendors (and a few
 * specialists with high minimum order values), with case packs, one or two price breaks, some
 * line minimums, some urgent lines that only fast vendors can serve. Deterministic (seeded), so
 * every run solves the same model. Reports the solve time, the plan's cost, the solver's proven
 * lower bound and the gap between them (the plan is within `gap` of the true optimum).
 *
 * Runnable alone: node bench/shopping-optimizer.ts [lines] [vendors]
 */
export interface ShoppingOptimizerReport {
  lines: number;
  vendors: number;
  options: number;
  seconds: number;
  totalCost: number;
  bestBound: number;
  /** (cost − bound) / cost, in percent. */
  gapPercent: number;
  simplePlanCost: number;
  savingsPercent: number;
  vendorsUsed: number;
  status: string;
}

function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const cents = (value: number) => Math.round(value * 100) / 100;

export function shoppingBenchModel(lineCount: number, vendorCount: number) {
  const random = seeded(20_261_203);
  const specialists = Math.max(1, Math.floor(vendorCount / 5));
  const vendors: OptimizerVendor[] = Array.from({ length: vendorCount }, (_, index) => ({
    vendorId: `vendor-${index}`,
    name: `Vendor ${index}`,
    minimumOrderValue: index >= vendorCount - specialists ? 1500 + Math.round(random() * 1000) : 250,
  }));
  const leadTimes = vendors.map(() => 1 + Math.floor(random() * 4));
  const priceFactor = vendors.map(() => 0.9 + random() * 0.2);
  const lines: OptimizerLine[] = Array.from({ length: lineCount }, (_, index) => {
    const base = 0.5 + random() * 9.5;
    const units = 5 + Math.floor(random() * 120);
    const offers: LineOffer[] = [];
    vendors.forEach((vendor, vendorIndex) => {
      const specialist = vendorIndex >= vendorCount - specialists;
      if (random() > (specialist ? 0.08 : 0.6)) return;
      const unitCost = cents(
        base * priceFactor[vendorIndex]! * (0.95 + random() * 0.1) * (specialist ? 0.9 : 1),
      );
      const unitsPerCase = [1, 6, 12, 24][Math.floor(random() * 4)]!;
      const breaks = random() < 0.7 ? 1 + Math.floor(random() * 2) : 0;
      const priceBreaks = Array.from({ length: breaks }, (_, breakIndex) => ({
        minQuantity: Math.ceil(units * (1.2 + breakIndex * 0.8)),
        unitCost: cents(unitCost * (1 - 0.04 * (breakIndex + 1))),
      }));
      offers.push({
        vendorId: vendor.vendorId,
        unitCost,
        priceBreaks,
        unitsPerCase,
        minimumUnits: random() < 0.2 ? unitsPerCase * 2 : 0,
        deliveryInDays: leadTimes[vendorIndex]!,
        preferred: false,
      });
    });
    if (offers.length === 0) {
      offers.push({
        vendorId: vendors[0]!.vendorId,
        unitCost: cents(base),
        priceBreaks: [],
        unitsPerCase: 1,
        minimumUnits: 0,
        deliveryInDays: leadTimes[0]!,
        preferred: true,
      });
    } else {
      offers[Math.floor(random() * offers.length)]!.preferred = true;
    }
    const fastest = Math.min(...offers.map((offer) => offer.deliveryInDays));
    const urgent = random() < 0.05;
    return {
      lineId: `line-${index}`,
      name: `Item ${index}`,
      units,
      maxUnits: null,
      urgent,
      emptiesInDays: urgent ? fastest + Math.floor(random() * 2) : null,
      offers,
    };
  });
  return { lines, vendors };
}

export async function runShoppingOptimizerBench(
  lineCount = 2000,
  vendorCount = 10,
  log: (line: string) => void = () => {},
): Promise<ShoppingOptimizerReport> {
  const { lines, vendors } = shoppingBenchModel(lineCount, vendorCount);
  const criteria: OptimizeCriteria = {
    minimizeCost: true,
    preferredVendors: [],
    consolidateOrders: false,
    respectMinimumOrders: true,
  };
  log(`shopping optimiser: ${lineCount} lines × ${vendorCount} vendors…`);
  // The WebAssembly solver loads once per process: loaded before the clock starts, as a server has.
  await optimizePlan(lines.slice(0, 1), vendors, criteria);
  const started = performance.now();
  const result = await optimizePlan(lines, vendors, criteria, { timeLimitSeconds: 30, relativeGap: 1e-4 });
  const seconds = Math.round(performance.now() - started) / 1000;
  if (!result.feasible) throw new Error(`no plan: ${JSON.stringify(result.impossible.slice(0, 3))}`);
  const options = lines.reduce(
    (sum, line) => sum + line.offers.reduce((count, offer) => count + 1 + offer.priceBreaks.length, 0),
    0,
  );
  const gap = result.totalCost > 0 ? (result.totalCost - result.solver.bestBound) / result.totalCost : 0;
  return {
    lines: lineCount,
    vendors: vendorCount,
    options,
    seconds,
    totalCost: result.totalCost,
    bestBound: result.solver.bestBound,
    gapPercent: Math.round(Math.max(0, gap) * 1e6) / 1e4,
    simplePlanCost: result.simplePlan.totalCost,
    savingsPercent: Math.round((result.savings / result.simplePlan.totalCost) * 1e4) / 100,
    vendorsUsed: result.vendors.length,
    status: result.solver.status,
  };
}

if (import.meta.main) {
  const lineCount = Number(process.argv[2] ?? 2000);
  const vendorCount = Number(process.argv[3] ?? 10);
  const report = await runShoppingOptimizerBench(lineCount, vendorCount, console.log);
  console.log(JSON.stringify(report, null, 2));
  const met = report.seconds <= 5 && report.gapPercent <= 1;
  console.log(`budget ≤ 5 s and within 1% of the proven optimum: ${met ? 'met' : 'NOT met'}`);
}
