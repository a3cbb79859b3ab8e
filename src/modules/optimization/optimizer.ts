import highsPackage, { type Highs, type ModelData } from 'highs';
import { errorFunction, probit } from 'simple-statistics';
import type { PriceBreak } from '../../platform/db/schema.ts';
import { type DailyDemand, demandOver } from '../forecasting/policy.ts';
import { unitCostFor } from '../vendors/catalogue.ts';

/**
 * The inventory optimiser: which quantity to order of each item now, as one mixed-integer model
 * solved by HiGHS. Pure: the caller reads the items, forecasts and catalogue terms; this file
 * builds the model, solves it and explains the answer.
 *
 * Per item a handful of candidate order quantities, each a binary variable, exactly one chosen:
 * - 0, and the quantities that lift the inventory position (on hand + on order + the order) to
 *   the order-up-to level of service levels 0.5 … 0.99 over lead time + review period (the
 *   forecast's mean and σ over that span, as policy.ts computes them);
 * - each rounded up to the preferred vendor's case pack and minimum order, and capped by what
 *   sells before it expires (expected demand over lead time + shelf life, as policy.ts caps S);
 *   a quantity the cap pushes below the vendor's minimum is no candidate.
 * Each candidate carries its purchase cost (quantity × the price break it reaches), its expected
 * cycle service level Φ((position − μ)/σ), its expected lost sales E[(D − position)⁺] over lead
 * time + review period and its expected waste E[(position − D)⁺] over lead time + shelf life
 * (stock not sold by the time the new delivery expires; 0 without a shelf life).
 *
 * Constraints: Σ cost ≤ maxBudget; Σ (on hand + on order + order) ≤ storageCapacity (units);
 * Σ wᵢ·SLᵢ ≥ minServiceLevel · Σ wᵢ with wᵢ the item's expected demand over its cycle (the
 * demand-weighted service level). Objective (money): purchase cost when minimizeCost, lost sales
 * × retail price when maximizeServiceLevel, waste × unit cost when minimizeWaste, summed.
 */

export const SERVICE_LEVEL_STEPS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99] as const;

export interface OptimizerItem {
  itemId: string;
  itemName: string;
  /** The daily forecast from tomorrow on. */
  points: ReadonlyArray<DailyDemand>;
  onHand: number;
  onOrder: number;
  leadTimeDays: number;
  reviewPeriodDays: number;
  shelfLifeDays: number | null;
  /** Base cost of one unit (the preferred vendor's catalogue line, else the item's own cost). */
  unitCost: number;
  priceBreaks: readonly PriceBreak[];
  /** Price one unit sells at (what a lost sale loses); the unit cost when unknown. */
  unitRetail: number;
  unitsPerCase: number;
  /** The vendor's minimum order, in units (0: none). */
  minimumOrderUnits: number;
  vendorId: string | null;
}

export interface OptimizerRequest {
  maxBudget?: number | undefined;
  storageCapacity?: number | undefined;
  minServiceLevel: number;
  minimizeCost: boolean;
  maximizeServiceLevel: boolean;
  minimizeWaste: boolean;
}

export interface Candidate {
  quantity: number;
  cost: number;
  /** On hand + on order + quantity. */
  position: number;
  serviceLevel: number;
  expectedShortage: number;
  expectedWaste: number;
}

export interface ItemPlan {
  itemId: string;
  itemName: string;
  vendorId: string | null;
  orderQuantity: number;
  cost: number;
  expectedServiceLevel: number;
  expectedWaste: number;
  expectedShortage: number;
  onHand: number;
  onOrder: number;
  cycleDemand: number;
}

export type ConstraintName = 'maxBudget' | 'storageCapacity' | 'minServiceLevel';

export interface ConstraintReport {
  name: ConstraintName;
  limit: number;
  value: number;
  slack: number;
  binding: boolean;
}

