import { ECDH } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { paginate } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import type { AuthContext } from '../auth/guard.ts';
import * as repo from './notifications.repository.ts';
import type { NotificationRow, SubscriptionRow } from './notifications.repository.ts';
import {
  type ListQuery,
  MAX_DATA_BYTES,
  type Notification,
  type Preferences,
  type PreferencesBody,
  type SendBody,
  type SubscribeBody,
  type Subscription,
} from './notifications.schemas.ts';
import type { Notifier } from './notifier.ts';

export interface NotificationsDeps {
  db: Kysely<DB>;
  notifier: Notifier;
  vapidPublicKey: string;
  /** PUSH_ENDPOINT_HOSTS: hosts, `*.domain`, or `*`. */
  pushEndpointHosts: string[];
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    endpoint: row.endpoint,
    preferences: {
      lowStock: row.low_stock,
      expiry: row.expiry,
      invoices: row.invoices,
      reports: row.reports,
    },
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function toNotification(row: NotificationRow): Notification {
  return {
    id: row.id,
    category: row.category,
    type: row.type,
    title: row.title,
    message: row.message,
    data: row.data ?? null,
    actions: row.actions,
    read: row.read_at !== null,
    readAt: row.read_at ? new Date(row.read_at).toISOString() : null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export function hostAllowed(host: string, patterns: string[]): boolean {
  const name = host.toLowerCase();
  return patterns.some((pattern) => {
    if (pattern === '*') return true;
    if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
    return name === pattern;
  });
}

const invalid = (field: string, message: string) =>
  errors.validation(`The request is invalid: ${field} ${message}`, [{ field, message }]);

/** Subscriptions, preferences and the inbox of the signed-in member; an admin's messages. */
export class NotificationsService {
  readonly #deps: NotificationsDeps;

  constructor(deps: NotificationsDeps) {
    this.#deps = deps;
  }

  vapidPublicKey() {
    return { publicKey: this.#deps.vapidPublicKey };
  }

  /** The browser's endpoint must be an https push service on the allowed list. */
  #checkEndpoint(endpoint: string, field: string) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw invalid(field, 'must be an https URL');
    }
    if (url.protocol !== 'https:') throw invalid(field, 'must be an https URL');
    if (url.username || url.password) throw invalid(field, 'must not carry a user name or password');
    if (
      !hostAllowed(url.host, this.#deps.pushEndpointHosts) &&
      !hostAllowed(url.hostname, this.#deps.pushEndpointHosts)
    )
      throw new AppError(
        422,
        'PUSH_SERVICE_NOT_ALLOWED',
        `${url.host} is not a push service this server sends to (PUSH_ENDPOINT_HOSTS)`,
        { field, host: url.host },
      );
  }

  async subscribe(auth: AuthContext, body: SubscribeBody, userAgent: string | undefined) {
    this.#checkEndpoint(body.endpoint, 'body.endpoint');
    const p256dh = body.keys.p256dh.replace(/=+$/, '');
    const auth16 = body.keys.auth.replace(/=+$/, '');
    const point = Buffer.from(p256dh, 'base64url');
    if (point.length !== 65 || point[0] !== 0x04)
      throw invalid('body.keys.p256dh', 'must be an uncompressed P-256 public key (65 bytes, base64url)');
    try {
      ECDH.convertKey(point, 'prime256v1');
    } catch {
      throw invalid('body.keys.p256dh', 'is not a point on the P-256 curve');
    }
    if (Buffer.from(auth16, 'base64url').length !== 16)
      throw invalid('body.keys.auth', 'must be 16 bytes, base64url');
    const row = await withTenant(this.#deps.db, auth.orgId, (trx) =>
      repo.upsertSubscription(trx, auth.orgId, auth.userId, {
        endpoint: body.endpoint,
        p256dh,
        auth: auth16,
        preferences: body.preferences,
        userAgent: userAgent ? userAgent.slice(0, 500) : null,
      }),
    );
    return { subscription: toSubscription(row), created: row.inserted };
  }

  async unsubscribe(auth: AuthContext, endpoint: string) {
    const removed = await withTenant(this.#deps.db, auth.orgId, (trx) =>
      repo.deleteSubscription(trx, auth.orgId, auth.userId, endpoint),
    );
    if (!removed) throw errors.notFound('Push subscription');
  }

  async preferences(auth: AuthContext): Promise<Preferences> {
    return withTenant(this.#deps.db, auth.orgId, (trx) => this.#preferences(trx, auth));
  }

  async #preferences(trx: Kysely<DB>, auth: AuthContext): Promise<Preferences> {
    const [emailDigest, subscriptions] = await Promise.all([
      repo.emailDigestOf(trx, auth.orgId, auth.userId),
      repo.listSubscriptions(trx, auth.orgId, auth.userId),
    ]);
    return { emailDigest, subscriptions: subscriptions.map(toSubscription) };
  }

  async updatePreferences(auth: AuthContext, body: PreferencesBody): Promise<Preferences> {
    return withTenant(this.#deps.db, auth.orgId, async (trx) => {
      if (body.push) {
        const changed = await repo.updateSubscriptionPreferences(
          trx,
          auth.orgId,
          auth.userId,
          body.push.endpoint,
          body.push.preferences,
        );
        if (body.push.endpoint !== undefined && changed === 0) throw errors.notFound('Push subscription');
      }
      if (body.emailDigest !== undefined)
        await repo.setEmailDigest(trx, auth.orgId, auth.userId, body.emailDigest);
      return this.#preferences(trx, auth);
    });
  }

  async list(auth: AuthContext, query: ListQuery) {
    const { rows, total } = await withTenant(this.#deps.db, auth.orgId, (trx) =>
      repo.listNotifications(trx, auth.orgId, auth.userId, query),
    );
    return { notifications: rows.map(toNotification), pagination: paginate(query.page, query.limit, total) };
  }

  async markRead(auth: AuthContext, id: string): Promise<Notification> {
    const row = await withTenant(this.#deps.db, auth.orgId, (trx) =>
      repo.markRead(trx, auth.orgId, auth.userId, id),
    );
    if (!row) throw errors.notFound('Notification');
    return toNotification(row);
  }

  async markAllRead(auth: AuthContext) {
    const updated = await withTenant(this.#deps.db, auth.orgId, (trx) =>
      repo.markAllRead(trx, auth.orgId, auth.userId),
    );
    return { updated };
  }

  /**
   * An admin's message to members of their own store: every id must be an active member of it,
   * else 422 naming the ids and nothing is sent.
   */
  async send(auth: AuthContext, body: SendBody) {
    const ids = [...new Set([...(body.userId ? [body.userId] : []), ...(body.userIds ?? [])])];
    if (ids.length === 0)
      throw errors.validation('The request is invalid: give userId or userIds', [
        { field: 'body.userId', message: 'or body.userIds is required' },
      ]);
    if (body.data !== undefined && Buffer.byteLength(JSON.stringify(body.data) ?? '') > MAX_DATA_BYTES)
      throw invalid('body.data', `must be at most ${MAX_DATA_BYTES} bytes as JSON`);
    return withTenant(this.#deps.db, auth.orgId, async (trx) => {
      const members = new Set(await repo.activeMembers(trx, auth.orgId, ids));
      const unknown = ids.filter((id) => !members.has(id));
      if (unknown.length > 0)
        throw new AppError(
          422,
          'UNKNOWN_RECIPIENT',
          `Not an active member of your store: ${unknown.join(', ')}`,
          { userIds: unknown },
        );
      const result = await this.#deps.notifier.notifyUsers(trx, auth.orgId, {
        category: 'message',
        type: body.type,
        title: body.title,
        message: body.message,
        data: body.data,
        actions: body.actions ?? [],
        userIds: ids,
        createdBy: auth.userId,
      });
      return { recipients: result.recipients.length, pushJobs: result.pushJobs };
    });
  }
}
