import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  IdParams,
  ListQuery,
  Notification,
  Preferences,
  PreferencesBody,
  ReadAllResult,
  SendBody,
  SendResult,
  SubscribeBody,
  Subscription,
  UnsubscribeBody,
  VapidPublicKey,
} from './notifications.schemas.ts';
import type { NotificationsService } from './notifications.service.ts';

export interface NotificationsRoutesOptions {
  service: NotificationsService;
  guard: Guard;
}

const tags = ['notifications'];

export const notificationsRoutes: FastifyPluginAsyncTypebox<NotificationsRoutesOptions> = async (
  app,
  { service, guard },
) => {
  app.get(
    '/vapid-public-key',
    guard.protect('authenticated', {
      tags,
      summary: "The server's VAPID public key, for pushManager.subscribe's applicationServerKey",
      response: { 200: Envelope(VapidPublicKey) },
    }),
    async (request) => ok(request, service.vapidPublicKey()),
  );

  app.post(
    '/subscribe',
    guard.protect(
      'authenticated',
      {
        tags,
        summary: "Subscribe this browser to web push (the spec's NotificationSubscriptionRequest)",
        description:
          'Send what `pushManager.subscribe()` gave (its `toJSON()`: endpoint, keys; `expirationTime` is accepted) ' +
          'with the categories to push. One subscription per endpoint: subscribing it again updates it, for whoever ' +
          'is signed in on that browser (201 when new, 200 when updated). The endpoint must be an https URL of a push ' +
          'service the server is configured to send to (`PUSH_ENDPOINT_HOSTS`, else 422 `PUSH_SERVICE_NOT_ALLOWED`). ' +
          'Admin messages are always pushed; the four categories filter the rest.',
        body: SubscribeBody,
        response: { 200: Envelope(Subscription), 201: Envelope(Subscription) },
      },
      { errors: [422] },
    ),
    async (request, reply) => {
      const { subscription, created } = await service.subscribe(
        authOf(request),
        request.body,
        request.headers['user-agent'],
      );
      return reply.status(created ? 201 : 200).send(ok(request, subscription));
    },
  );

  app.post(
    '/unsubscribe',
    guard.protect(
      'authenticated',
      {
        tags,
        summary: 'Stop pushing to a browser of yours',
        description: '404 when you have no subscription with this endpoint.',
        body: UnsubscribeBody,
        response: { 204: Type.Null({ description: 'Unsubscribed' }) },
      },
      { errors: [404] },
    ),
    async (request, reply) => {
      await service.unsubscribe(authOf(request), request.body.endpoint);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/preferences',
    guard.protect('authenticated', {
      tags,
      summary: 'Your notification preferences: the e-mail digest and each subscribed browser’s categories',
      response: { 200: Envelope(Preferences) },
    }),
    async (request) => ok(request, await service.preferences(authOf(request))),
  );

  app.put(
    '/preferences',
    guard.protect(
      'authenticated',
      {
        tags,
        summary: 'Change your notification preferences',
        description:
          '`emailDigest` turns the daily e-mail of the store’s live alerts on or off (off until turned on). ' +
          '`push.preferences` changes the given categories of one subscription (`push.endpoint`, 404 when it is ' +
          'not yours) or, without an endpoint, of all your subscriptions. Answers the preferences as they now are.',
        body: PreferencesBody,
        response: { 200: Envelope(Preferences) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await service.updatePreferences(authOf(request), request.body)),
  );

  app.get(
    '',
    guard.protect('authenticated', {
      tags,
      summary: 'Your in-app inbox, newest first',
      description: '`read=false` lists the unread ones; its `meta.pagination.total` is the unread count.',
      querystring: ListQuery,
      response: { 200: Envelope(Type.Array(Notification)) },
    }),
    async (request) => {
      const { notifications, pagination } = await service.list(authOf(request), request.query);
      return ok(request, notifications, pagination);
    },
  );

  app.post(
    '/read-all',
    guard.protect('authenticated', {
      tags,
      summary: 'Mark all your notifications read',
      response: { 200: Envelope(ReadAllResult) },
    }),
    async (request) => ok(request, await service.markAllRead(authOf(request))),
  );

  app.post(
    '/:id/read',
    guard.protect(
      'authenticated',
      {
        tags,
        summary: 'Mark one of your notifications read',
        description: 'Marking it again keeps the time it was first read. Anyone else’s notification is 404.',
        params: IdParams,
        response: { 200: Envelope(Notification) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await service.markRead(authOf(request), request.params.id)),
  );

  app.post(
    '/send',
    guard.protect(
      'users:manage',
      {
        tags,
        summary: "Send a message to members of your store (the spec's SendNotificationRequest)",
        description:
          'To `userId` and/or `userIds`: each must be an active member of your store, else 422 `UNKNOWN_RECIPIENT` ' +
          'naming them and nothing is sent. Each gets it in their inbox and on every browser they subscribed ' +
          '(pushed by background jobs, retried with backoff). Answers 202 with the counts.',
        body: SendBody,
        response: { 202: Envelope(SendResult) },
      },
      { errors: [422] },
    ),
    async (request, reply) =>
      reply.status(202).send(ok(request, await service.send(authOf(request), request.body))),
  );
};