export interface OptimizerResult {
  items: ItemPlan[];
  totals: {
    cost: number;
    expectedServiceLevel: number;
    expectedWaste: number;
    expectedWasteCost: number;
    expectedShortage: number;
    storageUsed: number;
  };
  constraints: ConstraintReport[];
  solver: { status: string; mipGap: number; objective: number; candidates: number; seconds: number };
}

export class InfeasibleRequest extends Error {
  override name = 'InfeasibleRequest';
  readonly constraint: ConstraintName | 'maxBudget+storageCapacity';
  readonly limit: number;
  readonly required: number | null;

  constructor(
    constraint: InfeasibleRequest['constraint'],
    limit: number,
    required: number | null,
    message: string,
  ) {
    super(message);
    this.constraint = constraint;
    this.limit = limit;
    this.required = required;
  }
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);
const pdf = (z: number) => Math.exp(-0.5 * z * z) / SQRT_2PI;
// Φ from erf: simple-statistics' cumulativeStdNormalProbability is a table in steps of 0.01 that
// stops at ±3.09, too coarse for the loss functions below.
const cdf = (z: number) => (z > 8 ? 1 : z < -8 ? 0 : 0.5 * (1 + errorFunction(z / Math.SQRT2)));
/** E[(D − y)⁺] for D ~ N(μ, σ). */
function expectedShortfall(y: number, mean: number, sd: number): number {
  if (sd <= 0) return Math.max(0, mean - y);
  const k = (y - mean) / sd;
  return Math.max(0, sd * (pdf(k) - k * (1 - cdf(k))));
}
/** E[(y − D)⁺] for D ~ N(μ, σ). */
function expectedLeftover(y: number, mean: number, sd: number): number {
  if (sd <= 0) return Math.max(0, y - mean);
  const k = (y - mean) / sd;
  return Math.max(0, sd * (k * cdf(k) + pdf(k)));
}

const round = (value: number, places = 3) => Math.round(value * 10 ** places) / 10 ** places;
const EPS = 1e-9;

/** The quantity rounded up to whole cases and at least the minimum (0 stays 0). */
function packUp(quantity: number, item: OptimizerItem): number {
  if (quantity <= EPS) return 0;
  const pack = Math.max(1, item.unitsPerCase);
  const minimum = Math.ceil(Math.max(0, item.minimumOrderUnits) / pack - EPS) * pack;
  return Math.max(minimum, Math.ceil(quantity / pack - EPS) * pack);
}

/** The candidate order quantities of one item, cheapest first, no two the same. */
export function candidatesFor(item: OptimizerItem): { candidates: Candidate[]; cycleDemand: number } {
  const cycle = demandOver(item.points, 0, item.leadTimeDays + item.reviewPeriodDays);
  const life =
    item.shelfLifeDays !== null && item.shelfLifeDays > 0
      ? demandOver(item.points, 0, item.leadTimeDays + item.shelfLifeDays)
      : null;
  const base = item.onHand + item.onOrder;
  const pack = Math.max(1, item.unitsPerCase);
  // Most worth ordering: what the position may reach and still sell before the delivery expires.
  const capQuantity =
    life === null ? Infinity : Math.floor(Math.max(0, life.mean - base) / pack + EPS) * pack;
  const quantities = new Set<number>([0]);
  for (const level of SERVICE_LEVEL_STEPS) {
    const target = cycle.mean + probit(level) * cycle.sd;
    let quantity = packUp(target - base, item);
    if (quantity > capQuantity) quantity = capQuantity;
    if (quantity > 0 && quantity < item.minimumOrderUnits - EPS) continue;
    quantities.add(quantity);
  }
  const candidates = [...quantities]
    .sort((a, b) => a - b)
    .map((quantity) => {
      const position = base + quantity;
      const serviceLevel =
        cycle.sd > 0 ? cdf((position - cycle.mean) / cycle.sd) : position + EPS >= cycle.mean ? 1 : 0;
      return {
        quantity,
        cost: round(quantity * unitCostFor(item, quantity), 4),
        position,
        serviceLevel,
        expectedShortage: expectedShortfall(position, cycle.mean, cycle.sd),
        expectedWaste: life === null ? 0 : expectedLeftover(position, life.mean, life.sd),
      };
    });
  return { candidates, cycleDemand: cycle.mean };
}

