import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { type JobQueue, oncePerJob } from '../../platform/queue/queue.ts';
import type { PublishedEvent, PublishWatch } from '../../platform/realtime/outbox.repository.ts';
import type { NotifyInput, Notifier } from './notifier.ts';

/**
 * Alerts reach members as notifications (inbox rows, and web pushes for browsers whose
 * preferences want low stock or expiry): when an alert opens or gets worse, alerts/ writes its
 * event to the outbox; the outbox publisher hands those events, once each whichever instance
 * publishes them, to `alertWatch`, which queues one `alerts:notify` job per store in the
 * publishing transaction. The job writes the notifications in its own transaction, with retries,
 * so a failure here never holds back realtime delivery.
 */
export const ALERT_NOTIFY_JOB = 'alerts:notify';
const ALERT_EVENTS = ['alert:low_stock', 'alert:expiry_warning'] as const;

interface AlertEvent {
  seq: number;
  type: string;
  payload: Record<string, unknown>;
}

export function alertWatch(queue: JobQueue): PublishWatch {
  return {
    types: ALERT_EVENTS,
    async onPublished(trx, events: PublishedEvent[]) {
      const byStore = new Map<string, AlertEvent[]>();
      for (const event of events) {
        const list = byStore.get(event.orgId) ?? [];
        list.push({ seq: event.seq, type: event.type, payload: event.payload });
        byStore.set(event.orgId, list);
      }
      for (const [orgId, list] of byStore)
        await queue.enqueue(trx, ALERT_NOTIFY_JOB, { events: list }, { orgId, priority: 'high' });
    },
  };
}

/** A payload field as text: strings and numbers as they are, anything else (absent) as ''. */
const text = (value: unknown) =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';

/** What members read for an alert event: the spec's payload in a sentence. */
export function alertNotification(event: AlertEvent): NotifyInput {
  const payload = event.payload;
  const severity = text(payload.severity);
  const item = text(payload.itemName) || 'An item';
  const type = severity === 'critical' ? 'error' : severity === 'warning' ? 'warning' : 'info';
  const data = {
    alertId: payload.alertId,
    itemId: payload.itemId,
    kind: payload.kind,
    severity,
    eventId: event.seq,
  };
  const actions = [{ action: 'view-item', title: 'View item', url: `/inventory/${text(payload.itemId)}` }];
  if (event.type === 'alert:low_stock') {
    return {
      category: 'lowStock',
      type,
      title: severity === 'critical' ? `Out of stock: ${item}` : `Low stock: ${item}`,
      message: `${text(payload.currentStock)} in stock; reorder point ${text(payload.threshold)}.`,
      data,
      actions,
    };
  }
  const days = Number(payload.daysUntilExpiry);
  return {
    category: 'expiry',
    type,
    title: severity === 'critical' ? `Expired stock: ${item}` : `Expiring soon: ${item}`,
    message:
      days < 0
        ? `${text(payload.currentStock)} in stock; the earliest lot expired on ${text(payload.expiryDate)}.`
        : `${text(payload.currentStock)} in stock; the earliest lot expires ${days === 0 ? 'today' : days === 1 ? 'tomorrow' : `in ${days} days`} (${text(payload.expiryDate)}).`,
    data,
    actions,
  };
}

export function defineAlertNotifyJob(queue: JobQueue, db: Kysely<DB>, notifier: Notifier): void {
  queue.define<{ events: AlertEvent[] }>({
    type: ALERT_NOTIFY_JOB,
    description: 'Notify members of alerts that opened or got worse (inbox and web push)',
    retryLimit: 5,
    retryDelaySeconds: 10,
    retryDelayMaxSeconds: 600,
    run: (job) =>
      oncePerJob(db, job, async (trx, orgId) => {
        let recipients = 0;
        let pushJobs = 0;
        for (const event of job.payload.events) {
          const result = await notifier.notifyUsers(trx, orgId, alertNotification(event));
          recipients += result.recipients.length;
          pushJobs += result.pushJobs;
        }
        return { alerts: job.payload.events.length, notifications: recipients, pushJobs };
      }),
  });
}
