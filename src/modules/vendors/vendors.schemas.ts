import { type Static, type TSchema, Type } from 'typebox';
import type { OrderUnit, VendorStatus } from '../../platform/db/schema.ts';

/**
 * Request and response shapes of /v1/vendors. Text limits are the migration's checks
 * (migrations/0021_vendors_purchasing.sql), so the API refuses an overlong value first, as a 400
 * naming the field, instead of the database's constraint.
 *
 * Fields that may be cleared on update take `null`. They are declared with a type list
 * (`["string", "null"]`), not an anyOf: with ajv's type coercion an anyOf's string branch would
 * turn `null` into `""`, and a number branch `null` into 0.
 */

export const VENDOR_STATUSES = ['active', 'inactive'] as const satisfies readonly VendorStatus[];
export const ORDER_UNITS = ['unit', 'case'] as const satisfies readonly OrderUnit[];

/** Longest text of each vendor field (the migration's checks). */
export const VENDOR_TEXT_LIMITS = {
  name: 200,
  contactInfo: 1000,
  address: 300,
  city: 100,
  state: 100,
  zip: 20,
  phone: 40,
  email: 254,
  website: 500,
  contactPerson: 200,
  paymentTerms: 200,
  taxId: 50,
  notes: 5000,
} as const;

/** The most a money amount of numeric(14, 2) holds. */
export const MAX_MONEY = 999_999_999_999.99;
/** Unit costs are numeric(14, 4). */
export const MAX_UNIT_COST = 9_999_999_999.9999;
/** Quantities are numeric(14, 3); kept to what inventory accepts. */
export const MAX_QUANTITY = 1_000_000_000;

const nullableText = (maxLength: number, description?: string, extra: Record<string, unknown> = {}) =>
  Type.Unsafe<string | null>({
    type: ['string', 'null'],
    maxLength,
    ...extra,
    ...(description ? { description } : {}),
  });

const nullableNumber = (minimum: number, maximum: number, description: string) =>
  Type.Unsafe<number | null>({ type: ['number', 'null'], minimum, maximum, description });

const vendorFields = {
  contactInfo: nullableText(VENDOR_TEXT_LIMITS.contactInfo),
  address: nullableText(VENDOR_TEXT_LIMITS.address),
  city: nullableText(VENDOR_TEXT_LIMITS.city),
  state: nullableText(VENDOR_TEXT_LIMITS.state),
  zip: nullableText(VENDOR_TEXT_LIMITS.zip, 'Postal code: letters, digits, spaces and dashes', {
    pattern: '^[A-Za-z0-9 -]*$',
  }),
  country: nullableText(2, 'ISO 3166-1 alpha-2 code (e.g. US, GB); any case, stored upper case', {
    pattern: '^[A-Za-z]{2}$',
  }),
  phone: nullableText(
    VENDOR_TEXT_LIMITS.phone,
    'A phone number, international (+…) or national to `country` (the vendor’s, else refused); stored and answered as E.164',
  ),
  email: nullableText(VENDOR_TEXT_LIMITS.email, 'An e-mail address', { format: 'email' }),
  website: nullableText(VENDOR_TEXT_LIMITS.website, 'An http:// or https:// URL'),
  contactPerson: nullableText(VENDOR_TEXT_LIMITS.contactPerson),
  paymentTerms: nullableText(VENDOR_TEXT_LIMITS.paymentTerms, 'Free text, e.g. Net 30'),
  taxId: nullableText(VENDOR_TEXT_LIMITS.taxId),
  notes: nullableText(VENDOR_TEXT_LIMITS.notes),
  minimumOrderValue: nullableNumber(
    0,
    MAX_MONEY,
    'The smallest order the vendor takes, in money (at most 2 decimals); null: none',
  ),
};

const optionalFields = Object.fromEntries(
  Object.entries(vendorFields).map(([name, schema]) => [name, Type.Optional(schema)]),
) as { [K in keyof typeof vendorFields]: ReturnType<typeof Type.Optional<(typeof vendorFields)[K]>> };

const VendorName = Type.String({
  minLength: 1,
  maxLength: VENDOR_TEXT_LIMITS.name,
  description: 'Unique in the store, whatever the case or the spaces around it; stored trimmed',
});