// highs ships one types.d.ts in a CommonJS package, so TypeScript sees its ES default export as
// `.default` of the module; Node loads build/highs.mjs, whose default is the loader itself.
const loadHighs: typeof highsPackage.default =
  typeof highsPackage === 'function' ? highsPackage : highsPackage.default;

let highsLoading: Promise<Highs> | undefined;
/** HiGHS compiled to WebAssembly, loaded once per process. */
export function solver(): Promise<Highs> {
  highsLoading ??= loadHighs();
  return highsLoading;
}

interface Prepared {
  items: OptimizerItem[];
  candidates: Candidate[][];
  weights: number[];
  totalWeight: number;
  baseStock: number;
}

function prepare(items: readonly OptimizerItem[]): Prepared {
  const candidates: Candidate[][] = [];
  const weights: number[] = [];
  let baseStock = 0;
  for (const item of items) {
    const { candidates: list, cycleDemand } = candidatesFor(item);
    candidates.push(list);
    weights.push(Math.max(0, cycleDemand));
    baseStock += item.onHand + item.onOrder;
  }
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  return { items: [...items], candidates, weights, totalWeight, baseStock };
}

type Objective = (item: OptimizerItem, candidate: Candidate) => number;

interface Rows {
  budget?: number | undefined;
  /** Units the orders may add: capacity − on hand − on order. */
  room?: number | undefined;
  serviceLevel?: number | undefined;
}

interface Solved {
  status: string;
  choice: number[];
  objective: number;
  mipGap: number;
  seconds: number;
}

/**
 * One solve: binaries x(i,k), Σₖ x(i,k) = 1 per item, and the rows asked for. Returns the
 * candidate index chosen per item, or status 'Infeasible'.
 */
function solve(
  highs: Highs,
  prepared: Prepared,
  objective: Objective,
  rows: Rows,
  timeLimitSeconds: number,
): Solved {
  const { items, candidates, weights, totalWeight } = prepared;
  const extra: Array<{ upper: number; lower: number; coefficient: (i: number, c: Candidate) => number }> = [];
  if (rows.budget !== undefined)
    extra.push({ lower: -Infinity, upper: rows.budget, coefficient: (_i, c) => c.cost });
  if (rows.room !== undefined)
    extra.push({ lower: -Infinity, upper: rows.room, coefficient: (_i, c) => c.quantity });
  if (rows.serviceLevel !== undefined && totalWeight > 0)
    // Scaled by Σw so the row reads as a share (coefficients of the order of 1/n, not of demand).
    extra.push({
      lower: rows.serviceLevel,
      upper: Infinity,
      coefficient: (i, c) => (weights[i]! / totalWeight) * c.serviceLevel,
    });
  const numRows = items.length + extra.length;
  const colCost: number[] = [];
  const starts: number[] = [0];
  const indices: number[] = [];
  const values: number[] = [];
  const owner: Array<[number, number]> = [];
  for (let i = 0; i < items.length; i++) {
    for (let k = 0; k < candidates[i]!.length; k++) {
      const candidate = candidates[i]![k]!;
      colCost.push(objective(items[i]!, candidate));
      indices.push(i);
      values.push(1);
      for (let r = 0; r < extra.length; r++) {
        const value = extra[r]!.coefficient(i, candidate);
        if (value !== 0) {
          indices.push(items.length + r);
          values.push(value);
        }
      }
      starts.push(indices.length);
      owner.push([i, k]);
    }
  }
  const numCols = colCost.length;
  const model: ModelData = {
    numCols,
    numRows,
    colCost,
    colLower: new Float64Array(numCols),
    colUpper: new Float64Array(numCols).fill(1),
    rowLower: [
      ...items.map(() => 1),
      ...extra.map((row) => (row.lower === -Infinity ? -highs.infinity : row.lower)),
    ],
    rowUpper: [
      ...items.map(() => 1),
      ...extra.map((row) => (row.upper === Infinity ? highs.infinity : row.upper)),
    ],
    matrix: { format: 'csc', numRows, numCols, starts, indices, values },
    integrality: new Int32Array(numCols).fill(highs.constants.variableType.integer),
  };
  const started = performance.now();
  return highs.withModel(model, (handle) => {
    handle.options.set({ output_flag: false, mip_rel_gap: 1e-4, time_limit: timeLimitSeconds });
    handle.run();
    const status = handle.getModelStatus();
    const names = highs.constants.modelStatus;
    const seconds = (performance.now() - started) / 1000;
    const hasSolution = Number(handle.info.get('primal_solution_status')) === 2;
    if (status === names.infeasible || !hasSolution)
      return {
        status: status === names.infeasible ? 'Infeasible' : 'NoSolution',
        choice: [],
        objective: NaN,
        mipGap: NaN,
        seconds,
      };
    const x = handle.getSolution().colValue;
    const choice = new Array<number>(items.length).fill(0);
    for (let column = 0; column < numCols; column++) {
      if (x[column]! > 0.5) {
        const [i, k] = owner[column]!;
        choice[i] = k;
      }
    }
    return {
      status: status === names.optimal ? 'Optimal' : 'TimeLimit',
      choice,
      objective: handle.getObjectiveValue(),
      mipGap: Number(handle.info.get('mip_gap')),
      seconds,
    };
  });
}

