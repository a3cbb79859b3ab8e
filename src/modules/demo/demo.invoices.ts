import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { AppError } from '../../platform/http/errors.ts';
import { type JobQueue, PermanentJobError } from '../../platform/queue/queue.ts';
import type { AuthContext } from '../auth/guard.ts';
import { permissionSetOf } from '../auth/permissions.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import { type InvoicesService, markOverdueInvoices } from '../invoices/invoices.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { DEMO_VENDORS } from './demo.data.ts';
import { demoMember, demoVendorOrderLines } from './demo.repository.ts';
import { DEMO_ORG_ID, DEMO_USERS } from './demo.seed.ts';

/**
 * A few processed invoices in the demo store, made through the real path: CSV files (the
 * cheapest format to read) uploaded through the invoices service (storage, invoice row,
 * invoice:process), then, once processing has put them up for review, one approved and paid and
 * one past its due date marked overdue by the nightly pass. Three invoices of one vendor:
 * - `review`: a line no item matches and a unit cost above the order's (two conflicts to resolve);
 * - `paid`: billed as ordered, approved and paid;
 * - `overdue`: billed as ordered, dated 60 days back, so the vendor's terms put it past due.
 */
export const DEMO_INVOICES_JOB = 'demo:invoices';
export const DEMO_INVOICES_SETTLE_JOB = 'demo:invoices_settle';
export const DEMO_INVOICE_VENDOR = DEMO_VENDORS.find((vendor) => vendor.key === 'dairy')!;
/** How far back the overdue invoice is dated: past any demo vendor's terms. */
export const DEMO_OVERDUE_AGE_DAYS = 60;
/** The review invoice's price rise over the order: well past the three-way match's tolerance. */
export const DEMO_PRICE_RISE = 0.12;
/** The member the demo jobs act as (the admin, who may approve cost changes too). */
const ACTING_EMAIL = DEMO_USERS.find((user) => user.role === 'admin')!.email;

export type DemoInvoiceRole = 'review' | 'paid' | 'overdue';

export interface DemoInvoiceFile {
  role: DemoInvoiceRole;
  invoiceNumber: string;
  invoiceDate: string;
  filename: string;
  csv: string;
}

interface OrderLine {
  vendor_sku: string;
  description: string;
  quantity: string;
  unit_cost: string;
}

const LINES_PER_INVOICE = 2;
const cell = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const price = (value: number) => (Math.round(value * 100) / 100).toFixed(2);

/**
 * The three CSV files, from the vendor's newest order lines (two items each, none shared, so no
 * invoice claims another's order): the column labels are those the extractor reads.
 */
export function demoInvoiceFiles(orderLines: readonly OrderLine[], today: string): DemoInvoiceFile[] {
  const roles: DemoInvoiceRole[] = ['review', 'paid', 'overdue'];
  if (orderLines.length < roles.length * LINES_PER_INVOICE) {
    throw new Error(`the demo vendor has ${orderLines.length} order lines, fewer than the invoices need`);
  }
  const compact = today.replaceAll('-', '');
  return roles.map((role, index) => {
    const invoiceDate = role === 'overdue' ? addDays(today, -DEMO_OVERDUE_AGE_DAYS) : today;
    const invoiceNumber = `VDC-${compact}-${index + 1}`;
    const billed = orderLines.slice(index * LINES_PER_INVOICE, (index + 1) * LINES_PER_INVOICE);
    const rows = billed.map((line, lineIndex) => {
      const ordered = Number(line.unit_cost);
      const unitCost = role === 'review' && lineIndex === 0 ? ordered * (1 + DEMO_PRICE_RISE) : ordered;
      return [line.vendor_sku, line.description, String(Number(line.quantity)), price(unitCost)];
    });
    // Something the store never ordered and has no item for: the line a reviewer must settle.
    if (role === 'review') rows.push(['VDC-DISPLAY-1', 'Promotional chiller display stand', '1', '45.00']);
    const csv = [
      ['Invoice No', 'Invoice Date', 'SKU', 'Description', 'Qty', 'Unit Price'],
      ...rows.map((row) => [invoiceNumber, invoiceDate, ...row]),
    ]
      .map((row) => row.map(cell).join(','))
      .join('\n');
    return { role, invoiceNumber, invoiceDate, filename: `${invoiceNumber}.csv`, csv: `${csv}\n` };
  });
}

