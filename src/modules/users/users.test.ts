import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import {
  addMember,
  bearer,
  lastMailTo,
  login,
  PASSWORD,
  registerStore,
  type Session,
  uniqueEmail,
} from '../../../test/helpers/auth.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const call = (
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  session: Session,
  payload?: object,
) => t.app.inject({ method, url, headers: bearer(session), ...(payload ? { payload } : {}) });

describe('members', () => {
  let admin: Session;
  beforeAll(async () => {
    admin = await registerStore(t.app, 'Members Market');
  });

  it('an invited member sets a password through the mailed link, then signs in with the given role', async () => {
    const email = uniqueEmail('clerk');
    const invited = await call('POST', '/v1/users', admin, { email, username: 'Clerk', role: 'employee' });
    expect(invited.statusCode).toBe(201);
    expect(invited.json().data).toMatchObject({ email, role: 'employee', active: true, passwordSet: false });
    expect((await login(t.app, email)).statusCode).toBe(401);

    const { mail, token } = await lastMailTo(t.testDatabase.database, email);
    expect(mail?.subject).toMatch(/invited/i);
    const accepted = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/reset-password',
      payload: { token, newPassword: PASSWORD },
    });
    expect(accepted.statusCode).toBe(200);
    const session = (await login(t.app, email)).json().data;
    expect(session.user).toMatchObject({
      role: 'employee',
      organization: { id: admin.user.organization.id },
    });
    expect(session.user.permissions).toEqual(['inventory:read', 'inventory:write', 'invoice:process']);
  });

  it('lists the store’s members with pagination', async () => {
    const response = await call('GET', '/v1/users?page=1&limit=1', admin);
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toHaveLength(1);
    expect(response.json().meta.pagination).toMatchObject({ page: 1, limit: 1 });
    expect(response.json().meta.pagination.total).toBeGreaterThanOrEqual(2);
    expect(response.json().data[0]).not.toHaveProperty('password_hash');
    expect(response.json().data[0]).not.toHaveProperty('passwordHash');
  });

  it('rejects an invitation for an e-mail that already has an account (409) and bad input (400)', async () => {
    expect(
      (await call('POST', '/v1/users', admin, { email: admin.user.email, username: 'x', role: 'viewer' }))
        .statusCode,
    ).toBe(409);
    const bad = await call('POST', '/v1/users', admin, {
      email: uniqueEmail(),
      username: 'x',
      role: 'owner',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_ERROR');
    expect((await call('PATCH', '/v1/users/not-a-uuid', admin, { role: 'viewer' })).statusCode).toBe(400);
  });

  it('a role change ends the member’s current access token; a refresh brings the new role', async () => {
    const member = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    const changed = await call('PATCH', `/v1/users/${member.user.id}`, admin, { role: 'manager' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().data.role).toBe('manager');
    expect((await call('GET', '/v1/users/me', member)).statusCode).toBe(401);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: member.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json().data.user.role).toBe('manager');
    expect(refreshed.json().data.user.permissions).toContain('vendor:manage');
  });

  it('deactivation stops sign-in and revokes every session at once', async () => {
    const member = await addMember(t.app, t.testDatabase.database, admin, 'employee');
    const removed = await call('DELETE', `/v1/users/${member.user.id}`, admin);
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe('');
    expect((await login(t.app, member.user.email)).statusCode).toBe(401);
    expect((await call('GET', '/v1/users/me', member)).statusCode).toBe(401);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: member.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    // Reactivated, they can sign in again (old sessions stay dead).
    expect((await call('PATCH', `/v1/users/${member.user.id}`, admin, { active: true })).statusCode).toBe(
      200,
    );
    expect((await login(t.app, member.user.email)).statusCode).toBe(200);
  });

  it('a store always keeps an active admin', async () => {
    const store = await registerStore(t.app, 'Solo Shop');
    const demote = await call('PATCH', `/v1/users/${store.user.id}`, store, { role: 'manager' });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().error.code).toBe('LAST_ADMIN');
    expect((await call('DELETE', `/v1/users/${store.user.id}`, store)).statusCode).toBe(409);

    const second = await addMember(t.app, t.testDatabase.database, store, 'admin');
    // Two admins demoting each other at the same moment: one wins; the other is refused, either as
    // the last admin (409) or because the winner's change already ended their session (401).
    const results = await Promise.all([
      call('PATCH', `/v1/users/${second.user.id}`, store, { role: 'viewer' }),
      call('PATCH', `/v1/users/${store.user.id}`, second, { role: 'viewer' }),
    ]);
    const statuses = results.map((response) => response.statusCode).sort();
    expect(statuses[0]).toBe(200);
    expect([401, 409]).toContain(statuses[1]);
    const admins = await t.testDatabase.database.db
      .selectFrom('users')
      .select('id')
      .where('org_id', '=', store.user.organization.id)
      .where('role', '=', 'admin')
      .where('active', '=', true)
      .execute();
    expect(admins).toHaveLength(1);
  });
});