/** The objective of the request's flags, in money; a tiny cost term breaks ties when no flag is set. */
function objectiveOf(request: OptimizerRequest): Objective {
  return (item, candidate) => {
    let value = 0;
    if (request.minimizeCost) value += candidate.cost;
    if (request.maximizeServiceLevel) value += candidate.expectedShortage * item.unitRetail;
    if (request.minimizeWaste) value += candidate.expectedWaste * item.unitCost;
    if (!request.minimizeCost && !request.maximizeServiceLevel && !request.minimizeWaste)
      value += candidate.cost * 1e-6;
    return value;
  };
}

/**
 * Why a request has no plan, found by relaxations: no choice reaches the service level even with
 * no budget or room (shelf life or minimums cap it) → minServiceLevel; the cheapest plan that
 * reaches it costs more than maxBudget → maxBudget; the smallest needs more room than
 * storageCapacity (or stock already fills it) → storageCapacity; each alone can be met but not
 * both → both.
 */
/**
 * The checks that need no solve: the service level out of reach even with every item at its
 * largest candidate, or stock on hand and on order already over the capacity. Run before the
 * model, so an impossible request is answered at once, not after a long proof of infeasibility.
 */
function obviouslyInfeasible(prepared: Prepared, request: OptimizerRequest): InfeasibleRequest | null {
  const { candidates, weights, totalWeight, baseStock } = prepared;
  const best =
    totalWeight > 0
      ? candidates.reduce(
          (sum, list, i) => sum + weights[i]! * Math.max(...list.map((c) => c.serviceLevel)),
          0,
        ) / totalWeight
      : 1;
  if (best + 1e-9 < request.minServiceLevel)
    return new InfeasibleRequest(
      'minServiceLevel',
      request.minServiceLevel,
      round(best, 4),
      `No plan reaches a service level of ${request.minServiceLevel}: ordering the most each item's shelf life and vendor terms allow reaches ${round(best, 4)}`,
    );
  if (request.storageCapacity !== undefined && baseStock > request.storageCapacity + EPS)
    return new InfeasibleRequest(
      'storageCapacity',
      request.storageCapacity,
      round(baseStock),
      `Stock on hand and on order (${round(baseStock)} units) already exceeds the storage capacity of ${request.storageCapacity}`,
    );
  return null;
}

