import { type Static, Type } from 'typebox';
import type { InvoicePaymentStatus, InvoiceStatus } from '../../platform/db/schema.ts';

/** Request and response shapes of /v1/invoices (the spec's Invoice Processing API, extended). */

const Uuid = (description?: string) =>
  Type.String({ format: 'uuid', ...(description ? { description } : {}) });
const IsoDate = (description = 'YYYY-MM-DD') => Type.String({ format: 'date', description });
const nullableString = (description: string) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], description });
const nullableNumber = (description: string) =>
  Type.Unsafe<number | null>({ type: ['number', 'null'], description });
const Quantity = (description: string) => Type.Number({ minimum: 0, maximum: 1_000_000_000, description });

export const PROCESSING_STATUSES = [
  'processing',
  'review',
  'approved',
  'failed',
] as const satisfies readonly InvoiceStatus[];
export const PAYMENT_STATUSES = [
  'pending',
  'paid',
  'overdue',
] as const satisfies readonly InvoicePaymentStatus[];

const ProcessingStatus = Type.Unsafe<InvoiceStatus>({
  type: 'string',
  enum: [...PROCESSING_STATUSES],
  description: 'processing → review → approved, or failed (see `failure`)',
});
const PaymentStatus = Type.Unsafe<InvoicePaymentStatus>({
  type: 'string',
  enum: [...PAYMENT_STATUSES],
  description: 'pending → paid, or overdue once the due date has passed unpaid',
});

export const IdParams = Type.Object({ id: Uuid('The invoice id') });

/** The multipart body, for the OpenAPI document (the route reads the parts itself). */
export const UploadRequest = Type.Object(
  {
    file: Type.String({
      format: 'binary',
      description: 'The invoice: PDF (text, scan, ZUGFeRD/Factur-X), XRechnung/UBL XML, CSV or XLSX',
    }),
    vendorId: Type.Optional(
      Uuid('The vendor, when known; otherwise it is matched from the name and tax id printed'),
    ),
    invoiceNumber: Type.Optional(
      Type.String({ maxLength: 100, description: 'Overrides the number read from the file' }),
    ),
    invoiceDate: Type.Optional(IsoDate('Overrides the date read from the file')),
  },
  { additionalProperties: false },
);

export const Suggestion = Type.Object({
  itemId: Uuid(),
  description: Type.String({ description: 'The item’s name' }),
  score: Type.Number({ description: 'Trigram similarity of the names, 0–1' }),
});

export const Conflict = Type.Object({
  item: Type.String({ description: 'The line’s description as printed' }),
  issue: Type.String({ description: 'What is wrong, naming both figures' }),
  suggestions: Type.Array(Type.String(), { description: 'Candidate items or actions' }),
  lineNumber: Type.Integer({ description: 'The invoice line (1-based)' }),
  kind: Type.String({ description: 'unmatched, price_variance, quantity_ordered or quantity_received' }),
  invoiced: Type.Optional(Type.Number({ description: 'The invoice’s figure' })),
  expected: Type.Optional(Type.Number({ description: 'The order’s or receipt’s figure' })),
});

export const InvoiceLine = Type.Object({
  id: Uuid(),
  lineNumber: Type.Integer({ description: '1-based position on the invoice' }),
  description: Type.String({ description: 'As printed' }),
  quantity: nullableNumber('Invoiced quantity'),
  unit: nullableString('Unit as printed (or its UN/ECE code)'),
  unitCost: nullableNumber('Invoiced cost per unit'),
  totalCost: nullableNumber('Line total'),
  upc: nullableString('GTIN/UPC/EAN as printed'),
  sku: nullableString('The vendor’s article number'),
  itemId: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    format: 'uuid',
    description: 'The matched item',
  }),
  itemDescription: nullableString('The matched item’s name'),
  matchMethod: nullableString('gtin, learned_sku, catalogue_sku, description or manual'),
  matchScore: nullableNumber('Confidence of the match, 0–1'),
  suggestions: Type.Array(Suggestion, { description: 'Ranked candidates when unmatched' }),
  ignored: Type.Boolean({ description: 'Not stock (freight, deposit): approval skips it' }),
  purchaseOrderLineId: nullableString('The PO line of the three-way match'),
  orderedQuantity: nullableNumber('Units ordered on that PO line'),
  receivedQuantity: nullableNumber('Units received against it so far'),
  poUnitCost: nullableNumber('The PO’s unit cost'),
  expirationDate: nullableString('Lot expiry approval receives with'),
  lotCode: nullableString('Lot code approval receives with'),
});