async function actingMember(db: Kysely<DB>, orgId: string): Promise<AuthContext> {
  const member = await withTenant(db, orgId, (trx) => demoMember(trx, orgId, ACTING_EMAIL));
  if (!member) throw new PermanentJobError(`the demo store has no member ${ACTING_EMAIL}`);
  return {
    userId: member.id,
    orgId,
    email: member.email,
    role: member.role,
    permissions: permissionSetOf(member.role),
    sessionId: 'demo-invoices',
  };
}

type SettlePayload = Record<DemoInvoiceRole, string>;

/**
 * demo:invoices uploads the three files (a retry finds the ones already uploaded: the same bytes
 * answer 409 with the invoice's id) and queues demo:invoices_settle, which waits, by failing and
 * being retried, until processing has put all three up for review, as
 * shopping_list:generate_after_forecasts waits for forecasts.
 */
export function defineDemoInvoiceJobs(
  queue: JobQueue,
  db: Kysely<DB>,
  service: InvoicesService,
  settings: StoreSettings,
): void {
  queue.define<Record<string, never>>({
    type: DEMO_INVOICES_JOB,
    description: 'Upload the demo store’s sample invoices (three CSV files of one vendor) for processing',
    retryLimit: 3,
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new PermanentJobError(`${job.type} needs a store`);
      const auth = await actingMember(db, orgId);
      const { today, vendor } = await withTenant(db, orgId, async (trx) => ({
        today: todayIn((await settings.read(trx, orgId)).timeZone),
        vendor: await demoVendorOrderLines(trx, orgId, DEMO_INVOICE_VENDOR.name),
      }));
      if (!vendor) throw new PermanentJobError(`the demo store has no vendor ${DEMO_INVOICE_VENDOR.name}`);
      const ids = {} as SettlePayload;
      for (const file of demoInvoiceFiles(vendor.lines, today)) {
        const staged = await service.files.stage(auth, {
          filename: file.filename,
          declaredType: 'text/csv',
          body: Readable.from([Buffer.from(file.csv)]),
        });
        try {
          ids[file.role] = (
            await service.upload(auth, staged, {
              vendorId: vendor.vendorId,
              invoiceNumber: file.invoiceNumber,
              invoiceDate: file.invoiceDate,
            })
          ).invoiceId;
        } catch (error) {
          const known = (error as AppError).details as { invoiceId?: string } | undefined;
          if (!(error instanceof AppError && error.code === 'DUPLICATE_INVOICE' && known?.invoiceId))
            throw error;
          ids[file.role] = known.invoiceId;
        }
      }
      await queue.enqueue(db, DEMO_INVOICES_SETTLE_JOB, ids, {
        orgId,
        priority: 'low',
        singletonKey: 'demo-invoices-settle',
      });
      return ids;
    },
  });

  queue.define<SettlePayload>({
    type: DEMO_INVOICES_SETTLE_JOB,
    description: 'Approve and pay one demo invoice and mark the overdue one, once all three are processed',
    retryLimit: 20,
    retryDelaySeconds: 3,
    retryDelayMaxSeconds: 60,
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new PermanentJobError(`${job.type} needs a store`);
      const auth = await actingMember(db, orgId);
      const invoices = await Promise.all(
        (['review', 'paid', 'overdue'] as const).map((role) => service.get(auth, job.payload[role])),
      );
      const failed = invoices.filter((invoice) => invoice.status === 'failed');
      if (failed.length > 0) {
        throw new PermanentJobError(`demo invoices failed processing: ${failed.map((i) => i.id).join(', ')}`);
      }
      const waiting = invoices.filter((invoice) => invoice.status === 'processing').length;
      if (waiting > 0) throw new Error(`${waiting} demo invoices are still processing`);
      const paid = invoices[1]!;
      if (paid.status === 'review') await service.approve(auth, paid.id, `demo-approve-${paid.id}`);
      if (paid.paymentStatus !== 'paid') {
        await service.setStatus(auth, paid.id, {
          status: 'paid',
          paymentMethod: 'Bank transfer',
          notes: 'Paid on approval',
        });
      }
      // The nightly pass, now: the invoice dated 60 days back is past its terms.
      const overdue = await markOverdueInvoices(db, settings, orgId, new Date(), service.notifier);
      return { approved: paid.id, overdue: overdue.overdue };
    },
  });
}

/**
 * Queues demo:invoices for the freshly seeded demo store (once: a singleton key). Called after the
 * server listens, so none of it runs before /health answers on a first start.
 */
export async function queueDemoInvoices(database: Database, queue: JobQueue): Promise<void> {
  await queue.enqueue(
    database.db,
    DEMO_INVOICES_JOB,
    {},
    { orgId: DEMO_ORG_ID, priority: 'low', singletonKey: 'demo-invoices' },
  );
}