function diagnose(
  highs: Highs,
  prepared: Prepared,
  request: OptimizerRequest,
  seconds: number,
): InfeasibleRequest {
  const obvious = obviouslyInfeasible(prepared, request);
  if (obvious) return obvious;
  const { candidates, baseStock } = prepared;
  const serviceLevel = request.minServiceLevel;
  if (request.maxBudget !== undefined) {
    const cheapest = solve(highs, prepared, (_item, c) => c.cost, { serviceLevel }, seconds);
    const cost = cheapest.choice.reduce((sum, k, i) => sum + candidates[i]![k]!.cost, 0);
    if (cheapest.status !== 'Infeasible' && cost > request.maxBudget + 1e-6)
      return new InfeasibleRequest(
        'maxBudget',
        request.maxBudget,
        round(cost, 2),
        `The cheapest plan reaching a service level of ${serviceLevel} costs ${round(cost, 2)}, more than the budget of ${request.maxBudget}`,
      );
  }
  if (request.storageCapacity !== undefined) {
    const smallest = solve(highs, prepared, (_item, c) => c.quantity, { serviceLevel }, seconds);
    const units = smallest.choice.reduce((sum, k, i) => sum + candidates[i]![k]!.quantity, 0) + baseStock;
    if (smallest.status !== 'Infeasible' && units > request.storageCapacity + 1e-6)
      return new InfeasibleRequest(
        'storageCapacity',
        request.storageCapacity,
        round(units),
        `The smallest plan reaching a service level of ${serviceLevel} needs room for ${round(units)} units, more than the storage capacity of ${request.storageCapacity}`,
      );
  }
  return new InfeasibleRequest(
    'maxBudget+storageCapacity',
    request.maxBudget ?? 0,
    null,
    `The budget of ${request.maxBudget} and the storage capacity of ${request.storageCapacity} can each be met at a service level of ${serviceLevel}, but not together`,
  );
}

/**
 * Whether a constraint binds: some item could move one candidate further in the direction the
 * constraint limits (up in cost or room, down in service level), and the slack is too small for
 * any of those moves. With no move left at all, nothing is held back and it does not bind.
 */
function bindingCheck(
  prepared: Prepared,
  choice: number[],
  step: (i: number, from: Candidate, to: Candidate) => number,
  upward: boolean,
  slack: number,
): boolean {
  let movable = false;
  for (let i = 0; i < prepared.items.length; i++) {
    const list = prepared.candidates[i]!;
    const k = choice[i]!;
    const next = upward ? list[k + 1] : list[k - 1];
    if (!next) continue;
    movable = true;
    if (step(i, list[k]!, next) <= slack + 1e-9) return false;
  }
  return movable;
}

/** No items, no model: nothing to order, nothing to run out of. */
function emptyPlan(request: OptimizerRequest): OptimizerResult {
  const constraint = (name: ConstraintName, limit: number, value: number): ConstraintReport => ({
    name,
    limit,
    value,
    slack: round(name === 'minServiceLevel' ? value - limit : limit - value, 4),
    binding: false,
  });
  const constraints: ConstraintReport[] = [];
  if (request.maxBudget !== undefined) constraints.push(constraint('maxBudget', request.maxBudget, 0));
  if (request.storageCapacity !== undefined)
    constraints.push(constraint('storageCapacity', request.storageCapacity, 0));
  constraints.push(constraint('minServiceLevel', request.minServiceLevel, 1));
  return {
    items: [],
    totals: {
      cost: 0,
      expectedServiceLevel: 1,
      expectedWaste: 0,
      expectedWasteCost: 0,
      expectedShortage: 0,
      storageUsed: 0,
    },
    constraints,
    solver: { status: 'Optimal', mipGap: 0, objective: 0, candidates: 0, seconds: 0 },
  };
}

