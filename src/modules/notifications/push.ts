import type { Agent } from 'node:https';
import type webpush from 'web-push';
import type { NotificationType } from '../../platform/db/schema.ts';
import type { VapidKeys } from './vapid.ts';

/**
 * Urgency (RFC 8030 §5.3: a phone on battery may hold back `low` pushes) and time to live (how
 * long the push service keeps a push for a browser that is offline) by notification type. An
 * error is worth waking a phone for and still worth seeing tomorrow morning; an "import
 * finished" is not.
 */
export const PUSH_DELIVERY: Record<NotificationType, { urgency: webpush.Urgency; ttlSeconds: number }> = {
  error: { urgency: 'high', ttlSeconds: 24 * 3600 },
  warning: { urgency: 'normal', ttlSeconds: 24 * 3600 },
  info: { urgency: 'low', ttlSeconds: 4 * 3600 },
  success: { urgency: 'low', ttlSeconds: 4 * 3600 },
};

/** Push services take 4,096 bytes of encrypted record: about 3,993 of payload. We stay well under. */
export const MAX_PUSH_PAYLOAD_BYTES = 3000;

export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface PushMessage {
  id: string;
  category: string;
  type: string;
  title: string;
  message: string;
  data: unknown;
  actions: unknown[];
  createdAt: string;
}

/**
 * The JSON a service worker receives in its `push` event (`event.data.json()`). When the
 * notification's data and actions would make it too large for a push service, they are left
 * out (the inbox has them, under `id`) and the message is shortened.
 */
export function pushPayload(message: PushMessage): string {
  const full = JSON.stringify(message);
  if (Buffer.byteLength(full) <= MAX_PUSH_PAYLOAD_BYTES) return full;
  const lean = { ...message, data: null, actions: [], truncated: true };
  let text = JSON.stringify(lean);
  let body = message.message;
  while (Buffer.byteLength(text) > MAX_PUSH_PAYLOAD_BYTES && body.length > 0) {
    body = body.slice(0, Math.floor(body.length * 0.8));
    text = JSON.stringify({ ...lean, message: `${body}…` });
  }
  return text;
}

export interface PushOutcome {
  statusCode: number;
}

/** Thrown for a push service's non-2xx answer. */
export class PushRefused extends Error {
  override name = 'PushRefused';
  readonly statusCode: number;
  constructor(statusCode: number, body: string) {
    super(`the push service answered ${statusCode}${body ? `: ${body.slice(0, 200)}` : ''}`);
    this.statusCode = statusCode;
  }
}

/**
 * Sends web pushes: the payload encrypted for the browser (RFC 8291, aes128gcm) and signed for
 * the push service with the VAPID key (RFC 8292), through the `web-push` library.
 */
export class PushSender {
  readonly #vapid: VapidKeys;
  readonly #agent: Agent | undefined;

  /** `agent`: only tests pass one, to trust a local push service's certificate. */
  constructor(vapid: VapidKeys, agent?: Agent) {
    this.#vapid = vapid;
    this.#agent = agent;
  }

  get publicKey(): string {
    return this.#vapid.publicKey;
  }

  async send(
    target: PushTarget,
    payload: string,
    options: { urgency: webpush.Urgency; ttlSeconds: number },
  ): Promise<PushOutcome> {
    // web-push is loaded with the first push, not at start-up (about 14 MB resident).
    const { default: pusher } = await import('web-push');
    try {
      const result = await pusher.sendNotification(
        { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
        payload,
        {
          vapidDetails: {
            subject: this.#vapid.subject,
            publicKey: this.#vapid.publicKey,
            privateKey: this.#vapid.privateKey,
          },
          TTL: options.ttlSeconds,
          urgency: options.urgency,
          contentEncoding: 'aes128gcm',
          timeout: 15_000,
          ...(this.#agent ? { agent: this.#agent } : {}),
        },
      );
      return { statusCode: result.statusCode };
    } catch (error) {
      if (error instanceof pusher.WebPushError) throw new PushRefused(error.statusCode, error.body);
      throw error;
    }
  }
}
