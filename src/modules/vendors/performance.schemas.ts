import { type Static, Type } from 'typebox';

const Rate = (description: string) =>
  Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()], { description });

export const PerformanceParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const PerformanceQuery = Type.Object(
  {
    months: Type.Integer({
      minimum: 1,
      maximum: 36,
      default: 12,
      description: 'The period: this month and the months before it, in the store’s time zone',
    }),
  },
  { additionalProperties: false },
);
export type PerformanceQuery = Static<typeof PerformanceQuery>;

export const PERFORMANCE_DEFINITIONS = [
  'Computed from purchase orders and receipts, never typed in. An order counts once placed (sent, partly or wholly received; drafts and cancelled orders never count) and falls in the period by its order date. An order is *due* once it is received (in full or closed short) or its expected date has passed. Rates are percentages (0–100, one decimal) and null when nothing they divide by exists yet.',
  '- `totalOrders`, `totalValue` (the orders’ subtotals, store currency), `averageOrderValue` (value ÷ orders).',
  '- `onTimeDeliveryRate`: due orders received in full (every line’s received units ≥ ordered units) by a receipt dated on or before the expected date, ÷ due orders.',
  '- `fillRate`: units received (at most the ordered units per line) ÷ units ordered, over due orders.',
  '- `qualityScore`: 100 × (1 − (units refused at receipt + units received in short-dated lots) ÷ (units received + refused)), over the vendor’s receipt lines dated in the period, with or without an order. A lot is short-dated when it arrives with less than RECEIPT_SHORT_DATED_SHARE of the item’s shelf life left.',
  '- `responseTime`: mean hours from sending an order to the vendor’s acknowledgement (POST /v1/purchase-orders/:id/acknowledge), or to its first receipt when it never acknowledged.',
  '- `trends`: the same per month of order date, every month of the period listed; `deliveryScore` is that month’s on-time rate.',
].join('\n');

export const VendorPerformanceResponse = Type.Object({
  vendorId: Type.String({ format: 'uuid' }),
  vendorName: Type.String(),
  period: Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }),
  metrics: Type.Object({
    totalOrders: Type.Integer({ minimum: 0 }),
    totalValue: Type.Number({ minimum: 0 }),
    averageOrderValue: Type.Number({ minimum: 0 }),
    onTimeDeliveryRate: Rate('Due orders received in full by their expected date, %'),
    qualityScore: Rate('Units neither refused nor short-dated, % of units delivered'),
    responseTime: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: 'Mean hours from sending to acknowledgement (or first receipt)',
    }),
    fillRate: Rate('Units received ÷ units ordered on due orders, %'),
    dueOrders: Type.Integer({ minimum: 0, description: 'Orders the delivery rates are computed over' }),
    unitsReceived: Type.Number({ minimum: 0 }),
    unitsRejected: Type.Number({ minimum: 0 }),
    unitsShortDated: Type.Number({ minimum: 0 }),
  }),
  trends: Type.Array(
    Type.Object({
      month: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}$' }),
      orders: Type.Integer({ minimum: 0 }),
      value: Type.Number({ minimum: 0 }),
      deliveryScore: Rate('On-time rate of the month’s due orders, %'),
      fillRate: Rate('Fill rate of the month’s due orders, %'),
    }),
  ),
});
export type VendorPerformanceResponse = Static<typeof VendorPerformanceResponse>;
