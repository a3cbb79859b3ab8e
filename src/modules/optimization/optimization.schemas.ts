import { type Static, Type } from 'typebox';

/** Request and response shapes of POST /v1/ml/optimize/inventory. Units and assumptions are in the descriptions. */

export const OPTIMIZE_DESCRIPTION = [
  'Proposes how many units of each item to order now; it orders nothing. Solved as one mixed-integer model by HiGHS.',
  '',
  '- Per item the candidates are 0 and the quantities lifting on hand + on order to the order-up-to level of service levels 0.5–0.99 over lead time + the store’s review period (from the stored forecast’s mean and σ), rounded up to the ordering vendor’s case pack and minimum, and capped by the expected demand over lead time + shelf life. Exactly one is chosen.',
  '- The ordering vendor is the item’s preferred catalogue line of an active vendor, else its cheapest; its lead time, case pack, minimum and price breaks apply. Without one: the store’s default lead time, single units, the item’s vendor or unit cost.',
  '- Service level: the probability of not running out before the next order arrives (normal forecast errors); the plan’s level is weighted by each item’s expected demand over that span.',
  '- Expected waste: units expected unsold when the new delivery expires (on hand + on order + order − demand over lead time + shelf life, when positive); 0 for items without a shelf life.',
  '- Objective, in money: purchase cost (minimizeCost) + expected lost sales × retail price (maximizeServiceLevel) + expected waste × unit cost (minimizeWaste).',
  '- A constraint binds when its slack is too small for any one item to move one candidate further in the direction it limits.',
  '- Items without a stored forecast are left out and listed in `excludedItems`.',
  '- No plan meets the constraints → 422 `CONSTRAINT_INFEASIBLE`, `details.constraint` naming which: `minServiceLevel` (not reachable even without limits: shelf lives or minimums cap it), `maxBudget` (the cheapest plan reaching the level costs more; `details.required` is its cost), `storageCapacity` (the smallest needs more room, or stock already fills it; `details.required` in units), or `maxBudget+storageCapacity` (each can be met, not both).',
].join('\n');

export const OptimizeBody = Type.Object(
  {
    constraints: Type.Object(
      {
        maxBudget: Type.Optional(
          Type.Number({
            minimum: 0,
            maximum: 1e12,
            description: 'Most the orders may cost together, store currency',
          }),
        ),
        storageCapacity: Type.Optional(
          Type.Number({
            minimum: 0,
            maximum: 1e12,
            description: 'Most units on hand + on order + ordered, over all planned items together',
          }),
        ),
        minServiceLevel: Type.Number({
          minimum: 0,
          maximum: 0.99,
          description:
            'Least demand-weighted probability of not running out before the next delivery (0–0.99)',
        }),
      },
      { additionalProperties: false },
    ),
    objectives: Type.Object(
      {
        minimizeCost: Type.Boolean({ description: 'Count the purchase cost of the orders' }),
        maximizeServiceLevel: Type.Boolean({ description: 'Count expected lost sales at retail price' }),
        minimizeWaste: Type.Boolean({ description: 'Count expected expired units at unit cost' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type OptimizeBody = Static<typeof OptimizeBody>;

const ConstraintName = Type.Unsafe<'maxBudget' | 'storageCapacity' | 'minServiceLevel'>({
  type: 'string',
  enum: ['maxBudget', 'storageCapacity', 'minServiceLevel'],
});

export const OptimizeResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      itemId: Type.String({ format: 'uuid' }),
      itemName: Type.String(),
      vendorId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
        description: 'The vendor whose catalogue terms were used; null without a catalogue line',
      }),
      orderQuantity: Type.Number({
        minimum: 0,
        description: 'Units to order now (whole cases of the vendor)',
      }),
      cost: Type.Number({ minimum: 0, description: 'Purchase cost of the order, store currency' }),
      expectedServiceLevel: Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'Probability of not running out before the next order arrives',
      }),
      expectedWaste: Type.Number({
        minimum: 0,
        description: 'Units expected unsold when the delivery expires',
      }),
      expectedShortage: Type.Number({
        minimum: 0,
        description: 'Units of demand expected unmet before the next order arrives',
      }),
      onHand: Type.Number({ description: 'Units in stock now' }),
      onOrder: Type.Number({ minimum: 0, description: 'Units on placed orders not yet received' }),
      cycleDemand: Type.Number({
        minimum: 0,
        description: 'Expected demand over lead time + review period, units (the item’s weight)',
      }),
      leadTimeDays: Type.Integer({ minimum: 0, description: 'Lead time used' }),
    }),
  ),
  totals: Type.Object({
    cost: Type.Number({ minimum: 0, description: 'Purchase cost of all orders' }),
    expectedServiceLevel: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'Demand-weighted service level',
    }),
    expectedWaste: Type.Number({ minimum: 0, description: 'Units expected to expire unsold' }),
    expectedWasteCost: Type.Number({ minimum: 0, description: 'Those units at unit cost' }),
    expectedShortage: Type.Number({ minimum: 0, description: 'Units of demand expected unmet' }),
    storageUsed: Type.Number({ description: 'Units on hand + on order + ordered' }),
  }),
  constraints: Type.Array(
    Type.Object({
      name: ConstraintName,
      limit: Type.Number({ description: 'The request’s value' }),
      value: Type.Number({ description: 'The plan’s value' }),
      slack: Type.Number({ description: 'How far the plan is from the limit' }),
      binding: Type.Boolean({ description: 'The limit stops any one item moving further' }),
    }),
    { description: 'Each constraint of the request (the service level always)' },
  ),
  solver: Type.Object({
    name: Type.Literal('highs'),
    status: Type.String({ description: 'Optimal, or TimeLimit (best plan found in time)' }),
    mipGap: Type.Number({ minimum: 0, description: 'Relative gap between the plan and the best bound' }),
    objective: Type.Number({ description: 'Objective value, store currency' }),
    candidates: Type.Integer({ minimum: 0, description: 'Binary variables in the model' }),
    seconds: Type.Number({ minimum: 0, description: 'Solve time' }),
  }),
  excludedItems: Type.Array(
    Type.Object({
      itemId: Type.String({ format: 'uuid' }),
      itemName: Type.String(),
      reason: Type.Literal('no_forecast'),
    }),
    { description: 'Items left out: no stored forecast yet' },
  ),
});
export type OptimizeResponse = Static<typeof OptimizeResponse>;
