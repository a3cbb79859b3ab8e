import * as highsPackage from 'highs';
import type { Highs } from 'highs';
import type { PriceBreak } from '../../platform/db/schema.ts';
import { unitCostFor } from '../vendors/catalogue.ts';

/**
 * Which vendor each shopping-list line is bought from, as a mixed-integer program solved by
 * HiGHS (WebAssembly). Pure: the lines, their catalogue offers and the vendors go in, the plan
 * comes out; the service loads and stores them.
 *
 * The model. For each line ℓ and each vendor v that carries it, every price tier k (the base
 * price and each price break) gives one *option*: buy q = the line's need raised to tier k's
 * quantity and the line's minimum, rounded up to whole cases, at tier k's price (unitCostFor).
 * Because breaks only get cheaper, q and its cost are fixed per option, so a binary x_o per
 * option says which one is taken:
 *   Σ_o∈ℓ x_o = 1                                  every line is bought once
 *   Σ_o∈(ℓ,v) x_o ≤ y_v                            y_v: vendor v gets an order
 *   Σ_o∈v cost_o·x_o ≥ minimum_v·y_v               a vendor's minimum order value (respectMinimumOrders)
 * minimising Σ cost_o·x_o. Options are left out before solving when they cannot be taken: a
 * vendor delivering after an urgent line's shelf empties, a quantity more than sells before it
 * expires (the line's maxUnits), non-preferred vendors when `preferredVendors` carry the line, a
 * vendor whose minimum no combination of its lines can reach.
 *
 * `consolidateOrders` and `minimizeCost: false` are lexicographic: first the fewest vendors (and/or
 * the fewest lines moved off their simple-plan vendor), then the cheapest plan among those, by
 * solving twice (the second time with the first objective bounded by its optimum).
 *
 * The simple plan it is compared with: each line to its catalogue-preferred vendor (else the
 * cheapest at its quantity), rounded to cases and minimums, ignoring order minimums and lead times.
 */

export interface LineOffer {
  vendorId: string;
  /** Per unit below the first break. */
  unitCost: number;
  priceBreaks: readonly PriceBreak[];
  unitsPerCase: number;
  /** The catalogue line's minimum order, in units. */
  minimumUnits: number;
  /** Days from today to the first delivery of an order placed today. */
  deliveryInDays: number;
  preferred: boolean;
}

export interface OptimizerLine {
  lineId: string;
  name: string;
  /** Units needed. */
  units: number;
  /** Most worth buying before it expires; null: no limit. */
  maxUnits: number | null;
  urgent: boolean;
  /** Days until the shelf is empty; null: not known. */
  emptiesInDays: number | null;
  offers: readonly LineOffer[];
}

export interface OptimizerVendor {
  vendorId: string;
  name: string;
  minimumOrderValue: number | null;
}

export interface OptimizeCriteria {
  minimizeCost: boolean;
  preferredVendors: readonly string[];
  consolidateOrders: boolean;
  respectMinimumOrders: boolean;
}

export interface PlanLine {
  lineId: string;
  vendorId: string;
  quantity: number;
  unitCost: number;
  cost: number;
  deliveryInDays: number;
}

export interface VendorOrder {
  vendorId: string;
  name: string;
  lineCount: number;
  total: number;
  minimumOrderValue: number | null;
}

export interface SolverFigures {
  status: string;
  /** Cost of the plan found. */
  objective: number;
  /** The solver's proven lower bound on the cost (equal to objective when proven optimal). */
  bestBound: number;
  /** Relative gap between the two. */
  gap: number;
  solves: number;
  seconds: number;
}

export type OptimizeResult =
  | {
      feasible: true;
      lines: PlanLine[];
      vendors: VendorOrder[];
      totalCost: number;
      simplePlan: { totalCost: number; vendors: VendorOrder[]; belowMinimum: string[] };
      savings: number;
      decisions: string[];
      solver: SolverFigures;
    }
  | { feasible: false; impossible: Array<{ lineId: string; name: string; reason: string }>; notes: string[] };

interface Option {
  line: number;
  vendorId: string;
  quantity: number;
  unitCost: number;
  cost: number;
  deliveryInDays: number;
}

