import { describe, expect, it } from 'vitest';
import { expectedDeliveryDate, isoWeekday, normalisePriceBreaks, unitCostFor } from './catalogue.ts';

describe('catalogue terms', () => {
  const terms = {
    unitCost: 2.5,
    priceBreaks: [
      { minQuantity: 24, unitCost: 2.2 },
      { minQuantity: 96, unitCost: 1.95 },
    ],
  };

  it('prices a quantity at the deepest price break it reaches', () => {
    expect(unitCostFor(terms, 1)).toBe(2.5);
    expect(unitCostFor(terms, 23.999)).toBe(2.5);
    expect(unitCostFor(terms, 24)).toBe(2.2);
    expect(unitCostFor(terms, 95)).toBe(2.2);
    expect(unitCostFor(terms, 96)).toBe(1.95);
    expect(unitCostFor(terms, 10_000)).toBe(1.95);
    expect(unitCostFor({ unitCost: 3, priceBreaks: [] }, 500)).toBe(3);
  });

  it('dates an order by lead time, then to the next delivery day', () => {
    // 2026-12-03 is a Thursday.
    expect(isoWeekday('2026-12-03')).toBe(4);
    expect(isoWeekday('2026-12-06')).toBe(7);
    expect(expectedDeliveryDate('2026-12-03', { leadTimeDays: 2, deliveryDays: [] })).toBe('2026-12-05');
    // Two days' lead time lands on Saturday; the vendor delivers Monday and Wednesday.
    expect(expectedDeliveryDate('2026-12-03', { leadTimeDays: 2, deliveryDays: [1, 3] })).toBe('2026-12-07');
    // A delivery day that is the earliest day itself is taken.
    expect(expectedDeliveryDate('2026-12-03', { leadTimeDays: 4, deliveryDays: [1] })).toBe('2026-12-07');
    expect(expectedDeliveryDate('2026-12-31', { leadTimeDays: 0, deliveryDays: [5] })).toBe('2027-01-01');
  });

  it('sorts price breaks and refuses the same quantity twice', () => {
    expect(
      normalisePriceBreaks([
        { minQuantity: 96, unitCost: 1.95 },
        { minQuantity: 24, unitCost: 2.2 },
      ]),
    ).toEqual({ breaks: [terms.priceBreaks[0], terms.priceBreaks[1]] });
    expect(
      normalisePriceBreaks([
        { minQuantity: 24, unitCost: 2.2 },
        { minQuantity: 24, unitCost: 2.1 },
      ]),
    ).toEqual({ problem: 'has two price breaks from 24 units' });
  });

  it('refuses a break dearer than the price below it, the base cost included when known', () => {
    const dearer = normalisePriceBreaks([
      { minQuantity: 24, unitCost: 2.2 },
      { minQuantity: 96, unitCost: 2.3 },
    ]);
    expect(dearer).toMatchObject({
      problem: expect.stringContaining('from 96 units at 2.3, dearer than the 2.2'),
    });
    expect(normalisePriceBreaks([{ minQuantity: 24, unitCost: 2.6 }], 2.5)).toMatchObject({
      problem: expect.stringContaining('dearer than the 2.5 base unit cost'),
    });
    // Without the base cost (a partial update of the breaks alone), only the breaks are compared.
    expect(normalisePriceBreaks([{ minQuantity: 24, unitCost: 2.6 }])).toEqual({
      breaks: [{ minQuantity: 24, unitCost: 2.6 }],
    });
    // The same price at a larger quantity is allowed (a break that changes nothing is harmless).
    expect(normalisePriceBreaks([{ minQuantity: 12, unitCost: 2.5 }], 2.5)).toEqual({
      breaks: [{ minQuantity: 12, unitCost: 2.5 }],
    });
  });
});
