import { describe, expect, it } from 'vitest';
import {
  type GenerationRules,
  type ItemSituation,
  roundToOffer,
  simulateShelf,
  suggestOrder,
  topPriority,
  type VendorOffer,
} from './generate.ts';

// A Monday, so weekday names in reasons are fixed.
const TODAY = '2026-11-30';
const RULES: GenerationRules = {
  today: TODAY,
  daysAhead: 7,
  serviceLevel: 0.95,
  defaultLeadTimeDays: 2,
  lowStockThreshold: 10,
  includeExpiring: true,
};

const offer = (extra: Partial<VendorOffer> = {}): VendorOffer => ({
  vendorId: 'farm',
  vendorName: 'Fresh Farms',
  preferred: true,
  minimumUnits: 0,
  unitCost: 1,
  priceBreaks: [],
  unitsPerCase: 1,
  leadTimeDays: 2,
  deliveryDays: [],
  ...extra,
});

const flat = (mean: number, sd = 0, days = 28) => Array.from({ length: days }, () => ({ mean, sd }));

const item = (extra: Partial<ItemSituation> = {}): ItemSituation => ({
  itemId: 'item',
  name: 'Item',
  lots: [],
  onOrder: 0,
  reorderPoint: null,
  shelfLifeDays: null,
  fallbackUnitCost: null,
  forecast: { firstDate: TODAY, points: flat(10) },
  offers: [offer()],
  ...extra,
});

describe('simulateShelf', () => {
  it('sells first-expiring lots first and counts what expires unsold, by expiry date', () => {
    const result = simulateShelf(
      [
        { quantity: 10, expirationDate: null },
        { quantity: 20, expirationDate: '2026-12-01' },
        { quantity: 3, expirationDate: '2026-11-29' },
      ],
      () => 6,
      TODAY,
      9,
    );
    // Day 0 and 1 sell 12 of the 20 expiring on 1 Dec; 8 expire; the 10 last until day 3 + 4/6.
    expect(result.waste).toEqual([{ date: '2026-12-01', quantity: 8 }]);
    expect(result.daysOfCover).toBeCloseTo(3 + 4 / 6, 10);
  });
});

