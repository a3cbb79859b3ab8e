import type { FastifyReply } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_RATE_LIMIT_KEY_PREFIX, type TestApp } from '../../../test/helpers/app.ts';
import {
  bearer,
  login,
  PASSWORD,
  registerStore,
  type Session,
  uniqueEmail,
} from '../../../test/helpers/auth.ts';
import { buildApp } from '../../app.ts';
import { createRateLimiter, RATE_LIMIT_KEY_PREFIX, RATE_LIMITS } from './rate-limit.ts';

describe('rate limits', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await createTestApp({ rateLimitEnabled: true });
    admin = await registerStore(t.app);
  });
  afterAll(() => t.close());

  it('answers the 6th login attempt for one account within 15 minutes with 429 and Retry-After', async () => {
    const email = uniqueEmail('target');
    const responses = [];
    for (let attempt = 1; attempt <= 6; attempt++)
      responses.push(await login(t.app, email, `guess number ${attempt}`));
    expect(responses.map((response) => response.statusCode)).toEqual([401, 401, 401, 401, 401, 429]);
    const last = responses[5]!;
    expect(last.json()).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(last.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    expect(last.headers['ratelimit-limit']).toBe('5');
    expect(last.headers['ratelimit-remaining']).toBe('0');
    expect(last.json().meta.requestId).toBe(last.headers['x-request-id']);
  });

  it('counts per account: colleagues on the same office IP can still sign in', async () => {
    const blocked = uniqueEmail('blocked');
    for (let attempt = 0; attempt < 6; attempt++) await login(t.app, blocked, 'wrong');
    const colleague = await login(t.app, admin.user.email, PASSWORD);
    expect(colleague.statusCode).toBe(200);
    expect(colleague.headers['ratelimit-remaining']).toBeDefined();
  });

  it('limits forgot-password per account too', async () => {
    const email = uniqueEmail('forgetful');
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      statuses.push(
        (await t.app.inject({ method: 'POST', url: '/v1/auth/forgot-password', payload: { email } }))
          .statusCode,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('keeps refresh out of the strict bucket', async () => {
    let refreshToken = admin.refreshToken;
    for (let attempt = 0; attempt < 8; attempt++) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken },
      });
      expect(response.statusCode).toBe(200);
      refreshToken = response.json().data.refreshToken;
    }
  });

  it('counts authenticated requests per user and says so in RateLimit-* headers', async () => {
    const first = await t.app.inject({ method: 'GET', url: '/v1/users/me', headers: bearer(admin) });
    const second = await t.app.inject({ method: 'GET', url: '/v1/users/me', headers: bearer(admin) });
    expect(first.headers['ratelimit-limit']).toBe(String(RATE_LIMITS.api.points));
    expect(Number(second.headers['ratelimit-remaining'])).toBe(
      Number(first.headers['ratelimit-remaining']) - 1,
    );
  });

  it.runIf(Boolean(process.env.REDIS_URL))('shares counters between instances through Redis', async () => {
    const other = await buildApp(t.app.config, {
      platform: { database: t.testDatabase.database, rateLimitKeyPrefix: TEST_RATE_LIMIT_KEY_PREFIX },
    });
    try {
      const email = uniqueEmail('shared');
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 6; attempt++) {
        const app = attempt % 2 === 0 ? t.app : other;
        statuses.push((await login(app, email, 'wrong')).statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    } finally {
      await other.close();
    }
  });
});

describe.runIf(Boolean(process.env.REDIS_URL))('rate-limit counters in Redis', () => {
  it("keeps a test run's counters under its own prefix, and production's under fc:rl:<bucket>:", async () => {
    const t = await createTestApp({ rateLimitEnabled: true });
    try {
      const redis = t.app.platform.redis!;
      // Until the client has connected, the limiter counts in memory (it fails fast, no queue).
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
      const email = uniqueEmail('prefixed');
      await login(t.app, email, 'wrong');
      expect(await redis.exists(`${TEST_RATE_LIMIT_KEY_PREFIX}:authAccount:login:${email}`)).toBe(1);
      expect(await redis.exists(`fc:rl:authAccount:login:${email}`)).toBe(0);

      // The limiter as the server builds it, given no prefix: the production key names.
      const production = createRateLimiter({ enabled: true, redis, logger: t.app.log });
      const key = `prefix-check:${uniqueEmail()}`;
      const reply = { header: () => reply, getHeader: () => undefined } as unknown as FastifyReply;
      await production.hit('authAccount', key, reply);
      try {
        expect(RATE_LIMIT_KEY_PREFIX).toBe('fc:rl');
        expect(await redis.exists(`fc:rl:authAccount:${key}`)).toBe(1);
      } finally {
        await redis.del(`fc:rl:authAccount:${key}`);
      }
    } finally {
      await t.close();
    }
  });
});

describe('rate limits switched off', () => {
  it('never answer 429 when RATE_LIMIT_ENABLED=false', async () => {
    const t = await createTestApp({ rateLimitEnabled: false });
    try {
      const email = uniqueEmail();
      for (let attempt = 0; attempt < 8; attempt++)
        expect((await login(t.app, email, 'wrong')).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });
});