/** Solves the request over the items; throws InfeasibleRequest naming the constraint that cannot be met. */
export async function optimizeInventory(
  items: readonly OptimizerItem[],
  request: OptimizerRequest,
  options: { timeLimitSeconds?: number } = {},
): Promise<OptimizerResult> {
  const prepared = prepare(items);
  if (items.length === 0) return emptyPlan(request);
  const highs = await solver();
  const seconds = options.timeLimitSeconds ?? 4;
  const rows: Rows = {
    budget: request.maxBudget,
    room: request.storageCapacity === undefined ? undefined : request.storageCapacity - prepared.baseStock,
    serviceLevel: request.minServiceLevel,
  };
  const obvious = obviouslyInfeasible(prepared, request);
  if (obvious) throw obvious;
  const solved = solve(highs, prepared, objectiveOf(request), rows, seconds);
  if (solved.status === 'Infeasible') throw diagnose(highs, prepared, request, seconds);
  if (solved.status === 'NoSolution') throw new Error('The solver found no plan within its time limit');

  const plans: ItemPlan[] = prepared.items.map((item, i) => {
    const chosen = prepared.candidates[i]![solved.choice[i]!]!;
    return {
      itemId: item.itemId,
      itemName: item.itemName,
      vendorId: item.vendorId,
      orderQuantity: chosen.quantity,
      cost: round(chosen.cost, 2),
      expectedServiceLevel: round(chosen.serviceLevel, 4),
      expectedWaste: round(chosen.expectedWaste),
      expectedShortage: round(chosen.expectedShortage),
      onHand: item.onHand,
      onOrder: item.onOrder,
      cycleDemand: round(prepared.weights[i]!),
    };
  });
  const chosen = prepared.candidates.map((list, i) => list[solved.choice[i]!]!);
  const cost = chosen.reduce((sum, c) => sum + c.cost, 0);
  const ordered = chosen.reduce((sum, c) => sum + c.quantity, 0);
  const weighted =
    prepared.totalWeight > 0
      ? chosen.reduce((sum, c, i) => sum + prepared.weights[i]! * c.serviceLevel, 0) / prepared.totalWeight
      : 1;
  const waste = chosen.reduce((sum, c) => sum + c.expectedWaste, 0);
  const wasteCost = chosen.reduce((sum, c, i) => sum + c.expectedWaste * prepared.items[i]!.unitCost, 0);
  const shortage = chosen.reduce((sum, c) => sum + c.expectedShortage, 0);

  const constraints: ConstraintReport[] = [];
  if (request.maxBudget !== undefined) {
    const slack = request.maxBudget - cost;
    constraints.push({
      name: 'maxBudget',
      limit: request.maxBudget,
      value: round(cost, 2),
      slack: round(slack, 2),
      binding: bindingCheck(prepared, solved.choice, (_i, from, to) => to.cost - from.cost, true, slack),
    });
  }
  if (request.storageCapacity !== undefined) {
    const used = prepared.baseStock + ordered;
    const slack = request.storageCapacity - used;
    constraints.push({
      name: 'storageCapacity',
      limit: request.storageCapacity,
      value: round(used),
      slack: round(slack),
      binding: bindingCheck(
        prepared,
        solved.choice,
        (_i, from, to) => to.quantity - from.quantity,
        true,
        slack,
      ),
    });
  }
  const serviceSlack = weighted - request.minServiceLevel;
  constraints.push({
    name: 'minServiceLevel',
    limit: request.minServiceLevel,
    value: round(weighted, 4),
    slack: round(serviceSlack, 4),
    binding:
      prepared.totalWeight > 0 &&
      bindingCheck(
        prepared,
        solved.choice,
        (i, from, to) =>
          (prepared.weights[i]! / prepared.totalWeight) * (from.serviceLevel - to.serviceLevel),
        false,
        serviceSlack,
      ),
  });

  return {
    items: plans,
    totals: {
      cost: round(cost, 2),
      expectedServiceLevel: round(weighted, 4),
      expectedWaste: round(waste),
      expectedWasteCost: round(wasteCost, 2),
      expectedShortage: round(shortage),
      storageUsed: round(prepared.baseStock + ordered),
    },
    constraints,
    solver: {
      status: solved.status,
      mipGap: Number.isFinite(solved.mipGap) ? round(solved.mipGap, 6) : 0,
      objective: round(solved.objective, 4),
      candidates: prepared.candidates.reduce((sum, list) => sum + list.length, 0),
      seconds: round(solved.seconds, 3),
    },
  };
}
