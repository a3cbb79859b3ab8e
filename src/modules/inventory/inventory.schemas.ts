import { type Static, Type } from 'typebox';
import { ReorderPolicy } from '../forecasting/forecasting.schemas.ts';

const Text = (max: number, description?: string) =>
  Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });
const Quantity = (description?: string) =>
  Type.Number({ minimum: 0, maximum: 1_000_000_000, ...(description ? { description } : {}) });
const Money = (description?: string) =>
  Type.Number({ minimum: 0, maximum: 1_000_000_000, ...(description ? { description } : {}) });
const IsoDate = Type.String({ format: 'date', description: 'YYYY-MM-DD' });

export const STATUSES = ['in_stock', 'low_stock', 'out_of_stock', 'expiring'] as const;
export type ItemStatus = (typeof STATUSES)[number];

/**
 * The spec's four values, kept: clients switch on them, and `expiring` is how they find stock to
 * check for its date. Stock already past its date is told apart by `expiredStock` and each lot's
 * `expired` (ARCHITECTURE.md, "Expired stock").
 */
const STATUS_DESCRIPTION =
  'Derived, in this order: out_of_stock (no stock); low_stock (at or below the reorder point, else the store’s lowStockThreshold); expiring (a lot with stock expires on or before today + the store’s expiryWarningDays, which includes stock already past its date: `expiredStock` > 0 says so); else in_stock';

/** Fixed so waste can be reported by reason; each maps to a ledger movement type. */
export const ADJUSTMENT_REASONS = [
  'received',
  'sold',
  'expired',
  'damaged',
  'spoiled',
  'theft',
  'count_correction',
  'returned_to_vendor',
  'other',
] as const;
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];

const itemFields = {
  description: Text(500, 'Item name as shown to staff'),
  category: Text(100),
  brand: Type.Optional(Text(200)),
  department: Type.Optional(Text(100)),
  itemSku: Type.Optional(Text(64, 'Unique per store among live items')),
  itemUpc: Type.Optional(
    Text(
      32,
      'UPC/EAN barcode (or an in-store code). Trimmed; 8, 12, 13 or 14 digits are a UPC-A/UPC-E/EAN-8/EAN-13/GTIN-14 whose check digit must hold, as the barcode lookup requires (400 VALIDATION_ERROR names the expected digit); other text is kept as an in-store code',
    ),
  ),
  packSize: Type.Optional(Text(100)),
  qtyShipped: Type.Optional(Quantity()),
  salesWeekly: Type.Optional(Quantity()),
  location: Type.Optional(Text(100)),
  aisle: Type.Optional(Text(50)),
  row: Type.Optional(Text(50)),
  bin: Type.Optional(Text(50)),
  unitCost: Type.Optional(Money()),
  vendorCost: Type.Optional(Money()),
  custCostEach: Type.Optional(Money()),
  unitRetail: Type.Optional(Money()),
  advertisingFlag: Type.Optional(Type.Boolean()),
  orderType: Type.Optional(Text(50)),
  vendorId: Type.Optional(Type.String({ format: 'uuid' })),
  reorderPoint: Type.Optional(Quantity('Minimum / par level: at or below it the item is low on stock')),
  shelfLifeDays: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 3650,
      description:
        'Days from receipt to expiry for a fresh lot. When set, receiving the item needs an expiry date, and a lot that arrives with less than RECEIPT_SHORT_DATED_SHARE of it left is short-dated.',
    }),
  ),
};

export const CreateItemBody = Type.Object({
  ...itemFields,
  remainingStock: Type.Optional(Quantity('Opening stock: creates the first lot')),
  expirationDate: Type.Optional(IsoDate),
  lotCode: Type.Optional(Text(100)),
});
export type CreateItemBody = Static<typeof CreateItemBody>;

const { description: _d, category: _c, ...optionalFields } = itemFields;
export const UpdateItemBody = Type.Object(
  {
    id: Type.Optional(Type.String({ format: 'uuid', description: 'If sent, must match the path' })),
    description: Type.Optional(itemFields.description),
    category: Type.Optional(itemFields.category),
    ...optionalFields,
    remainingStock: Type.Optional(
      Quantity('A new counted level: recorded as a count correction in the ledger'),
    ),
    expirationDate: Type.Optional(IsoDate),
  },
  { minProperties: 1 },
);
export type UpdateItemBody = Static<typeof UpdateItemBody>;