describe('suggestOrder', () => {
  it('orders up to the cycle demand plus safety stock, minus stock and stock on order, in whole cases', () => {
    const suggestion = suggestOrder(
      item({
        lots: [{ quantity: 30, expirationDate: null }],
        onOrder: 12,
        forecast: { firstDate: TODAY, points: flat(10, 2) },
        offers: [
          offer({ unitsPerCase: 12, unitCost: 0.5, priceBreaks: [{ minQuantity: 60, unitCost: 0.4 }] }),
        ],
      }),
      RULES,
    );
    // 9 days: mean 90, σ = 2·√9 = 6, z(0.95) = 1.6449 → S = 99.87; need 99.87 − 30 − 12 = 57.87 → 60.
    expect(suggestion).toMatchObject({
      suggestedQuantity: 60,
      // Empties on day 3, within 2 days after the delivery on day 2.
      priority: 'high',
      estimatedCost: 24,
      daysOfCover: 3,
      emptiesOn: '2026-12-03',
      usedForecast: true,
    });
    expect(suggestion!.reason).toBe(
      '3 days of cover left, delivery from Fresh Farms takes 2 days; 12 already on order; 58 more needed to cover 9 days (expected sales 90); rounded up to 5 cases of 12',
    );
  });

  it('does not count stock that expires before it sells, and names the day', () => {
    const suggestion = suggestOrder(item({ lots: [{ quantity: 40, expirationDate: '2026-12-02' }] }), RULES);
    // 30 sell by Wednesday 2 Dec, 10 expire: sellable 30, need 90 − 30 = 60.
    expect(suggestion!.suggestedQuantity).toBe(60);
    expect(suggestion!.reason).toBe(
      '3 days of cover left, delivery from Fresh Farms takes 2 days; 10 expire Wednesday before they sell; 60 more needed to cover 9 days (expected sales 90)',
    );
    expect(
      suggestOrder(item({ lots: [{ quantity: 40, expirationDate: '2026-12-02' }] }), {
        ...RULES,
        includeExpiring: false,
      })!.suggestedQuantity,
    ).toBe(50);
  });

  it('leaves out less than a unit expected to expire, and says expected sales to one decimal', () => {
    const suggestion = suggestOrder(
      item({
        lots: [{ quantity: 30.4, expirationDate: '2026-12-02' }],
        forecast: { firstDate: TODAY, points: flat(10.01) },
      }),
      RULES,
    );
    expect(suggestion!.reason).toBe(
      '3 days of cover left, delivery from Fresh Farms takes 2 days; 61 more needed to cover 9 days (expected sales 90.1)',
    );
  });

  it('caps at what sells within the shelf life, in whole cases, and skips when not one case fits', () => {
    const basil = item({
      shelfLifeDays: 2,
      forecast: { firstDate: TODAY, points: flat(5) },
      offers: [offer({ unitsPerCase: 4 })],
    });
    const suggestion = suggestOrder(basil, RULES)!;
    // Arrives day 2 with nothing left; sells 10 within 2 days: 2 cases of 4.
    expect([suggestion.suggestedQuantity, suggestion.maxQuantity, suggestion.priority]).toEqual([
      8,
      10,
      'urgent',
    ]);
    expect(suggestion.reason).toContain(
      'capped at 8: no more is expected to sell within its shelf life of 2 days',
    );
    expect(suggestOrder({ ...basil, offers: [offer({ unitsPerCase: 12 })] }, RULES)).toBeNull();
  });

  it('raises to the line minimum; nothing when stock covers the cycle', () => {
    const oil = suggestOrder(
      item({
        lots: [{ quantity: 85, expirationDate: null }],
        offers: [offer({ unitsPerCase: 6, minimumUnits: 24 })],
      }),
      RULES,
    )!;
    expect(oil.suggestedQuantity).toBe(24);
    expect(oil.reason).toContain("raised to Fresh Farms's minimum order of 24 (4 cases of 6)");
    // 8.5 days of cover: within the 9 days the order covers.
    expect(oil.priority).toBe('medium');
    expect(suggestOrder(item({ lots: [{ quantity: 95, expirationDate: null }] }), RULES)).toBeNull();
  });

  it('without a forecast, orders up to twice the reorder point once at or below it', () => {
    const saffron = item({
      forecast: null,
      reorderPoint: 6,
      lots: [{ quantity: 5, expirationDate: null }],
      offers: [],
      fallbackUnitCost: 2,
    });
    expect(suggestOrder(saffron, RULES)).toMatchObject({
      suggestedQuantity: 7,
      priority: 'medium',
      estimatedCost: 14,
      preferredVendor: null,
      usedForecast: false,
      reason:
        'No forecast yet (too little sales history): 5 in stock, at or below the reorder point of 6; ordered up to twice the reorder point (12); delivery takes 2 days',
    });
    // No reorder point of its own: the low-stock threshold (10) is one; twice it is 20.
    expect(suggestOrder({ ...saffron, reorderPoint: null }, RULES)!.suggestedQuantity).toBe(15);
    expect(suggestOrder({ ...saffron, reorderPoint: null }, { ...RULES, lowStockThreshold: 4 })).toBeNull();
    expect(suggestOrder({ ...saffron, lots: [] }, RULES)!.priority).toBe('urgent');
  });

  it('goes to the cheapest vendor without a preferred one, and rounds up with cases', () => {
    const cheap = offer({
      vendorId: 'metro',
      vendorName: 'Metro',
      preferred: false,
      unitCost: 0.9,
      leadTimeDays: 1,
    });
    const dear = offer({ preferred: false, unitCost: 1.1 });
    expect(suggestOrder(item({ offers: [dear, cheap] }), RULES)).toMatchObject({
      preferredVendor: 'Metro',
      suggestedQuantity: 80,
    });
    expect(roundToOffer(0.5, { unitsPerCase: 6, minimumUnits: 0 })).toBe(6);
    expect(roundToOffer(12, { unitsPerCase: 6, minimumUnits: 0 })).toBe(12);
    expect(topPriority(['low', 'high', 'medium'])).toBe('high');
  });
});
