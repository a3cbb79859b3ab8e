import { type Static, Type } from 'typebox';
import type { PurchaseOrderStatus, RejectionReason } from '../../platform/db/schema.ts';

const Text = (max: number, description?: string) =>
  Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });
const Quantity = (description: string, minimum = 0) =>
  Type.Number({ minimum, maximum: 1_000_000_000, description });
const Money = (description: string) => Type.Number({ minimum: 0, maximum: 1_000_000_000, description });
const IsoDate = (description = 'YYYY-MM-DD') => Type.String({ format: 'date', description });
const DateTime = Type.String({ format: 'date-time' });
const Uuid = Type.String({ format: 'uuid' });
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const PO_STATUSES = ['draft', 'sent', 'partially_received', 'received', 'cancelled'] as const;
export const REJECTION_REASONS = ['damaged', 'short_dated', 'wrong_item', 'quality'] as const;
export const ORDER_UNITS = ['unit', 'case'] as const;

const Status = Type.Unsafe<PurchaseOrderStatus>({
  type: 'string',
  enum: [...PO_STATUSES],
  description:
    'draft → sent → partially_received → received; cancelled from draft or sent. A short-closed order is received with `shortClosedAt` set.',
});
const OrderUnit = Type.Unsafe<'unit' | 'case'>({
  type: 'string',
  enum: [...ORDER_UNITS],
  description: 'unit (the stock unit) or case (the catalogue line’s units_per_case)',
});
const Rejection = Type.Unsafe<RejectionReason>({ type: 'string', enum: [...REJECTION_REASONS] });

export const MAX_PO_LINES = 500;
export const MAX_RECEIPT_LINES = 500;

export const PoLineInput = Type.Object({
  itemId: Uuid,
  quantity: Quantity('How many order units (units or cases); more than 0', 0.001),
  orderUnit: Type.Optional(OrderUnit),
  unitCost: Type.Optional(
    Money(
      'Per stock unit. Default: the catalogue’s price for this many units (price breaks), else the item’s vendorCost, else its unitCost',
    ),
  ),
});
export type PoLineInput = Static<typeof PoLineInput>;

export const CreatePurchaseOrderBody = Type.Object({
  vendorId: Uuid,
  lines: Type.Array(PoLineInput, { minItems: 1, maxItems: MAX_PO_LINES }),
  expectedDate: Type.Optional(
    IsoDate(
      'Default: the latest delivery date over the lines’ catalogue terms (lead time, delivery days) from the store’s today, else tomorrow',
    ),
  ),
  notes: Type.Optional(Type.String({ maxLength: 5000 })),
});
export type CreatePurchaseOrderBody = Static<typeof CreatePurchaseOrderBody>;

export const UpdatePurchaseOrderBody = Type.Object(
  {
    lines: Type.Optional(Type.Array(PoLineInput, { minItems: 1, maxItems: MAX_PO_LINES })),
    expectedDate: Type.Optional(IsoDate()),
    notes: Type.Optional(nullable(Type.String({ maxLength: 5000 }))),
  },
  { minProperties: 1 },
);
export type UpdatePurchaseOrderBody = Static<typeof UpdatePurchaseOrderBody>;

export const SendBody = Type.Object({
  to: Type.Optional(
    Type.String({ format: 'email', maxLength: 254, description: 'Default: the vendor’s e-mail' }),
  ),
  skipEmail: Type.Optional(
    Type.Boolean({ description: 'Mark the order sent without e-mailing it (phoned in, handed over)' }),
  ),
  allowBelowMinimum: Type.Optional(
    Type.Boolean({ description: 'Send even below the vendor’s or a catalogue line’s minimum' }),
  ),
});
export type SendBody = Static<typeof SendBody>;

export const CancelBody = Type.Object({ reason: Text(1000) });
export const CloseBody = Type.Object({ reason: Type.Optional(Text(1000)) });

export const PurchaseOrderLine = Type.Object({
  id: Uuid,
  lineNumber: Type.Integer(),
  itemId: Uuid,
  description: Type.String(),
  vendorSku: nullable(Type.String()),
  orderUnit: OrderUnit,
  quantity: Type.Number(),
  unitsPerCase: Type.Integer(),
  quantityUnits: Type.Number(),
  unitCost: Type.Number({ description: 'Per stock unit' }),
  lineTotal: Type.Number(),
  receivedUnits: Type.Number(),
  rejectedUnits: Type.Number(),
  outstandingUnits: Type.Number({ description: 'Ordered units not yet received (0 once closed)' }),
});

const purchaseOrderFields = {
  id: Uuid,
  number: Type.Integer({ description: 'Sequential per store, without gaps' }),
  poNumber: Type.String({ description: 'PO-000042' }),
  vendorId: Uuid,
  vendorName: Type.String(),
  status: Status,
  orderDate: IsoDate('The day it was sent (the draft’s creation day before)'),
  expectedDate: IsoDate(),
  notes: nullable(Type.String()),
  currency: Type.String(),
  subtotal: Type.Number({ description: 'Sum of the lines’ totals, computed by the server' }),
  createdBy: nullable(Uuid),
  sentAt: nullable(DateTime),
  acknowledgedAt: nullable(DateTime),
  firstReceivedAt: nullable(DateTime),
  receivedAt: nullable(DateTime),
  cancelledAt: nullable(DateTime),
  cancelReason: nullable(Type.String()),
  shortClosedAt: nullable(DateTime),
  closeReason: nullable(Type.String()),
  createdAt: DateTime,
  updatedAt: DateTime,
};

