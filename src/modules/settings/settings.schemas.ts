import { type Static, Type } from 'typebox';

/** Organisation settings. Later features add keys here; stored rows without a key get its default. */
export const Settings = Type.Object({
  lowStockThreshold: Type.Integer({
    minimum: 0,
    maximum: 1_000_000,
    description: 'Stock at or below which an item without its own reorder point counts as low',
  }),
  expiryWarningDays: Type.Integer({
    minimum: 0,
    maximum: 365,
    description: 'An item counts as expiring when a lot with stock expires within this many days',
  }),
  timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Rome' }),
  currency: Type.String({
    minLength: 3,
    maxLength: 3,
    pattern: '^[A-Z]{3}$',
    'x-error-message': { pattern: 'must be a three-letter ISO 4217 currency code in capitals, e.g. EUR' },
    description: 'ISO 4217 code, e.g. EUR',
  }),
  country: Type.Union(
    [
      Type.String({
        minLength: 2,
        maxLength: 2,
        pattern: '^[A-Z]{2}$',
        'x-error-message': { pattern: 'must be a two-letter ISO 3166-1 country code in capitals, e.g. IT' },
      }),
      Type.Null(),
    ],
    { description: "ISO 3166-1 alpha-2 code: forecasts use this country's public holidays (null: none)" },
  ),
  region: Type.Union([Type.String({ minLength: 1, maxLength: 10, pattern: '^[A-Za-z0-9]+$' }), Type.Null()], {
    description:
      "The country's subdivision for regional holidays (ISO 3166-2 suffix, e.g. BY for Bavaria), or null",
  }),
  serviceLevel: Type.Number({
    minimum: 0.5,
    maximum: 0.999,
    description:
      'Target probability of not running out between deliveries, used for safety stock (e.g. 0.95)',
  }),
  reviewPeriodDays: Type.Integer({
    minimum: 1,
    maximum: 90,
    description: 'Days between ordering decisions: reorder policies cover lead time plus this period',
  }),
  defaultLeadTimeDays: Type.Integer({
    minimum: 0,
    maximum: 365,
    description: 'Delivery lead time for items without a vendor catalogue line that says otherwise',
  }),
});
export type Settings = Static<typeof Settings>;

export const SettingsUpdate = Type.Partial(Settings, { minProperties: 1, additionalProperties: false });

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  lowStockThreshold: 10,
  expiryWarningDays: 3,
  timeZone: 'UTC',
  currency: 'USD',
  country: null,
  region: null,
  serviceLevel: 0.95,
  reviewPeriodDays: 7,
  defaultLeadTimeDays: 2,
});
