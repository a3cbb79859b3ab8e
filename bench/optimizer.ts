import {
  candidatesFor,
  type OptimizerItem,
  optimizeInventory,
  solver,
} from '../src/modules/optimization/optimizer.ts';

/**
 * The inventory optimiser (src/modules/optimization/optimizer.ts) on `items` synthetic items: the
 * model POST /v1/ml/optimize/inventory solves, without the database (its read is one statement).
 * Forecasts, stock, case packs, minimums, shelf lives and price breaks are drawn from a fixed
 * seed. The budget is set at 80% of what ordering every item to its 0.95 level would cost, so it
 * binds and the solver has to trade items off; all three objectives are on. Reported per round:
 * wall time (candidates, model, solve, report) and HiGHS' MIP gap; the budget is ≤ 5 s.
 */
export interface OptimizerFigures {
  items: number;
  candidates: number;
  rounds: number;
  /** Loading HiGHS' WebAssembly, once per process (before the first request). */
  loadSeconds: number;
  /** Wall seconds of each round. */
  seconds: number[];
  maxSeconds: number;
  mipGap: number;
  status: string;
  serviceLevel: number;
  budgetBinding: boolean;
}

/** mulberry32: a small seeded generator, so every run solves the same model. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticItems(count: number, seed = 42): OptimizerItem[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, index) => {
    const mean = 0.5 + next() * 40;
    const sd = mean * (0.15 + next() * 0.5);
    const weekly = Array.from({ length: 7 }, (_day, weekday) => (weekday >= 5 ? 1.3 : 0.9));
    const unitCost = Math.round((0.2 + next() * 12) * 100) / 100;
    const unitsPerCase = [1, 6, 12, 24][Math.floor(next() * 4)]!;
    return {
      itemId: `item-${index}`,
      itemName: `Item ${index}`,
      points: Array.from({ length: 28 }, (_day, day) => ({ mean: mean * weekly[day % 7]!, sd })),
      onHand: Math.floor(next() * mean * 4),
      onOrder: next() < 0.2 ? unitsPerCase * 2 : 0,
      leadTimeDays: 1 + Math.floor(next() * 5),
      reviewPeriodDays: 7,
      shelfLifeDays: next() < 0.4 ? 2 + Math.floor(next() * 12) : null,
      unitCost,
      priceBreaks: next() < 0.3 ? [{ minQuantity: unitsPerCase * 10, unitCost: unitCost * 0.9 }] : [],
      unitRetail: unitCost * (1.3 + next() * 0.5),
      unitsPerCase,
      minimumOrderUnits: next() < 0.3 ? unitsPerCase * 2 : 0,
      vendorId: null,
    };
  });
}

export async function runOptimizerBench(options: {
  items: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<OptimizerFigures> {
  const items = syntheticItems(options.items);
  // The cost of every item at (about) its 0.95 candidate: the budget is 80% of it.
  const fullCost = items.reduce((sum, item) => {
    const { candidates } = candidatesFor(item);
    const at95 = candidates.find((candidate) => candidate.serviceLevel >= 0.95) ?? candidates.at(-1)!;
    return sum + at95.cost;
  }, 0);
  const request = {
    maxBudget: Math.round(fullCost * 0.8),
    minServiceLevel: 0.6,
    minimizeCost: true,
    maximizeServiceLevel: true,
    minimizeWaste: true,
  };
  const loadStarted = performance.now();
  await solver();
  const loadSeconds = Math.round(performance.now() - loadStarted) / 1000;
  const seconds: number[] = [];
  let last: Awaited<ReturnType<typeof optimizeInventory>> | undefined;
  for (let round = 0; round < options.rounds; round++) {
    const started = performance.now();
    last = await optimizeInventory(items, request);
    seconds.push(Math.round(performance.now() - started) / 1000);
    options.log(
      `optimizer round ${round + 1}: ${seconds.at(-1)} s, gap ${last.solver.mipGap}, ${last.solver.status}`,
    );
  }
  return {
    items: options.items,
    candidates: last!.solver.candidates,
    rounds: options.rounds,
    loadSeconds,
    seconds,
    maxSeconds: Math.max(...seconds),
    mipGap: last!.solver.mipGap,
    status: last!.solver.status,
    serviceLevel: last!.totals.expectedServiceLevel,
    budgetBinding: last!.constraints.find((constraint) => constraint.name === 'maxBudget')!.binding,
  };
}

// Run alone: node bench/optimizer.ts
if (import.meta.main) {
  const figures = await runOptimizerBench({
    items: Number(process.env.BENCH_OPTIMIZER_ITEMS ?? 2000),
    rounds: Number(process.env.BENCH_OPTIMIZER_ROUNDS ?? 3),
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
