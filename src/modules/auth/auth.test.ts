import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../../../test/helpers/app.ts';
import {
  bearer,
  lastMailTo,
  login,
  PASSWORD,
  registerStore,
  type Session,
  uniqueEmail,
} from '../../../test/helpers/auth.ts';
import { ROLE_PERMISSIONS } from './permissions.ts';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from './tokens.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers });
const me = (session: Pick<Session, 'accessToken'>) =>
  t.app.inject({ method: 'GET', url: '/v1/users/me', headers: bearer(session) });

describe('POST /v1/auth/register', () => {
  it('creates the user and a store in which they are admin, and signs them in', async () => {
    const email = uniqueEmail('Owner').toUpperCase();
    const response = await post('/v1/auth/register', {
      email,
      username: 'Maria',
      password: PASSWORD,
      companyName: 'Maria’s Market',
      acceptTerms: true,
    });
    expect(response.statusCode).toBe(201);
    const { data } = response.json();
    expect(data.user).toMatchObject({
      email: email.toLowerCase(),
      username: 'Maria',
      role: 'admin',
      organization: { name: 'Maria’s Market' },
    });
    expect(data.user.permissions).toEqual([...ROLE_PERMISSIONS.admin]);
    expect(data.expiresIn).toBe(900);
    expect(data.refreshToken.length).toBeGreaterThanOrEqual(43);
    expect((await me(data)).json().data.organization.id).toBe(data.user.organization.id);
  });

  it('names the store after the user when no company is given', async () => {
    const response = await post('/v1/auth/register', {
      email: uniqueEmail(),
      username: 'Luca',
      password: PASSWORD,
      acceptTerms: true,
    });
    expect(response.json().data.user.organization.name).toBe("Luca's store");
  });

  it('answers 409 for an e-mail already registered, whatever its case', async () => {
    const email = uniqueEmail('dup');
    expect(
      (await post('/v1/auth/register', { email, username: 'a', password: PASSWORD, acceptTerms: true }))
        .statusCode,
    ).toBe(201);
    const again = await post('/v1/auth/register', {
      email: email.toUpperCase(),
      username: 'b',
      password: PASSWORD,
      acceptTerms: true,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('EMAIL_TAKEN');
  });

  it.each([
    ['terms not accepted', { acceptTerms: false }, 'acceptTerms'],
    ['password too short', { password: 'short1!' }, 'password'],
    ['password too long', { password: 'x'.repeat(129) }, 'password'],
    ['password equal to the e-mail', { email: 'same@example.com', password: 'same@example.com' }, 'password'],
    ['password equal to the username', { username: 'greengrocer', password: 'GreenGrocer' }, 'password'],
    ['invalid e-mail', { email: 'not-an-email' }, 'body.email'],
    ['missing username', { username: undefined }, 'body.username'],
  ])('answers 400 when %s', async (_case, change, field) => {
    const body = {
      email: uniqueEmail(),
      username: 'someone',
      password: PASSWORD,
      acceptTerms: true,
      ...change,
    };
    const response = await post('/v1/auth/register', body);
    expect(response.statusCode).toBe(400);
    expect(response.json().success).toBe(false);
    expect(response.json().error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field })]),
    );
  });
});

describe('POST /v1/auth/login', () => {
  let admin: Session;
  beforeAll(async () => {
    admin = await registerStore(t.app);
  });

  it('signs in with the right password, the e-mail in any case', async () => {
    const response = await login(t.app, admin.user.email.toUpperCase());
    expect(response.statusCode).toBe(200);
    expect(response.json().data.user.id).toBe(admin.user.id);
  });

  it('answers the same 401 for a wrong password and an unknown e-mail', async () => {
    const wrong = await login(t.app, admin.user.email, 'not the password');
    const unknown = await login(t.app, uniqueEmail('nobody'), 'not the password');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error).toEqual(unknown.json().error);
    expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
  });

  it('makes rememberMe refresh tokens last 30 days instead of 1', async () => {
    const short = (await login(t.app, admin.user.email)).json().data;
    const long = (await login(t.app, admin.user.email, PASSWORD, true)).json().data;
    const expiry = async (session: Session) => {
      const { createHash } = await import('node:crypto');
      const row = await t.testDatabase.database.db
        .selectFrom('refresh_tokens')
        .select('expires_at')
        .where('token_hash', '=', createHash('sha256').update(session.refreshToken).digest('hex'))
        .executeTakeFirstOrThrow();
      return (new Date(row.expires_at).getTime() - Date.now()) / 86_400_000;
    };
    expect(await expiry(short)).toBeCloseTo(1, 1);
    expect(await expiry(long)).toBeCloseTo(30, 1);
  });
});

