import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  candidatesFor,
  InfeasibleRequest,
  type OptimizerItem,
  optimizeInventory,
} from './optimizer.ts';

/** The optimiser on hand-made items: the model's numbers checked by hand, and HiGHS really solving. */

const flat = (mean: number, sd: number, days = 28) => Array.from({ length: days }, () => ({ mean, sd }));

const item = (fields: Partial<OptimizerItem> & { itemId: string }): OptimizerItem => ({
  itemName: fields.itemId,
  points: flat(10, 3),
  onHand: 0,
  onOrder: 0,
  leadTimeDays: 2,
  reviewPeriodDays: 5,
  shelfLifeDays: null,
  unitCost: 1,
  priceBreaks: [],
  unitRetail: 2,
  unitsPerCase: 1,
  minimumOrderUnits: 0,
  vendorId: null,
  ...fields,
});

const request = {
  minServiceLevel: 0.9,
  minimizeCost: true,
  maximizeServiceLevel: false,
  minimizeWaste: false,
};

/** Every combination of candidates, for checking the solver's optimum on small cases. */
function bruteForce(
  list: OptimizerItem[],
  accept: (cost: number, units: number, level: number) => boolean,
  objective: (cost: number, units: number, level: number) => number,
) {
  const options = list.map((entry) => candidatesFor(entry));
  const weights = options.map((option) => option.cycleDemand);
  const total = weights.reduce((a, b) => a + b, 0);
  let best: { value: number; quantities: number[] } | null = null;
  const walk = (index: number, picked: Candidate[]) => {
    if (index === options.length) {
      const cost = picked.reduce((sum, c) => sum + c.cost, 0);
      const units = picked.reduce((sum, c) => sum + c.position, 0);
      const level = picked.reduce((sum, c, i) => sum + weights[i]! * c.serviceLevel, 0) / total;
      if (!accept(cost, units, level)) return;
      const value = objective(cost, units, level);
      if (!best || value < best.value - 1e-9) best = { value, quantities: picked.map((c) => c.quantity) };
      return;
    }
    for (const candidate of options[index]!.candidates) walk(index + 1, [...picked, candidate]);
  };
  walk(0, []);
  return best as { value: number; quantities: number[] } | null;
}

describe('candidatesFor', () => {
  it('rounds each service level’s order-up-to quantity up to whole cases and the minimum', () => {
    // Cycle (2 + 5 days): mean 70, σ = 3·√7 = 7.937, 20 on hand. Level 0.5 needs 50 more → 5 cases
    // of 12 = 60 (above the 24-unit minimum); 0.8 … 0.99 need 57 … 69 → 60 or 72 (6 cases).
    const { candidates, cycleDemand } = candidatesFor(
      item({ itemId: 'a', onHand: 20, unitsPerCase: 12, minimumOrderUnits: 24 }),
    );
    expect(cycleDemand).toBe(70);
    expect(candidates.map((c) => c.quantity)).toEqual([0, 60, 72]);
    expect(candidates.map((c) => c.position)).toEqual([20, 80, 92]);
    expect(candidates[1]!.serviceLevel).toBeCloseTo(0.89614, 4); // Φ(10 / 7.937) = Φ(1.26)
    expect(candidates[2]!.serviceLevel).toBeCloseTo(0.99721, 4); // Φ(22 / 7.937) = Φ(2.772)
    expect(candidates[0]!.expectedShortage).toBeCloseTo(50, 4); // 70 − 20: surely short
  });

  it('caps orders by what sells before the delivery expires, and applies price breaks', () => {
    // Shelf life 3 days: lead time + shelf life sells 50 on average, 10 on hand → at most 40.
    const { candidates } = candidatesFor(
      item({
        itemId: 'b',
        onHand: 10,
        shelfLifeDays: 3,
        priceBreaks: [{ minQuantity: 40, unitCost: 0.5 }],
      }),
    );
    expect(candidates.map((c) => c.quantity)).toEqual([0, 40]);
    expect(candidates[1]!.cost).toBe(20);
    // E[(50 − D)⁺], D ~ N(50, 3·√5): σ·φ(0) = 6.708 · 0.39894 = 2.676.
    expect(candidates[1]!.expectedWaste).toBeCloseTo(2.676, 3);
    expect(candidates[0]!.expectedWaste).toBeCloseTo(0, 6);
  });
});