export const Lot = Type.Object({
  id: Type.String({ format: 'uuid' }),
  lotCode: Type.Union([Type.String(), Type.Null()]),
  quantity: Type.Number(),
  expirationDate: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  receivedDate: Type.String({ format: 'date' }),
  unitCost: Type.Union([Type.Number(), Type.Null()]),
  expired: Type.Boolean({ description: 'Its expiry date is before the store’s today' }),
});

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const Item = Type.Object({
  id: Type.String({ format: 'uuid' }),
  description: Type.String(),
  category: Type.String(),
  brand: nullable(Type.String()),
  department: nullable(Type.String()),
  itemSku: nullable(Type.String()),
  itemUpc: nullable(Type.String()),
  packSize: nullable(Type.String()),
  qtyShipped: Type.Number(),
  remainingStock: Type.Number({ description: 'Sum of the lots' }),
  expiredStock: Type.Number({
    description: 'The part of remainingStock in lots already past their expiry date (0 when none)',
  }),
  salesWeekly: nullable(Type.Number()),
  location: nullable(Type.String()),
  aisle: nullable(Type.String()),
  row: nullable(Type.String()),
  bin: nullable(Type.String()),
  expirationDate: nullable(
    Type.String({ format: 'date', description: 'Earliest expiry among lots with stock' }),
  ),
  unitCost: nullable(Type.Number()),
  vendorCost: nullable(Type.Number()),
  custCostEach: nullable(Type.Number()),
  unitRetail: nullable(Type.Number()),
  advertisingFlag: Type.Boolean(),
  orderType: nullable(Type.String()),
  vendorId: nullable(Type.String({ format: 'uuid' })),
  reorderPoint: nullable(Type.Number()),
  shelfLifeDays: nullable(
    Type.Integer({ description: 'Days from receipt to expiry; null when the item keeps' }),
  ),
  status: Type.Unsafe<ItemStatus>({ type: 'string', enum: [...STATUSES], description: STATUS_DESCRIPTION }),
  lots: Type.Array(Lot),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Item = Static<typeof Item>;

export const ListQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
    category: Type.Optional(Text(100)),
    status: Type.Optional(Type.Unsafe<ItemStatus>({ type: 'string', enum: [...STATUSES] })),
    search: Type.Optional(Text(200, 'Full-text and typo-tolerant: description, brand, SKU, UPC')),
    sortBy: Type.Unsafe<'name' | 'stock' | 'expiry' | 'created_at'>({
      type: 'string',
      enum: ['name', 'stock', 'expiry', 'created_at'],
      default: 'created_at',
    }),
    sortOrder: Type.Optional(
      Type.Unsafe<'asc' | 'desc'>({
        type: 'string',
        enum: ['asc', 'desc'],
        description: 'Default: desc for created_at, asc otherwise',
      }),
    ),
    location: Type.Optional(Text(100)),
    vendor: Type.Optional(Text(200, 'Vendor id, or vendor name')),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const AdjustBody = Type.Object({
  adjustment: Type.Number({
    minimum: -1_000_000_000,
    maximum: 1_000_000_000,
    not: { const: 0 },
    'x-error-message': {
      not: 'must not be 0: zero is not an adjustment; send a positive number to add stock or a negative one to take it away',
    },
    description: 'Positive adds stock (a new lot, or to lotId); negative takes it, first-expiring lot first',
  }),
  reason: Type.Unsafe<AdjustmentReason>({ type: 'string', enum: [...ADJUSTMENT_REASONS] }),
  notes: Type.Optional(Type.String({ maxLength: 1000 })),
  lotId: Type.Optional(Type.String({ format: 'uuid' })),
  expirationDate: Type.Optional(IsoDate),
  lotCode: Type.Optional(Text(100)),
  unitCost: Type.Optional(Money('Cost per unit of a received lot')),
});
export type AdjustBody = Static<typeof AdjustBody>;

export const AdjustResult = Type.Object({
  item: Item,
  movement: Type.Object({
    id: Type.String({ format: 'uuid' }),
    type: Type.String(),
    reason: Type.String(),
    quantity: Type.Number(),
    stockBefore: Type.Number(),
    stockAfter: Type.Number(),
    lots: Type.Array(Type.Object({ lotId: Type.String(), quantity: Type.Number() })),
    occurredAt: Type.String({ format: 'date-time' }),
  }),
});

export type AdjustResult = Static<typeof AdjustResult>;

export const HistoryQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);

export const HistoryResponse = Type.Object({
  changes: Type.Array(
    Type.Object({
      id: Type.String({ format: 'uuid' }),
      field: Type.String(),
      oldValue: Type.Unknown(),
      newValue: Type.Unknown(),
      changedBy: Type.Union([Type.String(), Type.Null()], { description: 'User id' }),
      changedByName: Type.Union([Type.String(), Type.Null()]),
      changedAt: Type.String({ format: 'date-time' }),
      reason: Type.Optional(Type.String()),
    }),
  ),
});

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const BarcodeLookupBody = Type.Object({
  barcode: Type.String({ minLength: 1, maxLength: 80, pattern: '^[\\x20-\\x7E]+$' }),
  type: Type.Unsafe<'upc' | 'ean' | 'code128'>({
    type: 'string',
    enum: ['upc', 'ean', 'code128'],
    description: 'upc: UPC-A or UPC-E; ean: EAN-13 or EAN-8; code128: matched exactly',
  }),
});

export const BarcodeLookupResponse = Type.Object({
  found: Type.Boolean(),
  barcode: Type.Object({
    code: Type.String(),
    type: Type.String(),
    gtin: Type.Union([Type.String(), Type.Null()], { description: 'Normalised GTIN-14 (UPC/EAN only)' }),
    format: Type.String(),
  }),
  item: Type.Optional(Item),
  suggestions: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String(),
        brand: Type.String(),
        category: Type.String(),
        confidence: Type.Number({ minimum: 0, maximum: 1 }),
        source: Type.String({ description: 'catalog | catalog_same_maker | store_same_maker' }),
      }),
    ),
  ),
});

