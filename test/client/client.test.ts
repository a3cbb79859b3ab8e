import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { PASSWORD, uniqueEmail } from '../helpers/auth.ts';
import { createFreshChoiceClient } from './client.ts';

/**
 * The client typed from the document (client.ts), over real HTTP: what an integrator's generated
 * client does, including the README's list call with nothing but `search`.
 */
describe('the typed client against a running server', () => {
  let t: TestApp;
  let baseUrl: string;
  let token: string | undefined;

  beforeAll(async () => {
    t = await createTestApp({ rateLimitEnabled: true });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  it('registers, creates an item and finds it with only `search`, reading the declared headers', async () => {
    const client = createFreshChoiceClient(baseUrl, () => token);
    const registered = await client.POST('/v1/auth/register', {
      body: {
        email: uniqueEmail('client'),
        username: 'Client Author',
        password: PASSWORD,
        acceptTerms: true,
      },
    });
    expect(registered.response.status).toBe(201);
    token = registered.data?.data.accessToken;
    expect(token).toBeTruthy();
    expect(registered.response.headers.get('ratelimit-limit')).toBe('5');

    const created = await client.POST('/v1/inventory', {
      body: { description: 'Organic Whole Milk', category: 'Dairy', remainingStock: 12 },
    });
    expect(created.response.status).toBe(201);

    const list = await client.GET('/v1/inventory', { params: { query: { search: 'milk' } } });
    expect(list.error).toBeUndefined();
    expect(list.response.status).toBe(200);
    expect(list.data?.data.map((item) => item.description)).toEqual(['Organic Whole Milk']);
    expect(list.data?.meta.pagination).toMatchObject({ page: 1, limit: 20, total: 1 });
    const headers = list.response.headers;
    expect(headers.get('x-request-id')).toBe(list.data?.meta.requestId);
    expect(Number(headers.get('ratelimit-limit'))).toBeGreaterThan(0);
    expect(headers.get('ratelimit-remaining')).not.toBeNull();
    expect(headers.get('ratelimit-reset')).not.toBeNull();
  });

  it('reads an error as the one envelope', async () => {
    const client = createFreshChoiceClient(baseUrl, () => token);
    const missing = await client.GET('/v1/inventory/{id}', {
      params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('NOT_FOUND');
    expect(missing.error?.meta.requestId).toBe(missing.response.headers.get('x-request-id'));
  });
});