describe('optimizeInventory', () => {
  const items = [
    item({ itemId: 'milk', unitCost: 1, points: flat(10, 3) }),
    item({ itemId: 'bread', unitCost: 2, points: flat(5, 2) }),
    item({ itemId: 'eggs', unitCost: 3, points: flat(4, 1), unitsPerCase: 6 }),
  ];

  it('finds the cheapest plan reaching the service level within budget and capacity (= exhaustive search)', async () => {
    const result = await optimizeInventory(items, { ...request, maxBudget: 400, storageCapacity: 300 });
    const best = bruteForce(
      items,
      (cost, units, level) => cost <= 400 && units <= 300 && level >= 0.9,
      (cost) => cost,
    )!;
    expect(result.solver.status).toBe('Optimal');
    // Ties are possible (84 + 42 units cost what 86 + 41 do): the cost is what must match.
    expect(result.totals.cost).toBe(best.value);
    expect(result.totals.cost).toBe(258);
    expect(result.totals.storageUsed).toBeLessThanOrEqual(300);
    expect(result.totals.expectedServiceLevel).toBeGreaterThanOrEqual(0.9);
    expect(result.constraints).toEqual([
      { name: 'maxBudget', limit: 400, value: 258, slack: 142, binding: false },
      expect.objectContaining({ name: 'storageCapacity', limit: 300, binding: false }),
      expect.objectContaining({ name: 'minServiceLevel', limit: 0.9, binding: true }),
    ]);
  });

  it('keeps within a budget that binds, buying the most service the money allows (= exhaustive search)', async () => {
    const result = await optimizeInventory(items, {
      minServiceLevel: 0.5,
      maxBudget: 200,
      minimizeCost: false,
      maximizeServiceLevel: true,
      minimizeWaste: false,
    });
    const lostSales = (quantities: number[]) =>
      quantities.reduce((sum, quantity, i) => {
        const candidate = candidatesFor(items[i]!).candidates.find((c) => c.quantity === quantity)!;
        return sum + candidate.expectedShortage * items[i]!.unitRetail;
      }, 0);
    const options = items.map((entry) => candidatesFor(entry).candidates);
    let bestValue = Infinity;
    for (const a of options[0]!)
      for (const b of options[1]!)
        for (const c of options[2]!) {
          if (a.cost + b.cost + c.cost > 200) continue;
          const value = lostSales([a.quantity, b.quantity, c.quantity]);
          if (value < bestValue) bestValue = value;
        }
    expect(result.totals.cost).toBeLessThanOrEqual(200);
    expect(lostSales(result.items.map((plan) => plan.orderQuantity))).toBeCloseTo(bestValue, 6);
    expect(result.constraints.find((c) => c.name === 'maxBudget')!.binding).toBe(true);
  });

  it('names maxBudget when the cheapest plan reaching the level costs more', async () => {
    const error = await optimizeInventory(items, { ...request, maxBudget: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfeasibleRequest);
    expect(error).toMatchObject({ constraint: 'maxBudget', limit: 100, required: 258 });
  });

  it('names storageCapacity when the smallest plan needs more room', async () => {
    const smallest = bruteForce(
      items,
      (_cost, _units, level) => level >= 0.9,
      (_cost, units) => units,
    )!;
    const error = await optimizeInventory(items, { ...request, storageCapacity: 100 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ constraint: 'storageCapacity', limit: 100, required: smallest.value });
    expect(smallest.value).toBe(156);
  });

  it('names storageCapacity when stock on hand and on order already fills it', async () => {
    const full = [item({ itemId: 'rice', onHand: 80, onOrder: 40 })];
    const error = await optimizeInventory(full, { ...request, storageCapacity: 100 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ constraint: 'storageCapacity', limit: 100, required: 120 });
  });

  it('names both when each limit alone can be met but not together', async () => {
    // Cheap bulky flour (σ 6 a day) against dear compact saffron (σ 1): the cheapest plan reaching
    // 0.9 costs 739.70 for 170 units, the smallest needs 161 units and costs 778.40.
    const pair = [
      item({ itemId: 'flour', unitCost: 0.1, points: flat(10, 6) }),
      item({ itemId: 'saffron', unitCost: 10, points: flat(10, 1) }),
    ];
    const cheapest = bruteForce(
      pair,
      (_c, _u, level) => level >= 0.9,
      (cost) => cost,
    )!;
    const smallest = bruteForce(
      pair,
      (_c, _u, level) => level >= 0.9,
      (_c, units) => units,
    )!;
    expect([cheapest.value, smallest.value]).toEqual([739.7, 161]);
    const both = bruteForce(
      pair,
      (cost, units, level) => cost <= cheapest.value && units <= smallest.value && level >= 0.9,
      () => 0,
    );
    expect(both).toBeNull();
    const error = await optimizeInventory(pair, {
      ...request,
      maxBudget: cheapest.value,
      storageCapacity: smallest.value,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ constraint: 'maxBudget+storageCapacity', required: null });
  });

  it('names minServiceLevel when shelf life caps every plan below it', async () => {
    // Lead time + 3 days' shelf life sells 50 of a 70-unit cycle (σ = 5·√7): at most Φ(−20 / 13.23).
    const shortLived = [item({ itemId: 'berries', shelfLifeDays: 3, points: flat(10, 5) })];
    const error = await optimizeInventory(shortLived, { ...request, minServiceLevel: 0.8 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ constraint: 'minServiceLevel', limit: 0.8, required: 0.0653 });
  });

  it('weighs waste: a short-lived item is ordered less when minimizeWaste is set', async () => {
    const shortLived = [
      item({ itemId: 'herbs', shelfLifeDays: 7, points: flat(10, 4), unitCost: 5, unitRetail: 6 }),
    ];
    const base = { minServiceLevel: 0.5, minimizeCost: false, maximizeServiceLevel: true };
    const service = await optimizeInventory(shortLived, { ...base, minimizeWaste: false });
    const careful = await optimizeInventory(shortLived, { ...base, minimizeWaste: true });
    expect(careful.items[0]!.orderQuantity).toBeLessThan(service.items[0]!.orderQuantity);
    expect(careful.totals.expectedWaste).toBeLessThan(service.totals.expectedWaste);
  });
});