const ExtractedItem = Type.Object({
  description: Type.String({ description: 'As printed' }),
  quantity: Type.Number({ description: 'Invoiced quantity (0 when not read)' }),
  unitCost: Type.Number({ description: 'Per unit (0 when not read)' }),
  totalCost: Type.Number({ description: 'Line total (0 when not read)' }),
  upc: Type.Optional(Type.String({ description: 'Barcode' })),
  sku: Type.Optional(Type.String({ description: 'Vendor SKU' })),
});

export const Invoice = Type.Object({
  id: Uuid(),
  invoiceId: Uuid('Same as id (the spec’s InvoiceUploadResponse)'),
  status: ProcessingStatus,
  paymentStatus: PaymentStatus,
  failure: Type.Union([
    Type.Object({
      code: Type.String({
        description: 'Stable code: an extraction failure code, duplicate_invoice or processing_error',
      }),
      message: Type.String({ description: 'What to do about it' }),
    }),
    Type.Null(),
  ]),
  fileId: Uuid('The uploaded file (GET /v1/files/:id)'),
  vendorId: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    format: 'uuid',
    description: 'The matched vendor',
  }),
  vendorName: nullableString('As printed'),
  vendorTaxId: nullableString('As printed'),
  invoiceNumber: nullableString('Invoice number'),
  invoiceDate: nullableString('YYYY-MM-DD'),
  dueDate: nullableString('YYYY-MM-DD; from the vendor’s terms when not printed'),
  currency: nullableString('ISO 4217'),
  subtotal: nullableNumber('Net amount'),
  tax: nullableNumber('Tax amount'),
  totalAmount: nullableNumber('Gross amount'),
  format: nullableString('How it was read: pdf, pdf-ocr, image, facturx, cii, ubl, csv, xlsx, text'),
  creditAmount: Type.Number({ description: 'To claim from the vendor (reconciliation)' }),
  paidDate: nullableString('YYYY-MM-DD'),
  paymentMethod: nullableString('How it was paid'),
  paymentNotes: nullableString('Notes given with the payment status'),
  approvedAt: nullableString('When it was approved'),
  createdAt: Type.String({ format: 'date-time', description: 'Upload time' }),
  updatedAt: Type.String({ format: 'date-time', description: 'Last change' }),
  extractedData: Type.Optional(
    Type.Object({
      invoiceNumber: Type.String({ description: 'Invoice number' }),
      vendorName: Type.String({ description: 'Vendor as printed' }),
      invoiceDate: Type.String({ description: 'YYYY-MM-DD' }),
      totalAmount: Type.Number({ description: 'Gross amount' }),
      items: Type.Array(ExtractedItem),
    }),
  ),
  matchingResults: Type.Optional(
    Type.Object({
      matched: Type.Integer({ description: 'Lines with an item' }),
      unmatched: Type.Integer({ description: 'Lines without one (ignored lines not counted)' }),
      conflicts: Type.Array(Conflict),
    }),
  ),
  lines: Type.Array(InvoiceLine),
});
export type Invoice = Static<typeof Invoice>;

export const UploadResponse = Type.Object({
  invoiceId: Uuid(),
  status: Type.Unsafe<'processing'>({
    type: 'string',
    enum: ['processing'],
    description: 'Always processing: follow GET /v1/invoices/:id or invoices:updates',
  }),
  fileId: Uuid('The stored file'),
  jobId: Type.String({ description: 'The invoice:process job (GET /v1/jobs/:id)' }),
});