const Status = Type.Unsafe<VendorStatus>({
  type: 'string',
  enum: [...VENDOR_STATUSES],
  description: 'inactive: deactivated (kept for its orders and receipts); PUT `active` reactivates',
});

/** The spec's CreateVendorRequest, with `country` and `minimumOrderValue`. Blank texts are stored as null. */
export const CreateVendorBody = Type.Object({ name: VendorName, ...optionalFields });
export type CreateVendorBody = Static<typeof CreateVendorBody>;

export const UpdateVendorBody = Type.Object(
  { name: Type.Optional(VendorName), ...optionalFields, status: Type.Optional(Status) },
  { minProperties: 1 },
);
export type UpdateVendorBody = Static<typeof UpdateVendorBody>;

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const Vendor = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  contactInfo: nullable(Type.String()),
  address: nullable(Type.String()),
  city: nullable(Type.String()),
  state: nullable(Type.String()),
  zip: nullable(Type.String()),
  country: nullable(Type.String({ description: 'ISO 3166-1 alpha-2' })),
  phone: nullable(Type.String({ description: 'E.164, e.g. +14155552671' })),
  email: nullable(Type.String()),
  website: nullable(Type.String()),
  contactPerson: nullable(Type.String()),
  paymentTerms: nullable(Type.String()),
  taxId: nullable(Type.String()),
  notes: nullable(Type.String()),
  minimumOrderValue: nullable(Type.Number()),
  status: Status,
  lastOrderDate: nullable(
    Type.String({
      format: 'date',
      description: 'The latest order date of its purchase orders that are neither draft nor cancelled',
    }),
  ),
  deactivatedAt: nullable(DateTime),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type Vendor = Static<typeof Vendor>;

export const VENDOR_SORTS = ['name', 'created_at', 'last_order'] as const;
export type VendorSort = (typeof VENDOR_SORTS)[number];

/** The spec's GetVendorsQuery, with `sortOrder`. */
export const VendorListQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    search: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'Typo-tolerant: part of, or words like, the name, contact person, e-mail or city ("frsh farm" finds Fresh Farms)',
      }),
    ),
    status: Type.Optional(
      Type.Unsafe<VendorStatus>({ type: 'string', enum: [...VENDOR_STATUSES], description: 'Default: both' }),
    ),
    sortBy: Type.Optional(
      Type.Unsafe<VendorSort>({
        type: 'string',
        enum: [...VENDOR_SORTS],
        description:
          'Default: best match first with `search`, else name. last_order: by `lastOrderDate`; vendors never ordered from come last either way',
      }),
    ),
    sortOrder: Type.Optional(
      Type.Unsafe<'asc' | 'desc'>({
        type: 'string',
        enum: ['asc', 'desc'],
        description: 'Default: asc for name, desc for created_at and last_order',
      }),
    ),
  },
  { additionalProperties: false },
);
export type VendorListQuery = Static<typeof VendorListQuery>;

export const VendorList = Type.Object({ vendors: Type.Array(Vendor) });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const ProductParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  productId: Type.String({ format: 'uuid', description: 'The catalogue line id' }),
});

// --- The vendor's catalogue -------------------------------------------------------------------

export const PriceBreak = Type.Object({
  minQuantity: Type.Number({
    minimum: 0.001,
    maximum: MAX_QUANTITY,
    description: 'From this many units on (the stock unit, not cases); more than 0, at most 3 decimals',
  }),
  unitCost: Type.Number({ minimum: 0, maximum: MAX_UNIT_COST, description: 'Cost of each unit' }),
});

const productFields = {
  vendorSku: nullableText(100, 'The vendor’s code for it; unique per vendor, whatever the case'),
  vendorDescription: nullableText(500),
  unitsPerCase: Type.Integer({ minimum: 1, maximum: 100_000, description: 'Default 1' }),
  minimumOrderQuantity: Type.Number({
    minimum: 0,
    maximum: MAX_QUANTITY,
    description: 'The smallest quantity per order, counted in `minimumOrderUnit`s (default 0: none)',
  }),
  minimumOrderUnit: Type.Unsafe<OrderUnit>({
    type: 'string',
    enum: [...ORDER_UNITS],
    description: 'Default unit',
  }),
  unitCost: Type.Number({
    minimum: 0,
    maximum: MAX_UNIT_COST,
    description: 'Cost of one unit (not a case) below the first price break; at most 4 decimals',
  }),
  priceBreaks: Type.Array(PriceBreak, {
    maxItems: 20,
    description:
      'From `minQuantity` units on, each unit costs `unitCost`; any order, stored ascending; one break per quantity',
  }),
  leadTimeDays: Type.Integer({ minimum: 0, maximum: 365, description: 'Default 1' }),
  deliveryDays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
    maxItems: 7,
    uniqueItems: true,
    description: 'ISO weekdays it delivers on (1 = Monday … 7 = Sunday); empty (default): any day',
  }),
  preferred: Type.Boolean({
    description:
      'The item’s preferred vendor: marking it un-marks the line of the item’s previous preferred vendor (default false)',
  }),
};