describe('permissions', () => {
  let admin: Session;
  const sessions: Record<string, Session> = {};
  beforeAll(async () => {
    admin = await registerStore(t.app, 'Role Grocers');
    for (const role of ['manager', 'employee', 'viewer']) {
      sessions[role] = await addMember(t.app, t.testDatabase.database, admin, role);
    }
    sessions.admin = admin;
  });

  it.each([
    ['GET', '/v1/users', { admin: 200, manager: 403, employee: 403, viewer: 403 }],
    ['GET', '/v1/users/activity', { admin: 200, manager: 403, employee: 403, viewer: 403 }],
    ['PUT', '/v1/settings', { admin: 200, manager: 403, employee: 403, viewer: 403 }],
    ['GET', '/v1/settings', { admin: 200, manager: 200, employee: 200, viewer: 200 }],
    ['GET', '/v1/users/me', { admin: 200, manager: 200, employee: 200, viewer: 200 }],
  ] as const)('%s %s answers by role', async (method, url, expected) => {
    for (const [role, status] of Object.entries(expected)) {
      const response = await call(
        method,
        url,
        sessions[role]!,
        method === 'PUT' ? { expiryWarningDays: 4 } : undefined,
      );
      expect(response.statusCode, `${role} ${method} ${url}`).toBe(status);
      if (status === 403) expect(response.json().error.code).toBe('FORBIDDEN');
    }
  });
});

describe('my profile', () => {
  it('changes the username', async () => {
    const admin = await registerStore(t.app);
    const response = await call('PATCH', '/v1/users/me', admin, { username: 'New Name' });
    expect(response.statusCode).toBe(200);
    expect(response.json().data.username).toBe('New Name');
  });

  it('changes the password only with the current one, and signs out other sessions', async () => {
    const admin = await registerStore(t.app);
    const otherDevice = (await login(t.app, admin.user.email)).json().data;
    expect(
      (await call('PATCH', '/v1/users/me', admin, { newPassword: 'a new long passphrase' })).statusCode,
    ).toBe(400);
    const wrong = await call('PATCH', '/v1/users/me', admin, {
      currentPassword: 'wrong one',
      newPassword: 'a new long passphrase',
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe('INVALID_CURRENT_PASSWORD');
    const changed = await call('PATCH', '/v1/users/me', admin, {
      currentPassword: PASSWORD,
      newPassword: 'a new long passphrase',
    });
    expect(changed.statusCode).toBe(200);
    expect((await login(t.app, admin.user.email, 'a new long passphrase')).statusCode).toBe(200);
    const refresh = (token: string) =>
      t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: token } });
    expect((await refresh(otherDevice.refreshToken)).statusCode).toBe(401);
    expect((await refresh(admin.refreshToken)).statusCode).toBe(200);
  });
});