describe('access tokens', () => {
  let admin: Session;
  const key = new TextEncoder().encode(TEST_JWT_SECRET);
  const claimsOf = (session: Session) => ({
    email: session.user.email,
    role: 'admin',
    permissions: session.user.permissions,
    org: session.user.organization.id,
    sv: 1,
    sid: '00000000-0000-4000-8000-000000000000',
  });
  beforeAll(async () => {
    admin = await registerStore(t.app);
  });

  it('accepts a valid token', async () => {
    expect((await me(admin)).statusCode).toBe(200);
  });

  it('answers 401 in the envelope without a token or with a malformed header', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer not.a.jwt' },
    ]) {
      const response = await t.app.inject({ method: 'GET', url: '/v1/users/me', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({
        success: false,
        error: { code: expect.stringMatching(/UNAUTHORIZED|INVALID_TOKEN/) },
      });
    }
  });

  it('rejects alg:none', async () => {
    const token = new UnsecuredJWT(claimsOf(admin))
      .setSubject(admin.user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    const response = await me({ accessToken: token });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('INVALID_TOKEN');
  });

  it.each([
    [
      'a wrong signature',
      'another-secret-that-is-long-enough-to-sign-with',
      TOKEN_ISSUER,
      TOKEN_AUDIENCE,
      '5m',
      'INVALID_TOKEN',
    ],
    ['a wrong issuer', TEST_JWT_SECRET, 'someone-else', TOKEN_AUDIENCE, '5m', 'INVALID_TOKEN'],
    ['a wrong audience', TEST_JWT_SECRET, TOKEN_ISSUER, 'other-api', '5m', 'INVALID_TOKEN'],
    ['an expired token', TEST_JWT_SECRET, TOKEN_ISSUER, TOKEN_AUDIENCE, '-1m', 'TOKEN_EXPIRED'],
  ])('rejects %s', async (_case, secret, issuer, audience, expiry, code) => {
    const token = await new SignJWT(claimsOf(admin))
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(admin.user.id)
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(expiry)
      .sign(secret === TEST_JWT_SECRET ? key : new TextEncoder().encode(secret));
    const response = await me({ accessToken: token });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe(code);
  });

  it('rejects a token whose payload was edited (role raised) after signing', async () => {
    const [header, payload, signature] = admin.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(
      JSON.stringify({ ...claims, role: 'admin', org: '11111111-1111-4111-8111-111111111111' }),
    ).toString('base64url');
    expect((await me({ accessToken: `${header}.${forged}.${signature}` })).statusCode).toBe(401);
  });
});