export const CreateProductBody = Type.Object({
  itemId: Type.String({ format: 'uuid', description: 'A live item of the store' }),
  vendorSku: Type.Optional(productFields.vendorSku),
  vendorDescription: Type.Optional(productFields.vendorDescription),
  unitsPerCase: Type.Optional(productFields.unitsPerCase),
  minimumOrderQuantity: Type.Optional(productFields.minimumOrderQuantity),
  minimumOrderUnit: Type.Optional(productFields.minimumOrderUnit),
  unitCost: productFields.unitCost,
  priceBreaks: Type.Optional(productFields.priceBreaks),
  leadTimeDays: Type.Optional(productFields.leadTimeDays),
  deliveryDays: Type.Optional(productFields.deliveryDays),
  preferred: Type.Optional(productFields.preferred),
});
export type CreateProductBody = Static<typeof CreateProductBody>;

export const UpdateProductBody = Type.Object(
  {
    vendorSku: Type.Optional(productFields.vendorSku),
    vendorDescription: Type.Optional(productFields.vendorDescription),
    unitsPerCase: Type.Optional(productFields.unitsPerCase),
    minimumOrderQuantity: Type.Optional(productFields.minimumOrderQuantity),
    minimumOrderUnit: Type.Optional(productFields.minimumOrderUnit),
    unitCost: Type.Optional(productFields.unitCost),
    priceBreaks: Type.Optional(productFields.priceBreaks),
    leadTimeDays: Type.Optional(productFields.leadTimeDays),
    deliveryDays: Type.Optional(productFields.deliveryDays),
    preferred: Type.Optional(productFields.preferred),
  },
  { minProperties: 1 },
);
export type UpdateProductBody = Static<typeof UpdateProductBody>;

/** One line of the spec's VendorProductsResponse, with the catalogue's own fields. */
export const VendorProduct = Type.Object({
  id: Type.String({ format: 'uuid', description: 'The catalogue line' }),
  vendorId: Type.String({ format: 'uuid' }),
  itemId: Type.String({ format: 'uuid' }),
  name: Type.String({ description: 'The item’s description' }),
  category: Type.String({ description: 'The item’s category' }),
  unitCost: Type.Number({ description: 'The catalogue’s cost of one unit, below the first price break' }),
  lastOrderDate: nullable(
    Type.String({
      format: 'date',
      description:
        'The latest order date of this vendor’s purchase orders (not draft, not cancelled) with a line for the item; null: never ordered',
    }),
  ),
  totalOrdered: Type.Number({
    description: 'Units ordered on those purchase orders (cases counted in units)',
  }),
  averageLeadTime: nullable(
    Type.Number({
      description:
        'Days from order date to the first receipt holding the item, averaged over those orders that received anything (one decimal); null: none yet',
    }),
  ),
  vendorSku: nullable(Type.String()),
  vendorDescription: nullable(Type.String()),
  unitsPerCase: Type.Integer(),
  minimumOrderQuantity: Type.Number(),
  minimumOrderUnit: Type.Unsafe<OrderUnit>({ type: 'string', enum: [...ORDER_UNITS] }),
  priceBreaks: Type.Array(Type.Object({ minQuantity: Type.Number(), unitCost: Type.Number() })),
  leadTimeDays: Type.Integer(),
  deliveryDays: Type.Array(Type.Integer()),
  preferred: Type.Boolean(),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type VendorProduct = Static<typeof VendorProduct>;

export const ProductListQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Part of the item’s name, any case' }),
    ),
  },
  { additionalProperties: false },
);
export type ProductListQuery = Static<typeof ProductListQuery>;

export const VendorProducts = Type.Object({ products: Type.Array(VendorProduct) });