export interface SolverLimits {
  /** Stop after this many seconds with the best plan found (default 20). */
  timeLimitSeconds?: number;
  /** Relative optimality gap accepted (default 1e-6). */
  relativeGap?: number;
}

const EPSILON = 1e-9;
const money = (value: number) => Math.round(value * 100) / 100;
const fmt = (value: number) => String(Math.round(value * 1000) / 1000);
const cash = (value: number) => money(value).toFixed(2);

let highsPromise: Promise<Highs> | undefined;
// The package's types describe it as CommonJS while Node loads its ES module build: the loader
// is the namespace's default export either way.
const loadHighs = (highsPackage as unknown as { default: () => Promise<Highs> }).default;
const highsRuntime = () => (highsPromise ??= loadHighs());

/** Units bought for `units` needed at `threshold` (a tier's first quantity): cases, line minimum. */
export function optionQuantity(
  units: number,
  offer: Pick<LineOffer, 'unitsPerCase' | 'minimumUnits'>,
  threshold = 0,
) {
  const pack = offer.unitsPerCase;
  return Math.ceil(Math.max(units, offer.minimumUnits, threshold) / pack - EPSILON) * pack;
}

/** The simple plan's offer for a line: the catalogue-preferred vendor, else the cheapest at its quantity. */
export function simpleOffer(line: OptimizerLine): LineOffer | null {
  const preferred = line.offers.find((offer) => offer.preferred);
  if (preferred) return preferred;
  let best: LineOffer | null = null;
  let bestCost = Infinity;
  for (const offer of line.offers) {
    const quantity = optionQuantity(line.units, offer);
    const cost = quantity * unitCostFor(offer, quantity);
    if (cost < bestCost - EPSILON) {
      best = offer;
      bestCost = cost;
    }
  }
  return best;
}

function optionsOf(
  line: OptimizerLine,
  index: number,
  criteria: OptimizeCriteria,
  vendorNames: Map<string, string>,
): { options: Option[] } | { problem: string } {
  let offers = [...line.offers];
  const name = (vendorId: string) => vendorNames.get(vendorId) ?? vendorId;
  if (line.urgent && line.emptiesInDays !== null) {
    const empties = line.emptiesInDays;
    const inTime = offers.filter((offer) => offer.deliveryInDays <= empties + EPSILON);
    if (inTime.length === 0) {
      const fastest = [...offers].sort((a, b) => a.deliveryInDays - b.deliveryInDays)[0]!;
      return {
        problem: `no vendor that carries it can deliver before the shelf empties in ${fmt(empties)} days: the fastest, ${name(fastest.vendorId)}, takes ${fastest.deliveryInDays}`,
      };
    }
    offers = inTime;
  }
  const preferredSet = new Set(criteria.preferredVendors);
  if (offers.some((offer) => preferredSet.has(offer.vendorId))) {
    offers = offers.filter((offer) => preferredSet.has(offer.vendorId));
  }
  const options: Option[] = [];
  let smallest: { quantity: number; vendorId: string } | null = null;
  for (const offer of offers) {
    const seen = new Set<number>();
    for (const threshold of [0, ...offer.priceBreaks.map((priceBreak) => priceBreak.minQuantity)]) {
      const quantity = optionQuantity(line.units, offer, threshold);
      if (seen.has(quantity)) continue;
      seen.add(quantity);
      if (smallest === null || quantity < smallest.quantity)
        smallest = { quantity, vendorId: offer.vendorId };
      if (line.maxUnits !== null && quantity > line.maxUnits + EPSILON) continue;
      const unitCost = unitCostFor(offer, quantity);
      options.push({
        line: index,
        vendorId: offer.vendorId,
        quantity,
        unitCost,
        cost: quantity * unitCost,
        deliveryInDays: offer.deliveryInDays,
      });
    }
  }
  if (options.length === 0 && smallest) {
    return {
      problem: `the smallest order, ${fmt(smallest.quantity)} from ${name(smallest.vendorId)}, is more than sells before it expires (${fmt(line.maxUnits ?? 0)})`,
    };
  }
  if (options.length === 0) return { problem: 'no vendor carries it' };
  return { options };
}