export const ListQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1, description: 'Page, from 1' }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Per page' }),
    vendorId: Type.Optional(Uuid('Only this vendor’s invoices')),
    status: Type.Optional(PaymentStatus),
    processingStatus: Type.Optional(ProcessingStatus),
    dateFrom: Type.Optional(IsoDate('Invoice date on or after')),
    dateTo: Type.Optional(IsoDate('Invoice date on or before')),
    amountMin: Type.Optional(Type.Number({ minimum: 0, maximum: 1e12, description: 'Total at least' })),
    amountMax: Type.Optional(Type.Number({ minimum: 0, maximum: 1e12, description: 'Total at most' })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const UpdateInvoiceBody = Type.Object(
  {
    vendorId: Type.Optional(Uuid('The vendor, when the match was wrong or missing')),
    invoiceNumber: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Corrected number' }),
    ),
    invoiceDate: Type.Optional(IsoDate('Corrected invoice date')),
    dueDate: Type.Optional(IsoDate('Corrected due date')),
    totalAmount: Type.Optional(Type.Number({ minimum: 0, maximum: 1e12, description: 'Corrected total' })),
    lines: Type.Optional(
      Type.Array(
        Type.Object(
          {
            lineNumber: Type.Integer({ minimum: 1, maximum: 100_000, description: 'The line to change' }),
            itemId: Type.Optional(
              Type.Unsafe<string | null>({
                type: ['string', 'null'],
                format: 'uuid',
                description: 'The item this line is (null: none)',
              }),
            ),
            quantity: Type.Optional(Quantity('Corrected quantity')),
            unitCost: Type.Optional(Quantity('Corrected unit cost')),
            ignored: Type.Optional(Type.Boolean({ description: 'Not stock: approval skips it' })),
            expirationDate: Type.Optional(IsoDate('Lot expiry to receive with')),
            lotCode: Type.Optional(
              Type.String({ minLength: 1, maxLength: 100, description: 'Lot code to receive with' }),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 1000, description: 'Line corrections and item mappings' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type UpdateInvoiceBody = Static<typeof UpdateInvoiceBody>;

export const ApproveResponse = Type.Object({
  invoice: Invoice,
  received: Type.Array(
    Type.Object({
      itemId: Uuid(),
      quantity: Type.Number({ description: 'Units received now' }),
      movementId: Uuid('The ledger row'),
    }),
    { description: 'Stock received by this approval (not already received through a PO)' },
  ),
  costChanges: Type.Array(
    Type.Object({
      itemId: Uuid(),
      oldUnitCost: nullableNumber('Before'),
      newUnitCost: Type.Number({ description: 'After' }),
    }),
    { description: 'Unit costs changed (recorded in the item’s history)' },
  ),
});

export const ReconcileBody = Type.Object(
  {
    adjustments: Type.Array(
      Type.Object(
        {
          itemId: Uuid('An item on this invoice'),
          expectedQuantity: Quantity('What the invoice says arrived'),
          actualQuantity: Quantity('What really arrived'),
          reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why they differ' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 500, description: 'The spec’s ReconcileInvoiceRequest.adjustments' },
    ),
  },
  { additionalProperties: false },
);
export type ReconcileBody = Static<typeof ReconcileBody>;

export const ReconcileResponse = Type.Object({
  invoiceId: Uuid(),
  creditAmount: Type.Number({ description: 'Total to claim from the vendor for this invoice' }),
  adjustments: Type.Array(
    Type.Object({
      id: Uuid(),
      itemId: Uuid(),
      expectedQuantity: Type.Number({ description: 'Invoiced' }),
      actualQuantity: Type.Number({ description: 'Arrived' }),
      reason: Type.String({ description: 'Why' }),
      creditAmount: Type.Number({ description: 'Short units × invoiced unit cost' }),
      movementId: Type.Unsafe<string | null>({
        type: ['string', 'null'],
        description: 'The ledger adjustment',
      }),
    }),
  ),
});

export const StatusBody = Type.Object(
  {
    status: PaymentStatus,
    paidDate: Type.Optional(IsoDate('Day it was paid (default: the store’s today when status is paid)')),
    paymentMethod: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Transfer, card, cheque…' }),
    ),
    notes: Type.Optional(Type.String({ maxLength: 2000, description: 'Free text' })),
  },
  { additionalProperties: false },
);
export type StatusBody = Static<typeof StatusBody>;
