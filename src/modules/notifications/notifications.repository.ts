import { sql } from 'kysely';
import type { NotificationCategory, NotificationType } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';
import type { PushCategory, PushPreferences } from './notifications.schemas.ts';

/**
 * Notification queries. They run in the tenant transaction (app role, store set) and each also
 * filters by `org_id`: the filter states intent, row-level security guarantees it.
 */

const PREFERENCE_COLUMN = {
  lowStock: 'low_stock',
  expiry: 'expiry',
  invoices: 'invoices',
  reports: 'reports',
} as const satisfies Record<PushCategory, string>;

const subscriptionColumns = [
  'id',
  'user_id',
  'endpoint',
  'low_stock',
  'expiry',
  'invoices',
  'reports',
  'created_at',
  'updated_at',
] as const;

const notificationColumns = [
  'id',
  'user_id',
  'category',
  'type',
  'title',
  'message',
  'data',
  'actions',
  'read_at',
  'created_at',
] as const;

/** Inserts the browser's subscription, or takes over the row of the same endpoint in the store. */
export async function upsertSubscription(
  db: Executor,
  orgId: string,
  userId: string,
  subscription: {
    endpoint: string;
    p256dh: string;
    auth: string;
    preferences: PushPreferences;
    userAgent: string | null;
  },
) {
  const values = {
    user_id: userId,
    p256dh: subscription.p256dh,
    auth: subscription.auth,
    low_stock: subscription.preferences.lowStock,
    expiry: subscription.preferences.expiry,
    invoices: subscription.preferences.invoices,
    reports: subscription.preferences.reports,
    user_agent: subscription.userAgent,
  };
  return (
    db
      .insertInto('push_subscriptions')
      .values({ org_id: orgId, endpoint: subscription.endpoint, ...values })
      .onConflict((conflict) =>
        conflict.columns(['org_id', 'endpoint']).doUpdateSet({ ...values, updated_at: sql`now()` }),
      )
      // xmax is 0 on a row version this statement inserted, not on one it updated.
      .returning([...subscriptionColumns, sql<boolean>`xmax = 0`.as('inserted')])
      .executeTakeFirstOrThrow()
  );
}

export type SubscriptionRow = Awaited<ReturnType<typeof listSubscriptions>>[number];

export async function deleteSubscription(db: Executor, orgId: string, userId: string, endpoint: string) {
  const deleted = await db
    .deleteFrom('push_subscriptions')
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .where('endpoint', '=', endpoint)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows) > 0;
}

/** A push service said the subscription is gone (404/410). */
export async function deleteSubscriptionById(db: Executor, orgId: string, id: string) {
  await db.deleteFrom('push_subscriptions').where('org_id', '=', orgId).where('id', '=', id).execute();
}

