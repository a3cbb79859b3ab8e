import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';
import { PermanentJobError, type JobQueue } from '../../platform/queue/queue.ts';
import { todayIn } from '../inventory/inventory.service.ts';
import type { StoreSettings } from '../settings/store-settings.ts';
import { organizationName } from '../users/users.repository.ts';
import { digestMail } from './digest.ts';
import * as repo from './notifications.repository.ts';
import { PUSH_JOB } from './notifier.ts';
import { PUSH_DELIVERY, PushRefused, type PushSender, pushPayload } from './push.ts';

export const DIGEST_JOB = 'notifications:email_digest';

export interface NotificationJobDeps {
  queue: JobQueue;
  db: Kysely<DB>;
  sender: PushSender;
  settings: StoreSettings;
  mailer: Mailer;
  publicAppUrl: string;
}

export function defineNotificationJobs({
  queue,
  db,
  sender,
  settings,
  mailer,
  publicAppUrl,
}: NotificationJobDeps): void {
  /**
   * One notification to one browser. A push service that answers 404 or 410 says the browser
   * dropped the subscription: its row is deleted and the job ends (successfully: there is
   * nothing left to do). 429 and 5xx are the service's trouble, retried with backoff; other 4xx
   * (a payload it will not take, a key it does not accept) cannot get better by retrying.
   * At least once: a worker that dies between the service's answer and the job's completion
   * pushes again, which a browser shows as the same notification (`id`) once more.
   */
  queue.define<{ subscriptionId: string; notificationId: string }>({
    type: PUSH_JOB,
    description: 'Push one notification to one subscribed browser (web push with VAPID)',
    retryLimit: 5,
    retryDelaySeconds: 10,
    retryDelayMaxSeconds: 900,
    expireInSeconds: 120,
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new PermanentJobError(`${job.type} needs a store`);
      const { subscriptionId, notificationId } = job.payload;
      const { subscription, notification } = await withTenant(db, orgId, (trx) =>
        repo.pushTarget(trx, orgId, subscriptionId, notificationId),
      );
      if (!subscription) return { skipped: 'unsubscribed' };
      if (!notification || notification.user_id !== subscription.user_id)
        return { skipped: 'no notification' };
      if (notification.read_at) return { skipped: 'already read' };
      const delivery = PUSH_DELIVERY[notification.type];
      // Retries do not stretch a notification's life: what is left of it goes to the service.
      const ageSeconds = Math.floor((Date.now() - new Date(notification.created_at).getTime()) / 1000);
      const ttlSeconds = delivery.ttlSeconds - Math.max(0, ageSeconds);
      if (ttlSeconds <= 0) return { skipped: 'expired' };
      const payload = pushPayload({
        id: notification.id,
        category: notification.category,
        type: notification.type,
        title: notification.title,
        message: notification.message,
        data: notification.data ?? null,
        actions: notification.actions,
        createdAt: new Date(notification.created_at).toISOString(),
      });
      try {
        const { statusCode } = await sender.send(subscription, payload, {
          urgency: delivery.urgency,
          ttlSeconds,
        });
        await withTenant(db, orgId, (trx) => repo.markPushed(trx, orgId, subscription.id));
        return { statusCode };
      } catch (error) {
        if (!(error instanceof PushRefused)) throw error;
        if (error.statusCode === 404 || error.statusCode === 410) {
          await withTenant(db, orgId, (trx) => repo.deleteSubscriptionById(trx, orgId, subscription.id));
          job.logger.info({ statusCode: error.statusCode }, 'push subscription gone: removed');
          return { statusCode: error.statusCode, subscriptionRemoved: true };
        }
        if (error.statusCode === 429 || error.statusCode >= 500) throw error;
        throw new PermanentJobError(error.message);
      }
    },
  });

  /**
   * The daily e-mail digest (07:00 store time): each active member with `emailDigest` on gets a
   * summary of the store's live alerts (open or acknowledged). No live alerts, or nobody who wants
   * it: no mail. Each member's day is claimed (notification_digests) in the transaction that
   * queues the mail, so a second run the same day, by retry or by hand, mails nobody twice.
   */
  queue.define({
    type: DIGEST_JOB,
    description: "E-mail the store's open alerts to the members who turned the daily digest on",
    startPermission: 'users:manage',
    defaultSchedule: { name: 'Daily alerts e-mail digest', cron: '0 7 * * *' },
    async run(job) {
      const orgId = job.orgId;
      if (!orgId) throw new PermanentJobError(`${job.type} needs a store`);
      return withTenant(db, orgId, async (trx) => {
        const day = todayIn((await settings.read(trx, orgId)).timeZone);
        const alerts = await repo.liveAlerts(trx, orgId);
        if (alerts.length === 0) return { day, alerts: 0, mailed: 0 };
        const recipients = await repo.digestRecipients(trx, orgId);
        if (recipients.length === 0) return { day, alerts: alerts.length, mailed: 0 };
        const store = await organizationName(trx, orgId);
        let mailed = 0;
        for (const recipient of recipients) {
          if (!(await repo.claimDigest(trx, orgId, recipient.id, day, alerts.length))) continue;
          const mail = digestMail({ store, day, username: recipient.username, alerts, publicAppUrl });
          await mailer.send({ to: recipient.email, subject: mail.subject, text: mail.text, orgId }, trx);
          mailed++;
        }
        return { day, alerts: alerts.length, mailed };
      });
    },
  });
}
