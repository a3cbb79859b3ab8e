import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, login } from '../../../test/helpers/auth.ts';
import { DEMO_PASSWORD, DEMO_USERS, seedDemo } from './demo.seed.ts';

describe('demo seed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('creates the demo store with one member per role, and is idempotent', async () => {
    const first = await seedDemo(t.testDatabase.database);
    const second = await seedDemo(t.testDatabase.database);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    for (const user of DEMO_USERS) {
      const response = await login(t.app, user.email, DEMO_PASSWORD);
      expect(response.statusCode, user.email).toBe(200);
      expect(response.json().data.user.role).toBe(user.role);
    }
    const admin = (await login(t.app, DEMO_USERS[0]!.email, DEMO_PASSWORD)).json().data;
    const settings = await t.app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(admin) });
    expect(settings.json().data).toMatchObject({ currency: 'EUR', timeZone: 'Europe/Rome' });
    const members = await t.app.inject({ method: 'GET', url: '/v1/users', headers: bearer(admin) });
    expect(members.json().meta.pagination.total).toBe(DEMO_USERS.length);
  });
});