export const ImportOptions = Type.Object({
  skipDuplicates: Type.Boolean({ default: false, description: 'Rows matching an existing item are skipped' }),
  updateExisting: Type.Boolean({ default: false, description: 'Rows matching an existing item update it' }),
  validateOnly: Type.Boolean({ default: false, description: 'Check everything, change nothing' }),
});

/** Documented as the multipart request body (the handler streams the parts itself). */
export const ImportRequest = Type.Object({
  file: Type.String({
    format: 'binary',
    description: 'CSV (comma, semicolon or tab) or XLSX; first row = header',
  }),
  options: Type.Optional(
    Type.String({
      // The multipart field size limit of the route (inventory.routes.ts).
      maxLength: 10_000,
      description: 'JSON: {"skipDuplicates": bool, "updateExisting": bool, "validateOnly": bool}',
    }),
  ),
});

export const ImportResponse = Type.Object({
  processed: Type.Integer({ description: 'Data rows read' }),
  created: Type.Integer(),
  updated: Type.Integer(),
  skipped: Type.Integer(),
  errors: Type.Array(
    Type.Object({
      row: Type.Integer({ description: 'Row number as seen in the file (header = row 1)' }),
      field: Type.Optional(Type.String()),
      message: Type.String(),
    }),
  ),
  errorCount: Type.Integer({ description: 'All errors; `errors` lists the first 1,000' }),
  validateOnly: Type.Boolean(),
});

export const AnalyticsResponse = Type.Object({
  totalItems: Type.Integer(),
  totalValue: Type.Number({ description: 'Stock on hand valued at each lot’s cost' }),
  lowStockItems: Type.Integer({ description: 'In stock, at or below the reorder point / store threshold' }),
  outOfStockItems: Type.Integer(),
  expiringItems: Type.Integer({
    description:
      'With stock in a lot expiring on or before today + the store’s warning days, stock already past its date included (as status `expiring`)',
  }),
  expiredItems: Type.Integer({
    description: 'The part of expiringItems with stock already past its expiry date',
  }),
  categoryBreakdown: Type.Array(
    Type.Object({ category: Type.String(), count: Type.Integer(), value: Type.Number() }),
  ),
  topMovingItems: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      salesVelocity: Type.Number({ description: 'Units sold per day over the last 28 days' }),
      unitsSold: Type.Number(),
    }),
  ),
  slowMovingItems: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      daysSinceLastSale: Type.Integer({
        minimum: 0,
        description:
          'Calendar days (store time zone) since the last sale; for an item never sold (`neverSold`), since its oldest stock on hand was received',
      }),
      neverSold: Type.Boolean({ description: 'No sale of it is in the ledger' }),
      lastSaleAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      unitsSold: Type.Number({ description: 'Units sold over the last 28 days' }),
      currentStock: Type.Number(),
    }),
    {
      description:
        'Up to 10 items with stock that sold the fewest units over the last 28 days; ties (never-sold items among them) longest without a sale first',
    },
  ),
  atRiskItems: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      category: Type.String(),
      salesVelocity: Type.Number(),
      atRiskQuantity: Type.Number({
        description:
          'Units expected to expire before they sell at the current velocity, units already past their date included',
      }),
      atRiskValue: Type.Number(),
      expiredQuantity: Type.Number({
        description: 'The part of atRiskQuantity already past its expiry date',
      }),
      expiredValue: Type.Number({ description: 'The value of expiredQuantity' }),
      earliestExpiry: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
      lots: Type.Array(
        Type.Object({
          lotId: Type.String(),
          expirationDate: Type.String({ format: 'date' }),
          daysUntilExpiry: Type.Integer({ description: 'Negative: the lot expired that many days ago' }),
          expired: Type.Boolean({ description: 'Its expiry date is before the store’s today' }),
          quantity: Type.Number(),
          atRiskQuantity: Type.Number(),
        }),
      ),
    }),
  ),
  velocityWindowDays: Type.Integer(),
});

/**
 * GET /v1/inventory/:id: the item with its reorder policy, from its stored forecast
 * (src/modules/forecasting/policy.ts): null until the first forecast of the item.
 */
export const ItemDetail = Type.Intersect([Item, Type.Object({ reorderPolicy: ReorderPolicy })]);