describe('settings', () => {
  it('start at the defaults, accept a partial update, and reject bad values', async () => {
    const admin = await registerStore(t.app);
    const initial = await call('GET', '/v1/settings', admin);
    expect(initial.json().data).toEqual({
      lowStockThreshold: 10,
      expiryWarningDays: 3,
      timeZone: 'UTC',
      currency: 'USD',
      country: null,
      region: null,
      serviceLevel: 0.95,
      reviewPeriodDays: 7,
      defaultLeadTimeDays: 2,
    });
    const updated = await call('PUT', '/v1/settings', admin, { timeZone: 'Europe/Rome', currency: 'EUR' });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().data).toEqual({
      lowStockThreshold: 10,
      expiryWarningDays: 3,
      timeZone: 'Europe/Rome',
      currency: 'EUR',
      country: null,
      region: null,
      serviceLevel: 0.95,
      reviewPeriodDays: 7,
      defaultLeadTimeDays: 2,
    });
    expect((await call('GET', '/v1/settings', admin)).json().data.currency).toBe('EUR');

    const zone = await call('PUT', '/v1/settings', admin, { timeZone: 'Mars/Olympus_Mons' });
    expect(zone.statusCode).toBe(422);
    expect(zone.json().error.details[0].field).toBe('timeZone');
    expect((await call('PUT', '/v1/settings', admin, { currency: 'XYZ' })).statusCode).toBe(422);
    expect((await call('PUT', '/v1/settings', admin, { lowStockThreshold: -1 })).statusCode).toBe(400);
    expect((await call('PUT', '/v1/settings', admin, {})).statusCode).toBe(400);

    // The holiday calendar: a known country and region, else 422 naming the field.
    const country = await call('PUT', '/v1/settings', admin, { country: 'DE', region: 'BY' });
    expect(country.json().data).toMatchObject({ country: 'DE', region: 'BY' });
    const badRegion = await call('PUT', '/v1/settings', admin, { region: 'XX' });
    expect(badRegion.statusCode).toBe(422);
    expect(badRegion.json().error.details[0].field).toBe('region');
    const badCountry = await call('PUT', '/v1/settings', admin, { country: 'ZZ', region: null });
    expect(badCountry.statusCode).toBe(422);
    expect(badCountry.json().error.details[0].field).toBe('country');
    expect((await call('PUT', '/v1/settings', admin, { country: 'it' })).statusCode).toBe(400);
    expect((await call('PUT', '/v1/settings', admin, { country: null })).statusCode).toBe(422);
    expect((await call('GET', '/v1/settings', admin)).json().data).toMatchObject({
      country: 'DE',
      region: 'BY',
    });
  });
});

describe('activity', () => {
  it('records sign-ins, failures, role changes, deactivations and resets, newest first', async () => {
    const admin = await registerStore(t.app, 'Audited');
    const member = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
    await login(t.app, member.user.email, 'wrong password');
    await call('PATCH', `/v1/users/${member.user.id}`, admin, { role: 'employee' });
    await call('DELETE', `/v1/users/${member.user.id}`, admin);
    await t.app.inject({
      method: 'POST',
      url: '/v1/auth/forgot-password',
      payload: { email: admin.user.email },
    });

    const response = await call('GET', '/v1/users/activity?limit=100', admin);
    expect(response.statusCode).toBe(200);
    const actions = response.json().data.map((event: { action: string }) => event.action);
    expect(actions.slice(0, 4)).toEqual([
      'password_reset_requested',
      'user_deactivated',
      'role_changed',
      'login_failed',
    ]);
    expect(actions).toEqual(
      expect.arrayContaining(['registered', 'user_invited', 'invitation_accepted', 'login']),
    );
    const roleChange = response
      .json()
      .data.find((event: { action: string }) => event.action === 'role_changed');
    expect(roleChange).toMatchObject({
      actor: { id: admin.user.id, email: admin.user.email },
      subject: { id: member.user.id },
      details: { from: 'viewer', to: 'employee' },
    });
    const filtered = await call('GET', '/v1/users/activity?action=login_failed', admin);
    expect(filtered.json().data.every((event: { action: string }) => event.action === 'login_failed')).toBe(
      true,
    );
    expect(filtered.json().meta.pagination.total).toBe(1);
  });
});
