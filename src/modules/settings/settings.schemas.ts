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
});
export type Settings = Static<typeof Settings>;

export const SettingsUpdate = Type.Partial(Settings, { minProperties: 1, additionalProperties: false });

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  lowStockThreshold: 10,
  expiryWarningDays: 3,
  timeZone: 'UTC',
  currency: 'USD',
});