export async function listSubscriptions(db: Executor, orgId: string, userId: string) {
  return db
    .selectFrom('push_subscriptions')
    .select(subscriptionColumns)
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Changes the given categories of the user's subscriptions (one endpoint, or all); the count changed. */
export async function updateSubscriptionPreferences(
  db: Executor,
  orgId: string,
  userId: string,
  endpoint: string | undefined,
  preferences: Partial<PushPreferences>,
) {
  const set: Record<string, boolean> = {};
  for (const [category, column] of Object.entries(PREFERENCE_COLUMN)) {
    const value = preferences[category as PushCategory];
    if (value !== undefined) set[column] = value;
  }
  let query = db
    .updateTable('push_subscriptions')
    .set({ ...set, updated_at: sql`now()` })
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId);
  if (endpoint !== undefined) query = query.where('endpoint', '=', endpoint);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function emailDigestOf(db: Executor, orgId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('notification_preferences')
    .select('email_digest')
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.email_digest ?? false;
}

export async function setEmailDigest(db: Executor, orgId: string, userId: string, on: boolean) {
  await db
    .insertInto('notification_preferences')
    .values({ org_id: orgId, user_id: userId, email_digest: on })
    .onConflict((conflict) =>
      conflict.column('user_id').doUpdateSet({ email_digest: on, updated_at: sql`now()` }),
    )
    .execute();
}

/** Of `ids`, those that are active members of the store. */
export async function activeMembers(db: Executor, orgId: string, ids: string[] | undefined) {
  let query = db.selectFrom('users').select('id').where('org_id', '=', orgId).where('active', '=', true);
  if (ids !== undefined) {
    if (ids.length === 0) return [];
    query = query.where('id', 'in', ids);
  }
  return (await query.orderBy('id').execute()).map((row) => row.id);
}

export interface NewNotification {
  category: NotificationCategory;
  type: NotificationType;
  title: string;
  message: string;
  data: unknown;
  actions: Array<{ action: string; title: string; url?: string | undefined }>;
  createdBy: string | null;
}

/** One inbox row per user; returns each row's id with its user. */
export async function insertNotifications(
  db: Executor,
  orgId: string,
  userIds: string[],
  notification: NewNotification,
) {
  if (userIds.length === 0) return [];
  const data =
    notification.data === undefined || notification.data === null ? null : JSON.stringify(notification.data);
  const actions = JSON.stringify(notification.actions);
  return db
    .insertInto('notifications')
    .values(
      userIds.map((userId) => ({
        org_id: orgId,
        user_id: userId,
        category: notification.category,
        type: notification.type,
        title: notification.title,
        message: notification.message,
        data,
        actions,
        created_by: notification.createdBy,
      })),
    )
    .returning(['id', 'user_id'])
    .execute();
}

/** The users' subscriptions that want `category` pushed (`message`: all of them). */
export async function subscriptionsWanting(
  db: Executor,
  orgId: string,
  userIds: string[],
  category: NotificationCategory,
) {
  if (userIds.length === 0) return [];
  let query = db
    .selectFrom('push_subscriptions')
    .select(['id', 'user_id'])
    .where('org_id', '=', orgId)
    .where('user_id', 'in', userIds);
  if (category !== 'message') query = query.where(PREFERENCE_COLUMN[category], '=', true);
  return query.orderBy('id').execute();
}

/** What the push job needs: the subscription's keys and the notification it carries. */
export async function pushTarget(
  db: Executor,
  orgId: string,
  subscriptionId: string,
  notificationId: string,
) {
  const [subscription, notification] = await Promise.all([
    db
      .selectFrom('push_subscriptions')
      .select(['id', 'user_id', 'endpoint', 'p256dh', 'auth'])
      .where('org_id', '=', orgId)
      .where('id', '=', subscriptionId)
      .executeTakeFirst(),
    db
      .selectFrom('notifications')
      .select(notificationColumns)
      .where('org_id', '=', orgId)
      .where('id', '=', notificationId)
      .executeTakeFirst(),
  ]);
  return { subscription, notification };
}

export async function markPushed(db: Executor, orgId: string, subscriptionId: string) {
  await db
    .updateTable('push_subscriptions')
    .set({ last_pushed_at: sql`now()` })
    .where('org_id', '=', orgId)
    .where('id', '=', subscriptionId)
    .execute();
}

export async function listNotifications(
  db: Executor,
  orgId: string,
  userId: string,
  filter: { read?: boolean | undefined; page: number; limit: number },
) {
  let base = db.selectFrom('notifications').where('org_id', '=', orgId).where('user_id', '=', userId);
  if (filter.read === true) base = base.where('read_at', 'is not', null);
  if (filter.read === false) base = base.where('read_at', 'is', null);
  const [rows, total] = await Promise.all([
    base
      .select(notificationColumns)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .offset((filter.page - 1) * filter.limit)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.count) };
}

export type NotificationRow = Awaited<ReturnType<typeof listNotifications>>['rows'][number];

/** Marks one of the user's notifications read (kept at its first reading); undefined if not theirs. */
export async function markRead(db: Executor, orgId: string, userId: string, id: string) {
  return db
    .updateTable('notifications')
    .set({ read_at: sql`coalesce(read_at, now())` })
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .where('id', '=', id)
    .returning(notificationColumns)
    .executeTakeFirst();
}

export async function markAllRead(db: Executor, orgId: string, userId: string) {
  const result = await db
    .updateTable('notifications')
    .set({ read_at: sql`now()` })
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The store's live alerts (open or acknowledged), for the digest: by kind, then severity. */
export async function liveAlerts(db: Executor, orgId: string) {
  return db
    .selectFrom('alerts as a')
    .innerJoin('inventory_items as i', 'i.id', 'a.item_id')
    .select([
      'a.id',
      'a.kind',
      'a.severity',
      'a.state',
      'a.details',
      'a.opened_at',
      'i.description as item_name',
    ])
    .where('a.org_id', '=', orgId)
    .where('a.state', 'in', ['open', 'acknowledged'])
    .orderBy('a.kind')
    .orderBy(sql`case a.severity when 'critical' then 0 when 'warning' then 1 else 2 end`)
    .orderBy('i.description')
    .orderBy('a.id')
    .execute();
}

export type LiveAlertRow = Awaited<ReturnType<typeof liveAlerts>>[number];

/** Active members who want the e-mail digest. */
export async function digestRecipients(db: Executor, orgId: string) {
  return db
    .selectFrom('notification_preferences as p')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .select(['u.id', 'u.email', 'u.username'])
    .where('p.org_id', '=', orgId)
    .where('p.email_digest', '=', true)
    .where('u.active', '=', true)
    .orderBy('u.id')
    .execute();
}

/** Claims the user's digest for the day: false when one was already queued for it. */
export async function claimDigest(db: Executor, orgId: string, userId: string, day: string, alerts: number) {
  const inserted = await db
    .insertInto('notification_digests')
    .values({ org_id: orgId, user_id: userId, day, alerts })
    .onConflict((conflict) => conflict.columns(['user_id', 'day']).doNothing())
    .returning('user_id')
    .executeTakeFirst();
  return inserted !== undefined;
}
