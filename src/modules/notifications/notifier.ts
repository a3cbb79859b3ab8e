import type { NotificationCategory, NotificationType } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import * as repo from './notifications.repository.ts';

export const PUSH_JOB = 'notification:push';

export interface NotifyInput {
  /** What it is about: the recipients' push preferences filter by it; `message` is always pushed. */
  category: NotificationCategory;
  type: NotificationType;
  title: string;
  message: string;
  /** Any JSON, kept with the inbox row and pushed when it fits. */
  data?: unknown;
  actions?: Array<{ action: string; title: string; url?: string | undefined }>;
  /** Default: every active member of the store. Ids that are not active members are skipped. */
  userIds?: string[];
  /** The member who sent it (admin messages), recorded on the inbox rows. */
  createdBy?: string | null;
}

export interface NotifyResult {
  /** Members who got an inbox row. */
  recipients: string[];
  /** Push jobs queued (one per subscribed browser that wants the category). */
  pushJobs: number;
}

/** The longest title and message the inbox keeps; longer text from a caller is shortened. */
const MAX_TITLE = 200;
const MAX_MESSAGE = 2000;

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * How other modules notify a store's members: `notifyUsers(trx, orgId, {...})` in their own
 * tenant transaction (withTenant), so the notification exists exactly when their change commits.
 * It writes one inbox row per recipient and, for each of their browsers whose preferences want
 * the category, queues a `notification:push` job in the same transaction (sent after commit,
 * retried with backoff). Built once in app.ts and passed to the modules that notify.
 */
export class Notifier {
  readonly #queue: JobQueue;

  constructor(queue: JobQueue) {
    this.#queue = queue;
  }

  async notifyUsers(trx: Executor, orgId: string, input: NotifyInput): Promise<NotifyResult> {
    const wanted = input.userIds === undefined ? undefined : [...new Set(input.userIds)];
    const recipients = await repo.activeMembers(trx, orgId, wanted);
    if (recipients.length === 0) return { recipients: [], pushJobs: 0 };
    const rows = await repo.insertNotifications(trx, orgId, recipients, {
      category: input.category,
      type: input.type,
      title: clip(input.title, MAX_TITLE) || '(no title)',
      message: clip(input.message, MAX_MESSAGE) || '(no message)',
      data: input.data ?? null,
      actions: input.actions ?? [],
      createdBy: input.createdBy ?? null,
    });
    const notificationOf = new Map(rows.map((row) => [row.user_id, row.id]));
    const subscriptions = await repo.subscriptionsWanting(trx, orgId, recipients, input.category);
    const payloads = subscriptions.map((subscription) => ({
      subscriptionId: subscription.id,
      notificationId: notificationOf.get(subscription.user_id)!,
    }));
    const pushJobs =
      payloads.length === 0
        ? 0
        : await this.#queue.enqueueMany(trx, PUSH_JOB, payloads, {
            orgId,
            priority: input.type === 'error' ? 'high' : 'normal',
          });
    return { recipients, pushJobs };
  }
}
