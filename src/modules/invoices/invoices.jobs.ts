import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { Platform } from '../../platform/platform.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import {
  type InvoicesService,
  markOverdueInvoices,
  PROCESS_ATTEMPTS,
  PROCESS_JOB,
} from './invoices.service.ts';

/**
 * invoice:process reads an uploaded invoice (queued with the upload, in its transaction);
 * invoice:mark_overdue is the nightly pass that marks unpaid invoices past due as overdue.
 * Extraction failures are handled inside the job (the invoice is marked failed): only our own
 * errors are retried, and the last attempt marks the invoice failed too.
 */
export function defineInvoiceJobs(
  queue: JobQueue,
  platform: Pick<Platform, 'storage'>,
  service: InvoicesService,
  db: Kysely<DB>,
  settings: StoreSettings,
): void {
  queue.define<{ invoiceId: string }>({
    type: PROCESS_JOB,
    description:
      'Read an uploaded invoice, match its vendor, lines, orders and receipts, and put it up for review',
    retryLimit: PROCESS_ATTEMPTS - 1,
    expireInSeconds: 1800,
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new Error(`${job.type} needs a store`);
      return service.process(platform, orgId, job.payload.invoiceId, job.attempt, job.signal);
    },
  });

  queue.define({
    type: 'invoice:mark_overdue',
    description: 'Mark unpaid invoices whose due date has passed as overdue',
    // Like the other nightly passes, a member who handles invoices may run it now.
    startPermission: 'invoice:process',
    defaultSchedule: { name: 'Mark overdue invoices', cron: '15 0 * * *' },
    retryLimit: 3,
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new Error(`${job.type} needs a store`);
      return markOverdueInvoices(db, settings, orgId, new Date(), service.notifier);
    },
  });
}