export const PurchaseOrder = Type.Object({ ...purchaseOrderFields, lines: Type.Array(PurchaseOrderLine) });
export type PurchaseOrder = Static<typeof PurchaseOrder>;
export const PurchaseOrderSummary = Type.Object({ ...purchaseOrderFields, lineCount: Type.Integer() });
export type PurchaseOrderSummary = Static<typeof PurchaseOrderSummary>;

const page = Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 });
const limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });

export const PurchaseOrderListQuery = Type.Object({
  vendorId: Type.Optional(Uuid),
  status: Type.Optional(Status),
  dateFrom: Type.Optional(IsoDate('Order date on or after')),
  dateTo: Type.Optional(IsoDate('Order date on or before')),
  page,
  limit,
});
export type PurchaseOrderListQuery = Static<typeof PurchaseOrderListQuery>;

const receiptLineFields = {
  quantityReceived: Quantity('Units accepted into stock (0 when the whole line is refused)'),
  quantityRejected: Type.Optional(Quantity('Units refused at the door')),
  rejectionReason: Type.Optional(Rejection),
  lotCode: Type.Optional(Text(100)),
  expirationDate: Type.Optional(
    IsoDate('Required for an item with a shelf life; not before the receipt’s day'),
  ),
  unitCost: Type.Optional(
    Money('Per unit; default the purchase-order line’s (direct receipts: the item’s unit cost)'),
  ),
};

export const PoReceiptLineInput = Type.Object({
  lineId: Type.Optional(Type.String({ format: 'uuid', description: 'The purchase-order line' })),
  itemId: Type.Optional(
    Type.String({ format: 'uuid', description: 'Instead of lineId: the order’s line for this item' }),
  ),
  ...receiptLineFields,
});
export type PoReceiptLineInput = Static<typeof PoReceiptLineInput>;

const receiptFields = {
  receivedAt: Type.Optional(
    Type.String({ format: 'date-time', maxLength: 40, description: 'Not in the future; default now' }),
  ),
  deliveryReference: Type.Optional(Text(100, 'The delivery note’s number')),
  notes: Type.Optional(Type.String({ maxLength: 5000 })),
};

export const PoReceiptBody = Type.Object({
  lines: Type.Array(PoReceiptLineInput, { minItems: 1, maxItems: MAX_RECEIPT_LINES }),
  ...receiptFields,
  allowOverReceipt: Type.Optional(
    Type.Boolean({ description: 'Accept more than the ordered units plus RECEIPT_OVER_TOLERANCE' }),
  ),
});
export type PoReceiptBody = Static<typeof PoReceiptBody>;

export const DirectReceiptLineInput = Type.Object({ itemId: Uuid, ...receiptLineFields });
export type DirectReceiptLineInput = Static<typeof DirectReceiptLineInput>;

export const DirectReceiptBody = Type.Object({
  vendorId: Type.Optional(Type.String({ format: 'uuid', description: 'A vendor of the store' })),
  supplierName: Type.Optional(Text(200, 'Or a supplier without a vendor record (a market stall)')),
  lines: Type.Array(DirectReceiptLineInput, { minItems: 1, maxItems: MAX_RECEIPT_LINES }),
  ...receiptFields,
});
export type DirectReceiptBody = Static<typeof DirectReceiptBody>;

export const ReceiptLine = Type.Object({
  id: Uuid,
  poLineId: nullable(Uuid),
  itemId: Uuid,
  description: Type.String(),
  quantityReceived: Type.Number(),
  quantityRejected: Type.Number(),
  rejectionReason: nullable(Rejection),
  lotCode: nullable(Type.String()),
  expirationDate: nullable(Type.String({ format: 'date' })),
  unitCost: nullable(Type.Number()),
  shortDated: Type.Boolean({
    description: 'Arrived with less than RECEIPT_SHORT_DATED_SHARE of the item’s shelf life left',
  }),
  lotId: nullable(Uuid),
  movementId: nullable(Uuid),
});

export const Receipt = Type.Object({
  id: Uuid,
  purchaseOrderId: nullable(Uuid),
  poNumber: nullable(Type.String()),
  vendorId: nullable(Uuid),
  supplierName: nullable(Type.String()),
  receivedAt: DateTime,
  receivedDate: Type.String({ format: 'date', description: 'The store’s day of receivedAt' }),
  receivedBy: nullable(Uuid),
  deliveryReference: nullable(Type.String()),
  notes: nullable(Type.String()),
  lines: Type.Array(ReceiptLine),
});
export type Receipt = Static<typeof Receipt>;

export const ReceiptListQuery = Type.Object({
  purchaseOrderId: Type.Optional(Uuid),
  vendorId: Type.Optional(Uuid),
  dateFrom: Type.Optional(IsoDate('Received on or after (store day)')),
  dateTo: Type.Optional(IsoDate('Received on or before (store day)')),
  page,
  limit,
});
export type ReceiptListQuery = Static<typeof ReceiptListQuery>;

export const IdParams = Type.Object({ id: Uuid });
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});
