import { type Static, Type } from 'typebox';
import type { NotificationCategory, NotificationType } from '../../platform/db/schema.ts';

/** The spec's four push categories; `message` (admin messages) is always pushed. */
export const PUSH_CATEGORIES = ['lowStock', 'expiry', 'invoices', 'reports'] as const;
export type PushCategory = (typeof PUSH_CATEGORIES)[number];
export const NOTIFICATION_CATEGORIES = [...PUSH_CATEGORIES, 'message'] as const;
export const NOTIFICATION_TYPES = ['info', 'warning', 'error', 'success'] as const;

const Uuid = Type.String({ format: 'uuid' });

const endpoint = (
  description = "The browser's push endpoint (PushSubscription.endpoint): an https URL of its push service",
) => Type.String({ format: 'uri', pattern: '^https://', maxLength: 2048, description });

const Category = Type.Unsafe<NotificationCategory>({ type: 'string', enum: [...NOTIFICATION_CATEGORIES] });
const NotificationTypeSchema = Type.Unsafe<NotificationType>({
  type: 'string',
  enum: [...NOTIFICATION_TYPES],
  description:
    'Sets the push urgency and lifetime: error high/24 h, warning normal/24 h, info and success low/4 h',
});

const PreferenceFlags = {
  lowStock: Type.Boolean({ description: 'Low-stock alerts' }),
  expiry: Type.Boolean({ description: 'Expiry warnings' }),
  invoices: Type.Boolean({ description: 'Invoice updates' }),
  reports: Type.Boolean({ description: 'Reports ready' }),
};

export const PushPreferences = Type.Object(PreferenceFlags, {
  description: 'Which categories are pushed to this browser; admin messages always are',
});
export type PushPreferences = Static<typeof PushPreferences>;

export const SubscribeBody = Type.Object({
  endpoint: endpoint(),
  keys: Type.Object({
    p256dh: Type.String({
      pattern: '^[A-Za-z0-9_-]{87}=?$',
      description: "The browser's P-256 public key: 65 bytes (an uncompressed point), base64url",
    }),
    auth: Type.String({
      pattern: '^[A-Za-z0-9_-]{22}(==)?$',
      description: "The browser's auth secret: 16 bytes, base64url",
    }),
  }),
  preferences: PushPreferences,
  expirationTime: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 }), Type.Null()], {
      description: 'As PushSubscription.toJSON() gives it; accepted and not used',
    }),
  ),
});
export type SubscribeBody = Static<typeof SubscribeBody>;

export const Subscription = Type.Object({
  id: Uuid,
  endpoint: Type.String(),
  preferences: PushPreferences,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Subscription = Static<typeof Subscription>;

export const UnsubscribeBody = Type.Object({ endpoint: endpoint() });

export const PreferencesBody = Type.Object(
  {
    emailDigest: Type.Optional(
      Type.Boolean({ description: "A daily e-mail (07:00 store time) of the store's open alerts" }),
    ),
    push: Type.Optional(
      Type.Object({
        endpoint: Type.Optional(endpoint('The subscription to change; omitted: every subscription of yours')),
        preferences: Type.Partial(Type.Object(PreferenceFlags), {
          minProperties: 1,
          description: 'The categories to change; the others stay as they are',
        }),
      }),
    ),
  },
  { minProperties: 1 },
);
export type PreferencesBody = Static<typeof PreferencesBody>;

export const Preferences = Type.Object({
  emailDigest: Type.Boolean(),
  subscriptions: Type.Array(Subscription, { description: 'Your browsers subscribed to push' }),
});
export type Preferences = Static<typeof Preferences>;

export const VapidPublicKey = Type.Object({
  publicKey: Type.String({
    description: 'The applicationServerKey for pushManager.subscribe (base64url, uncompressed P-256)',
  }),
});

export const Action = Type.Object({
  action: Type.String({ minLength: 1, maxLength: 64 }),
  title: Type.String({ minLength: 1, maxLength: 100 }),
  url: Type.Optional(
    Type.String({
      maxLength: 2048,
      pattern: '^(https://|/)',
      description: 'An https URL or a path of the web app',
    }),
  ),
});

export const Notification = Type.Object({
  id: Uuid,
  category: Category,
  type: NotificationTypeSchema,
  title: Type.String(),
  message: Type.String(),
  data: Type.Unknown({ description: 'What the sender attached (null: nothing)' }),
  actions: Type.Array(Action),
  read: Type.Boolean(),
  readAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type Notification = Static<typeof Notification>;

export const ListQuery = Type.Object({
  read: Type.Optional(Type.Boolean({ description: 'true: read only; false: unread only' })),
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
});
export type ListQuery = Static<typeof ListQuery>;

export const IdParams = Type.Object({ id: Uuid });

export const MAX_DATA_BYTES = 2048;

export const SendBody = Type.Object({
  userId: Type.Optional(Uuid),
  userIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 500 })),
  type: NotificationTypeSchema,
  title: Type.String({ minLength: 1, maxLength: 200 }),
  message: Type.String({ minLength: 1, maxLength: 2000 }),
  data: Type.Optional(
    Type.Unknown({
      description: `Any JSON value, at most ${MAX_DATA_BYTES} bytes as JSON; pushed with the message`,
    }),
  ),
  actions: Type.Optional(Type.Array(Action, { maxItems: 4 })),
});
export type SendBody = Static<typeof SendBody>;

export const SendResult = Type.Object({
  recipients: Type.Integer({ description: 'Members who got it in their inbox' }),
  pushJobs: Type.Integer({ description: 'Pushes queued (one per subscribed browser)' }),
});

export const ReadAllResult = Type.Object({ updated: Type.Integer() });