describe('refresh tokens', () => {
  let admin: Session;
  beforeAll(async () => {
    admin = await registerStore(t.app);
  });

  it('rotate: each refresh returns a new pair and spends the old refresh token', async () => {
    const session = (await login(t.app, admin.user.email)).json().data;
    const first = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
    expect(first.statusCode).toBe(200);
    const rotated = first.json().data;
    expect(rotated.refreshToken).not.toBe(session.refreshToken);
    expect(rotated.user.id).toBe(admin.user.id);
    expect((await me(rotated)).statusCode).toBe(200);
    const second = await post('/v1/auth/refresh', { refreshToken: rotated.refreshToken });
    expect(second.statusCode).toBe(200);
  });

  it('revoke the whole family when a spent token is presented again (thief and victim both out)', async () => {
    const session = (await login(t.app, admin.user.email)).json().data;
    const victim = (await post('/v1/auth/refresh', { refreshToken: session.refreshToken })).json().data;
    const replay = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('INVALID_REFRESH_TOKEN');
    // The legitimate holder's newer token is dead too.
    expect((await post('/v1/auth/refresh', { refreshToken: victim.refreshToken })).statusCode).toBe(401);
    // Other sessions of the same user are not affected.
    const other = (await login(t.app, admin.user.email)).json().data;
    expect((await post('/v1/auth/refresh', { refreshToken: other.refreshToken })).statusCode).toBe(200);
  });

  it('end with logout', async () => {
    const session = (await login(t.app, admin.user.email)).json().data;
    const out = await post('/v1/auth/logout', { refreshToken: session.refreshToken });
    expect(out.statusCode).toBe(200);
    expect(out.json().success).toBe(true);
    expect((await post('/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode).toBe(401);
    // Logging out twice, or with an unknown token, is harmless.
    expect((await post('/v1/auth/logout', { refreshToken: session.refreshToken })).statusCode).toBe(200);
    expect((await post('/v1/auth/logout', { refreshToken: 'never-issued' })).statusCode).toBe(200);
  });

  it('reject unknown and expired tokens', async () => {
    expect((await post('/v1/auth/refresh', { refreshToken: 'never-issued' })).statusCode).toBe(401);
    const session = (await login(t.app, admin.user.email)).json().data;
    await t.testDatabase.database.db
      .updateTable('refresh_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', admin.user.id)
      .execute();
    expect((await post('/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode).toBe(401);
  });
});

describe('password reset', () => {
  it('always answers 200 and mails a single-use token only to a real account', async () => {
    const admin = await registerStore(t.app);
    const nobody = uniqueEmail('nobody');
    const unknown = await post('/v1/auth/forgot-password', { email: nobody });
    expect(unknown.statusCode).toBe(200);

    const known = await post('/v1/auth/forgot-password', { email: admin.user.email });
    expect(known.statusCode).toBe(200);
    expect(known.json().data).toEqual(unknown.json().data);
    const { mail, token } = await lastMailTo(t.testDatabase.database, admin.user.email);
    expect(mail?.transport).toBe('log');
    expect(token).toBeTruthy();
    // The known account's mail, asked for after, has gone out through the same queue.
    expect((await lastMailTo(t.testDatabase.database, nobody, { wait: false })).mail).toBeUndefined();

    // Stored hashed: the raw token is nowhere in the token table.
    const stored = await t.testDatabase.database.db
      .selectFrom('one_time_tokens')
      .select('token_hash')
      .execute();
    expect(stored.map((row) => row.token_hash)).not.toContain(token);

    const oldSession = (await login(t.app, admin.user.email)).json().data;
    const reset = await post('/v1/auth/reset-password', { token, newPassword: 'a brand new passphrase' });
    expect(reset.statusCode).toBe(200);

    expect((await login(t.app, admin.user.email)).statusCode).toBe(401);
    expect((await login(t.app, admin.user.email, 'a brand new passphrase')).statusCode).toBe(200);
    // Every earlier session is over: refresh token revoked, access token refused at once.
    expect((await post('/v1/auth/refresh', { refreshToken: oldSession.refreshToken })).statusCode).toBe(401);
    const refused = await me(oldSession);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe('SESSION_REVOKED');
    // Single use.
    const again = await post('/v1/auth/reset-password', { token, newPassword: 'yet another passphrase' });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.code).toBe('INVALID_TOKEN');
  });

  it('refuses an expired token, and keeps a token usable when the new password is rejected', async () => {
    const admin = await registerStore(t.app);
    await post('/v1/auth/forgot-password', { email: admin.user.email });
    const { token } = await lastMailTo(t.testDatabase.database, admin.user.email);
    const weak = await post('/v1/auth/reset-password', { token, newPassword: 'short' });
    expect(weak.statusCode).toBe(400);
    await t.testDatabase.database.db
      .updateTable('one_time_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', admin.user.id)
      .execute();
    const expired = await post('/v1/auth/reset-password', { token, newPassword: 'long enough passphrase' });
    expect(expired.statusCode).toBe(400);
    expect(expired.json().error.code).toBe('INVALID_TOKEN');
  });

  it('expires after one hour', async () => {
    const admin = await registerStore(t.app);
    await post('/v1/auth/forgot-password', { email: admin.user.email });
    const row = await t.testDatabase.database.db
      .selectFrom('one_time_tokens')
      .select(['expires_at', 'created_at'])
      .where('user_id', '=', admin.user.id)
      .where('purpose', '=', 'password_reset')
      .executeTakeFirstOrThrow();
    const minutes = (new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()) / 60_000;
    expect(minutes).toBeCloseTo(60, 0);
  });
});
