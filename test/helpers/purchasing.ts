import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/platform/db/database.ts';
import type { PriceBreak } from '../../src/platform/db/schema.ts';
import { bearer, type Session } from './auth.ts';

/**
 * Vendors and catalogue lines written straight into the database (the vendors module has its
 * own API; purchasing only reads these tables), as the owner, for the session's store.
 */
export async function insertVendor(
  database: Database,
  session: Session,
  fields: {
    name?: string;
    email?: string | null;
    status?: 'active' | 'inactive';
    minimumOrderValue?: number;
  } = {},
) {
  return database.db
    .insertInto('vendors')
    .values({
      org_id: session.user.organization.id,
      name: fields.name ?? `Vendor ${randomBytes(3).toString('hex')}`,
      email: fields.email === undefined ? 'orders@vendor.example' : fields.email,
      status: fields.status ?? 'active',
      minimum_order_value: fields.minimumOrderValue ?? null,
      address: '1 Market Street',
      city: 'Springfield',
    })
    .returning(['id', 'name'])
    .executeTakeFirstOrThrow();
}

export async function insertCatalogueLine(
  database: Database,
  session: Session,
  vendorId: string,
  itemId: string,
  fields: {
    unitCost: number;
    unitsPerCase?: number;
    priceBreaks?: PriceBreak[];
    leadTimeDays?: number;
    deliveryDays?: number[];
    vendorSku?: string;
    minimumOrderQuantity?: number;
    minimumOrderUnit?: 'unit' | 'case';
  },
) {
  await database.db
    .insertInto('vendor_products')
    .values({
      org_id: session.user.organization.id,
      vendor_id: vendorId,
      item_id: itemId,
      unit_cost: fields.unitCost,
      units_per_case: fields.unitsPerCase ?? 1,
      price_breaks: JSON.stringify(fields.priceBreaks ?? []),
      lead_time_days: fields.leadTimeDays ?? 1,
      delivery_days: fields.deliveryDays ?? [],
      vendor_sku: fields.vendorSku ?? null,
      minimum_order_quantity: fields.minimumOrderQuantity ?? 0,
      minimum_order_unit: fields.minimumOrderUnit ?? 'unit',
    })
    .execute();
}

export interface PoLine {
  id: string;
  lineNumber: number;
  itemId: string;
  description: string;
  vendorSku: string | null;
  orderUnit: string;
  quantity: number;
  unitsPerCase: number;
  quantityUnits: number;
  unitCost: number;
  lineTotal: number;
  receivedUnits: number;
  rejectedUnits: number;
  outstandingUnits: number;
}

export interface Po {
  id: string;
  number: number;
  poNumber: string;
  vendorId: string;
  status: string;
  orderDate: string;
  expectedDate: string;
  subtotal: number;
  currency: string;
  acknowledgedAt: string | null;
  firstReceivedAt: string | null;
  receivedAt: string | null;
  shortClosedAt: string | null;
  closeReason: string | null;
  lines: PoLine[];
}

export async function createPo(app: FastifyInstance, session: Session, payload: object): Promise<Po> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/purchase-orders',
    headers: bearer(session),
    payload,
  });
  if (response.statusCode !== 201)
    throw new Error(`create PO failed: ${response.statusCode} ${response.body}`);
  return response.json<{ data: Po }>().data;
}

export function poAction(
  app: FastifyInstance,
  session: Session,
  id: string,
  action: 'send' | 'cancel' | 'acknowledge' | 'close' | 'receipts',
  payload?: object,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: `/v1/purchase-orders/${id}/${action}`,
    headers: { ...bearer(session), ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
}

/** A draft sent without e-mail: the usual start of a receiving test. */
export async function sentPo(app: FastifyInstance, session: Session, payload: object): Promise<Po> {
  const po = await createPo(app, session, payload);
  const sent = await poAction(app, session, po.id, 'send', { skipEmail: true });
  if (sent.statusCode !== 200) throw new Error(`send failed: ${sent.statusCode} ${sent.body}`);
  return sent.json<{ data: Po }>().data;
}
