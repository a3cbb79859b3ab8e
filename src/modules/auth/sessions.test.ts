import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../../../test/helpers/app.ts';
import {
  addMember,
  bearer,
  lastMailTo,
  login,
  PASSWORD,
  registerStore,
  type Session,
} from '../../../test/helpers/auth.ts';
import { ON_POSTGRES } from '../../../test/helpers/database.ts';
import { tempDir } from '../../../test/helpers/files.ts';
import { buildApp } from '../../app.ts';
import type { Cache } from '../../platform/cache/cache.ts';
import { configWith } from '../../config.ts';
import { revokeFamily } from './auth.repository.ts';
import { SessionStates } from './session-state.ts';

/**
 * Each test first uses the access token (so the session state is cached, as it is in service),
 * then ends the session, then uses the token again at once.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const me = (session: Pick<Session, 'accessToken'>, app: FastifyInstance = t.app) =>
  app.inject({ method: 'GET', url: '/v1/users/me', headers: bearer(session) });
const post = (url: string, payload: object, app: FastifyInstance = t.app) =>
  app.inject({ method: 'POST', url, payload });
const refresh = (session: Pick<Session, 'refreshToken'>, app: FastifyInstance = t.app) =>
  post('/v1/auth/refresh', { refreshToken: session.refreshToken }, app);
const signIn = async (email: string) => (await login(t.app, email)).json<{ data: Session }>().data;

async function expectLive(session: Session, app: FastifyInstance = t.app) {
  const response = await me(session, app);
  expect(response.statusCode, response.body).toBe(200);
}

async function expectEnded(session: Session, app: FastifyInstance = t.app) {
  const response = await me(session, app);
  expect(response.statusCode, response.body).toBe(401);
  expect(response.json().error.code).toBe('SESSION_REVOKED');
}

describe('an ended session’s access tokens are refused at once', () => {
  it('after logout, while the user’s other sessions go on', async () => {
    const admin = await registerStore(t.app);
    const phone = await signIn(admin.user.email);
    await expectLive(admin);
    await expectLive(phone);
    expect((await post('/v1/auth/logout', { refreshToken: admin.refreshToken })).statusCode).toBe(200);
    await expectEnded(admin);
    await expectLive(phone);
  });

  it('after reuse of a spent refresh token: every access token of that family, older and newer', async () => {
    const admin = await registerStore(t.app);
    const other = await signIn(admin.user.email);
    const rotated = (await refresh(admin)).json<{ data: Session }>().data;
    await expectLive(admin);
    await expectLive(rotated);
    const replay = await refresh(admin);
    expect(replay.statusCode).toBe(401);
    await expectEnded(admin);
    await expectEnded(rotated);
    await expectLive(other);
  });

  it('after a password change: every other session of the user; the one that changed it goes on', async () => {
    const admin = await registerStore(t.app);
    const laptop = await signIn(admin.user.email);
    const tablet = await signIn(admin.user.email);
    for (const session of [admin, laptop, tablet]) await expectLive(session);
    const changed = await t.app.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: bearer(admin),
      payload: { currentPassword: PASSWORD, newPassword: 'a fresh long passphrase' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    await expectEnded(laptop);
    await expectEnded(tablet);
    expect((await refresh(laptop)).statusCode).toBe(401);
    // The session that changed the password: its access token and its refresh token both still work.
    await expectLive(admin);
    const next = await refresh(admin);
    expect(next.statusCode).toBe(200);
    await expectLive(next.json<{ data: Session }>().data);
  });

  it('after a password reset: every session of the user', async () => {
    const admin = await registerStore(t.app);
    const other = await signIn(admin.user.email);
    await expectLive(admin);
    await expectLive(other);
    await post('/v1/auth/forgot-password', { email: admin.user.email });
    const { token } = await lastMailTo(t.testDatabase.database, admin.user.email);
    const reset = await post('/v1/auth/reset-password', { token, newPassword: 'a fresh long passphrase' });
    expect(reset.statusCode).toBe(200);
    await expectEnded(admin);
    await expectEnded(other);
  });

  it('after an admin deactivates the user, or changes their role', async () => {
    const admin = await registerStore(t.app);
    const leaving = await addMember(t.app, t.testDatabase.database, admin, 'employee');
    const promoted = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    await expectLive(leaving);
    await expectLive(promoted);
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/v1/users/${leaving.user.id}`,
      headers: bearer(admin),
    });
    expect(removed.statusCode).toBe(204);
    await expectEnded(leaving);
    const role = await t.app.inject({
      method: 'PATCH',
      url: `/v1/users/${promoted.user.id}`,
      headers: bearer(admin),
      payload: { role: 'manager' },
    });
    expect(role.statusCode).toBe(200);
    await expectEnded(promoted);
    await expectLive(admin);
  });
});

describe('the session check’s cache', () => {
  it('does not let a read that started before a change write the old state back after it', async () => {
    const admin = await registerStore(t.app);
    const { db } = t.testDatabase.database;
    const familyOf = async () =>
      (
        await db
          .selectFrom('refresh_tokens')
          .select('family_id')
          .where('user_id', '=', admin.user.id)
          .executeTakeFirstOrThrow()
      ).family_id;
    const family = await familyOf();
    // The app's own cache (Redis when configured), with a read's write-back of the state it
    // read (by either method) held until released.
    const cache = t.app.platform.cache;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const atHold = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const hold = async (value: unknown) => {
      if (typeof value !== 'object' || value === null || !('state' in value)) return;
      reached();
      await held;
    };
    const holding: Cache = {
      kind: cache.kind,
      get: (key) => cache.get(key),
      delete: (key) => cache.delete(key),
      set: async (key, value, ttl) => {
        await hold(value);
        return cache.set(key, value, ttl);
      },
      setIfUnchanged: async (key, expected, value, ttl) => {
        await hold(value);
        return cache.setIfUnchanged(key, expected, value, ttl);
      },
    };
    const sessions = new SessionStates(db, holding, 900);
    await sessions.invalidate(admin.user.id);
    // A read misses, reads the live session from the database, and is held before writing back.
    const early = sessions.get(admin.user.id);
    await atHold;
    // Meanwhile the session ends and the change is announced.
    await revokeFamily(db, family);
    await sessions.invalidate(admin.user.id);
    release();
    expect((await early)?.endedSessions).not.toContain(family);
    // The late write-back lost: the next read, here and through the app, sees the ended session.
    expect((await new SessionStates(db, cache, 900).get(admin.user.id))?.endedSessions).toContain(family);
    await expectEnded(admin);
  });

  it('a rotation that raced a logout (its family already partly revoked) cannot carry the session on', async () => {
    const admin = await registerStore(t.app);
    const rotated = (await refresh(admin)).json<{ data: Session }>().data;
    // What a logout's UPDATE leaves when a concurrent rotation inserted the next token after the
    // UPDATE's snapshot: the spent token revoked, the new one not.
    await t.testDatabase.database.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date() })
      .where('user_id', '=', admin.user.id)
      .where('used_at', 'is not', null)
      .execute();
    const carried = await refresh(rotated);
    expect(carried.statusCode).toBe(401);
    expect(carried.json().error.code).toBe('INVALID_REFRESH_TOKEN');
  });
});

describe.runIf(ON_POSTGRES && process.env.REDIS_URL)('two instances on one PostgreSQL and Redis', () => {
  let other: FastifyInstance;
  beforeAll(async () => {
    // A second app with its own connection pool, sharing only the database and Redis with t.app.
    other = await buildApp(
      configWith({
        nodeEnv: 'test',
        logLevel: 'silent',
        dataDir: await tempDir(),
        redisUrl: process.env.REDIS_URL,
        databaseUrl: t.testDatabase.url,
        jwtSecret: TEST_JWT_SECRET,
        rateLimitEnabled: false,
      }),
    );
    await other.ready();
  });
  afterAll(() => other.close());

  it('a session ended on one instance is refused on the other at once', async () => {
    const admin = await registerStore(t.app);
    const laptop = await signIn(admin.user.email);
    const phone = await signIn(admin.user.email);
    for (const session of [admin, laptop, phone]) await expectLive(session, other);

    // Logout on A; the token fails on B.
    expect((await post('/v1/auth/logout', { refreshToken: phone.refreshToken })).statusCode).toBe(200);
    await expectEnded(phone, other);
    await expectLive(laptop, other);

    // Password change on B; the other session fails on A, the changing one works on both.
    await expectLive(laptop, t.app);
    const changed = await other.inject({
      method: 'PATCH',
      url: '/v1/users/me',
      headers: bearer(admin),
      payload: { currentPassword: PASSWORD, newPassword: 'a fresh long passphrase' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    await expectEnded(laptop, t.app);
    await expectLive(admin, t.app);
    await expectLive(admin, other);

    // Deactivation on A; the member's token fails on B.
    const member = await addMember(t.app, t.testDatabase.database, admin, 'employee');
    await expectLive(member, other);
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/v1/users/${member.user.id}`,
      headers: bearer(admin),
    });
    expect(removed.statusCode).toBe(204);
    await expectEnded(member, other);
  });
});