/** Finds the plan. Lines without any catalogue offer must be left out by the caller. */
export async function optimizePlan(
  lines: readonly OptimizerLine[],
  vendors: readonly OptimizerVendor[],
  criteria: OptimizeCriteria,
  limits: SolverLimits = {},
): Promise<OptimizeResult> {
  const started = performance.now();
  const vendorById = new Map(vendors.map((vendor) => [vendor.vendorId, vendor]));
  const vendorNames = new Map(vendors.map((vendor) => [vendor.vendorId, vendor.name]));
  const minimumOf = (vendorId: string) =>
    criteria.respectMinimumOrders ? (vendorById.get(vendorId)?.minimumOrderValue ?? 0) : 0;

  const impossible: Array<{ lineId: string; name: string; reason: string }> = [];
  let options: Option[] = [];
  lines.forEach((line, index) => {
    const built = optionsOf(line, index, criteria, vendorNames);
    if ('problem' in built) impossible.push({ lineId: line.lineId, name: line.name, reason: built.problem });
    else options.push(...built.options);
  });

  // A vendor whose minimum even all the lines it could supply, at their dearest options, cannot
  // reach is never chosen: its options go before the solver sees them.
  const notes: string[] = [];
  const dearest = new Map<string, Map<number, number>>();
  for (const option of options) {
    const perLine = dearest.get(option.vendorId) ?? new Map<number, number>();
    perLine.set(option.line, Math.max(perLine.get(option.line) ?? 0, option.cost));
    dearest.set(option.vendorId, perLine);
  }
  const unreachable = new Set<string>();
  for (const [vendorId, perLine] of dearest) {
    const minimum = minimumOf(vendorId);
    const most = [...perLine.values()].reduce((sum, cost) => sum + cost, 0);
    if (minimum > 0 && most < minimum - EPSILON) {
      unreachable.add(vendorId);
      notes.push(
        `${vendorNames.get(vendorId) ?? vendorId}'s minimum order of ${cash(minimum)} cannot be reached by the lines it carries (${cash(most)} at most): not used`,
      );
    }
  }
  if (unreachable.size > 0) {
    const before = new Set(options.map((option) => option.line));
    options = options.filter((option) => !unreachable.has(option.vendorId));
    const after = new Set(options.map((option) => option.line));
    for (const line of before) {
      if (!after.has(line)) {
        impossible.push({
          lineId: lines[line]!.lineId,
          name: lines[line]!.name,
          reason: 'only vendors whose minimum order cannot be reached carry it',
        });
      }
    }
  }
  if (impossible.length > 0) return { feasible: false, impossible, notes };

  // Simple plan, for comparison and for minimizeCost: false.
  const simple = lines.map((line) => {
    const offer = simpleOffer(line)!;
    const quantity = optionQuantity(line.units, offer);
    return { vendorId: offer.vendorId, quantity, cost: quantity * unitCostFor(offer, quantity) };
  });

  const vendorIds = [...new Set(options.map((option) => option.vendorId))];
  const vendorColumn = new Map<string, number>();
  const needsVendorColumn = (vendorId: string) => criteria.consolidateOrders || minimumOf(vendorId) > 0;
  let columns = options.length;
  for (const vendorId of vendorIds) {
    if (needsVendorColumn(vendorId)) vendorColumn.set(vendorId, columns++);
  }

  // Rows, as lists of (column, coefficient) with bounds.
  const rows: Array<{ entries: Array<[number, number]>; lower: number; upper: number }> = [];
  const byLine = new Map<number, number[]>();
  options.forEach((option, column) => {
    const list = byLine.get(option.line) ?? [];
    list.push(column);
    byLine.set(option.line, list);
  });
  for (const list of byLine.values())
    rows.push({ entries: list.map((column) => [column, 1]), lower: 1, upper: 1 });
  for (const [line, list] of byLine) {
    void line;
    const perVendor = new Map<string, number[]>();
    for (const column of list) {
      const vendorId = options[column]!.vendorId;
      if (!vendorColumn.has(vendorId)) continue;
      perVendor.set(vendorId, [...(perVendor.get(vendorId) ?? []), column]);
    }
    for (const [vendorId, vendorOptions] of perVendor) {
      rows.push({
        entries: [
          ...vendorOptions.map((column): [number, number] => [column, 1]),
          [vendorColumn.get(vendorId)!, -1],
        ],
        lower: -Infinity,
        upper: 0,
      });
    }
  }
  for (const [vendorId, column] of vendorColumn) {
    const minimum = minimumOf(vendorId);
    if (minimum <= 0) continue;
    const entries: Array<[number, number]> = [];
    options.forEach((option, optionColumn) => {
      if (option.vendorId === vendorId) entries.push([optionColumn, option.cost]);
    });
    entries.push([column, -minimum]);
    rows.push({ entries, lower: 0, upper: Infinity });
  }

  const costObjective = new Float64Array(columns);
  options.forEach((option, column) => (costObjective[column] = option.cost));
  let primary: Float64Array | null = null;
  if (criteria.consolidateOrders || !criteria.minimizeCost) {
    primary = new Float64Array(columns);
    if (criteria.consolidateOrders) for (const column of vendorColumn.values()) primary[column] = 1;
    if (!criteria.minimizeCost) {
      options.forEach((option, column) => {
        if (option.vendorId !== simple[option.line]!.vendorId) primary![column] = 1;
      });
    }
  }

  const highs = await highsRuntime();
  const solveWith = (
    objective: Float64Array,
    extraRow: { entries: Array<[number, number]>; upper: number } | null,
  ) => {
    const allRows = extraRow ? [...rows, { ...extraRow, lower: -Infinity }] : rows;
    const starts = new Int32Array(allRows.length + 1);
    let nonZeros = 0;
    for (const row of allRows) nonZeros += row.entries.length;
    const indices = new Int32Array(nonZeros);
    const values = new Float64Array(nonZeros);
    let at = 0;
    allRows.forEach((row, rowIndex) => {
      starts[rowIndex] = at;
      for (const [column, value] of row.entries) {
        indices[at] = column;
        values[at] = value;
        at++;
      }
    });
    starts[allRows.length] = at;
    const infinity = highs.infinity;
    const bound = (value: number) =>
      value === Infinity ? infinity : value === -Infinity ? -infinity : value;
    return highs.withModel(
      {
        numCols: columns,
        numRows: allRows.length,
        colCost: objective,
        colLower: new Float64Array(columns),
        colUpper: new Float64Array(columns).fill(1),
        rowLower: Float64Array.from(allRows, (row) => bound(row.lower)),
        rowUpper: Float64Array.from(allRows, (row) => bound(row.upper)),
        matrix: { format: 'csr', numRows: allRows.length, numCols: columns, starts, indices, values },
        integrality: new Int32Array(columns).fill(highs.constants.variableType.integer),
      },
      (model) => {
        model.options.set({
          output_flag: false,
          time_limit: limits.timeLimitSeconds ?? 20,
          mip_rel_gap: limits.relativeGap ?? 1e-6,
        });
        model.run();
        const status = model.getModelStatus();
        const constants = highs.constants.modelStatus;
        const statusName =
          Object.entries(constants).find(([, code]) => code === status)?.[0] ?? String(status);
        const solution = model.getSolution();
        const hasSolution = solution.colValue.length === columns && status !== constants.infeasible;
        return {
          statusName,
          optimal: status === constants.optimal,
          infeasible: status === constants.infeasible || !hasSolution,
          values: Array.from(solution.colValue),
          objective: model.getObjectiveValue(),
          bound: Number(model.info.get('mip_dual_bound')),
          gap: Number(model.info.get('mip_gap')),
        };
      },
    );
  };

  let solves = 0;
  let extraRow: { entries: Array<[number, number]>; upper: number } | null = null;
  if (primary) {
    const first = solveWith(primary, null);
    solves++;
    if (first.infeasible) {
      return { feasible: false, impossible: infeasibleLines(lines, options, vendorNames, minimumOf), notes };
    }
    const entries: Array<[number, number]> = [];
    primary.forEach((value, column) => {
      if (value !== 0) entries.push([column, value]);
    });
    extraRow = { entries, upper: Math.round(first.objective) + 0.5 };
  }
  const result = solveWith(costObjective, extraRow);
  solves++;
  if (result.infeasible) {
    return { feasible: false, impossible: infeasibleLines(lines, options, vendorNames, minimumOf), notes };
  }

  const chosen = new Map<number, Option>();
  options.forEach((option, column) => {
    if (result.values[column]! > 0.5) chosen.set(option.line, option);
  });
  const planLines: PlanLine[] = lines.map((line, index) => {
    const option = chosen.get(index)!;
    return {
      lineId: line.lineId,
      vendorId: option.vendorId,
      quantity: option.quantity,
      unitCost: option.unitCost,
      cost: money(option.cost),
      deliveryInDays: option.deliveryInDays,
    };
  });
  const orders = (plan: Array<{ vendorId: string; cost: number }>): VendorOrder[] => {
    const totals = new Map<string, { lineCount: number; total: number }>();
    for (const entry of plan) {
      const total = totals.get(entry.vendorId) ?? { lineCount: 0, total: 0 };
      total.lineCount++;
      total.total += entry.cost;
      totals.set(entry.vendorId, total);
    }
    return [...totals]
      .map(([vendorId, total]) => ({
        vendorId,
        name: vendorNames.get(vendorId) ?? vendorId,
        lineCount: total.lineCount,
        total: money(total.total),
        minimumOrderValue: vendorById.get(vendorId)?.minimumOrderValue ?? null,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  };
  const planVendors = orders(planLines);
  const simpleVendors = orders(simple);
  const totalCost = money([...chosen.values()].reduce((sum, option) => sum + option.cost, 0));
  const simpleTotal = money(simple.reduce((sum, entry) => sum + entry.cost, 0));
  const belowMinimum = simpleVendors
    .filter(
      (vendor) => vendor.minimumOrderValue !== null && vendor.total < vendor.minimumOrderValue - EPSILON,
    )
    .map(
      (vendor) =>
        `${vendor.name}: ${cash(vendor.total)} is below its minimum order of ${cash(vendor.minimumOrderValue!)}`,
    );

  const decisions = [...notes];
  decisions.push(
    ...explain(lines, planLines, simple, planVendors, simpleVendors, criteria, vendorNames, minimumOf),
  );
  return {
    feasible: true,
    lines: planLines,
    vendors: planVendors,
    totalCost,
    simplePlan: { totalCost: simpleTotal, vendors: simpleVendors, belowMinimum },
    savings: money(simpleTotal - totalCost),
    decisions,
    solver: {
      status: result.statusName,
      objective: money(result.objective),
      bestBound: money(Number.isFinite(result.bound) ? result.bound : result.objective),
      gap: Number.isFinite(result.gap) ? Math.max(0, result.gap) : 0,
      solves,
      seconds: Math.round(performance.now() - started) / 1000,
    },
  };
}

/** When the solver proves the minimums cannot all be met: the lines whose every vendor has one. */
function infeasibleLines(
  lines: readonly OptimizerLine[],
  options: readonly Option[],
  vendorNames: Map<string, string>,
  minimumOf: (vendorId: string) => number,
) {
  const stuck: Array<{ lineId: string; name: string; reason: string }> = [];
  lines.forEach((line, index) => {
    const vendorIds = [
      ...new Set(options.filter((option) => option.line === index).map((option) => option.vendorId)),
    ];
    if (vendorIds.every((vendorId) => minimumOf(vendorId) > 0)) {
      stuck.push({
        lineId: line.lineId,
        name: line.name,
        reason: `every vendor that can take it has a minimum order (${vendorIds
          .map((vendorId) => `${vendorNames.get(vendorId) ?? vendorId} ${cash(minimumOf(vendorId))}`)
          .join(', ')}) that the list cannot meet together`,
      });
    }
  });
  return stuck;
}

/** Which constraints and prices made the plan differ from the simple one, line by line and vendor by vendor. */
function explain(
  lines: readonly OptimizerLine[],
  plan: readonly PlanLine[],
  simple: ReadonlyArray<{ vendorId: string; quantity: number; cost: number }>,
  planVendors: readonly VendorOrder[],
  simpleVendors: readonly VendorOrder[],
  criteria: OptimizeCriteria,
  vendorNames: Map<string, string>,
  minimumOf: (vendorId: string) => number,
): string[] {
  const name = (vendorId: string) => vendorNames.get(vendorId) ?? vendorId;
  const decisions: string[] = [];
  const used = new Set(planVendors.map((vendor) => vendor.vendorId));
  for (const vendor of simpleVendors) {
    const minimum = minimumOf(vendor.vendorId);
    if (!used.has(vendor.vendorId) && minimum > 0 && vendor.total < minimum - EPSILON) {
      decisions.push(
        `${vendor.name}'s minimum order of ${cash(minimum)} is not reached by its ${vendor.lineCount} line${vendor.lineCount === 1 ? '' : 's'} in the simple plan (${cash(vendor.total)}): bought elsewhere`,
      );
    }
  }
  for (const vendor of planVendors) {
    const minimum = minimumOf(vendor.vendorId);
    if (minimum > 0) {
      decisions.push(`${vendor.name}'s order of ${cash(vendor.total)} meets its minimum of ${cash(minimum)}`);
    }
  }
  if (criteria.consolidateOrders && planVendors.length < simpleVendors.length) {
    decisions.push(
      `Consolidated into ${planVendors.length} vendor${planVendors.length === 1 ? '' : 's'} (the simple plan uses ${simpleVendors.length})`,
    );
  }
  lines.forEach((line, index) => {
    const chosen = plan[index]!;
    const base = simple[index]!;
    const offer = line.offers.find((candidate) => candidate.vendorId === chosen.vendorId)!;
    const simpleOfferOfLine = line.offers.find((candidate) => candidate.vendorId === base.vendorId)!;
    if (chosen.vendorId !== base.vendorId) {
      let why: string;
      if (
        line.urgent &&
        line.emptiesInDays !== null &&
        simpleOfferOfLine.deliveryInDays > line.emptiesInDays + EPSILON
      ) {
        why = `${name(base.vendorId)} delivers in ${simpleOfferOfLine.deliveryInDays} days, after the shelf empties (${fmt(line.emptiesInDays)} days)`;
      } else if (
        criteria.preferredVendors.includes(chosen.vendorId) &&
        !criteria.preferredVendors.includes(base.vendorId)
      ) {
        why = `${name(chosen.vendorId)} is a preferred vendor`;
      } else if (chosen.cost < base.cost - EPSILON) {
        why = `cheaper: ${cash(chosen.cost)} instead of ${cash(base.cost)}`;
      } else {
        why = criteria.consolidateOrders ? 'fewer vendors' : 'the vendors’ minimum orders';
      }
      decisions.push(
        `${line.name}: from ${name(chosen.vendorId)} instead of ${name(base.vendorId)} (${why})`,
      );
    }
    const plain = optionQuantity(line.units, offer);
    if (chosen.quantity > plain) {
      const reached = [...offer.priceBreaks]
        .reverse()
        .find((priceBreak) => chosen.quantity >= priceBreak.minQuantity);
      decisions.push(
        reached
          ? `${line.name}: ${fmt(chosen.quantity)} instead of ${fmt(plain)} to reach ${name(chosen.vendorId)}'s price break of ${reached.unitCost} from ${fmt(reached.minQuantity)} units (${cash(chosen.cost)} instead of ${cash(plain * unitCostFor(offer, plain))})`
          : `${line.name}: ${fmt(chosen.quantity)} instead of ${fmt(plain)} for ${name(chosen.vendorId)}'s minimum order`,
      );
    } else if (chosen.quantity > line.units + EPSILON) {
      decisions.push(
        `${line.name}: ${fmt(chosen.quantity)} instead of ${fmt(line.units)}: ${offer.minimumUnits > line.units ? `${name(chosen.vendorId)}'s minimum of ${fmt(offer.minimumUnits)}` : `whole cases of ${offer.unitsPerCase}`}`,
      );
    }
  });
  return decisions;
}
