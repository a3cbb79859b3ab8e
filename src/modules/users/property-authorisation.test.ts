import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';

/**
 * Property-level authorisation: a field of the resource that the caller may not change is a 403
 * naming it, a field the resource does not have is a 400, and neither is ever dropped in silence
 * (nor is the rest of the request applied).
 */

let t: TestApp;
let admin: Session;
let employee: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'Field Rules Foods');
  employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
});
afterAll(() => t.close());

const send = (method: 'PATCH' | 'PUT' | 'POST', url: string, session: Session, payload: object) =>
  t.app.inject({ method, url, headers: bearer(session), payload });
const me = async (session: Session) =>
  (await t.app.inject({ method: 'GET', url: '/v1/users/me', headers: bearer(session) })).json().data;

describe('PATCH /v1/users/me', () => {
  it('refuses a role change with 403 naming the field, and changes nothing else in the request', async () => {
    const response = await send('PATCH', '/v1/users/me', employee, { username: 'Renamed', role: 'admin' });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toEqual({
      code: 'FORBIDDEN',
      message: 'You may not change role with this request',
      details: [
        { field: 'body.role', message: 'is a field of this resource that this request may not change' },
      ],
    });
    const after = await me(employee);
    expect(after.role).toBe('employee');
    expect(after.username).toBe(employee.user.username);
  });

  it.each([
    ['email', 'someone.else@example.com'],
    ['active', false],
    ['permissions', ['users:manage']],
    ['organization', { id: '00000000-0000-4000-8000-000000000000', name: 'Other' }],
  ])('refuses %s with 403', async (field, value) => {
    const response = await send('PATCH', '/v1/users/me', employee, { [field]: value });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.details).toEqual([{ field: `body.${field}`, message: expect.any(String) }]);
  });

  it('refuses a field that is not a field of a member at all with 400', async () => {
    const response = await send('PATCH', '/v1/users/me', employee, { username: 'Renamed', shoeSize: 44 });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [
        { field: 'body.shoeSize', message: expect.stringContaining('is not a field of this request') },
      ],
    });
    expect((await me(employee)).username).toBe(employee.user.username);
  });

  it('still applies a request with only fields the caller may change', async () => {
    const response = await send('PATCH', '/v1/users/me', employee, { username: 'Employee Renamed' });
    expect(response.statusCode, response.body).toBe(200);
    expect((await me(employee)).username).toBe('Employee Renamed');
  });
});

describe('the other update routes', () => {
  it("PATCH /v1/users/:id refuses a member's e-mail or username (403), an unknown field (400)", async () => {
    const url = `/v1/users/${employee.user.id}`;
    const email = await send('PATCH', url, admin, { email: 'taken.over@example.com' });
    expect(email.statusCode).toBe(403);
    expect(email.json().error.details).toEqual([{ field: 'body.email', message: expect.any(String) }]);
    const mixed = await send('PATCH', url, admin, { role: 'viewer', username: 'Renamed By Admin' });
    expect(mixed.statusCode).toBe(403);
    expect((await me(employee)).role).toBe('employee');
    expect((await send('PATCH', url, admin, { nickname: 'x' })).statusCode).toBe(400);
  });

  it('PUT /v1/settings refuses an unknown key with 400', async () => {
    const response = await send('PUT', '/v1/settings', admin, { lowStockThreshold: 4, lowStockTreshold: 5 });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details).toEqual([
      { field: 'body.lowStockTreshold', message: expect.stringContaining('lowStockThreshold') },
    ]);
    const settings = await t.app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(admin) });
    expect(settings.json().data.lowStockThreshold).toBe(10);
  });

  it('PUT /v1/inventory/:id refuses derived and system fields (403) and leaves the item as it was', async () => {
    const item = await createItem(t.app, admin, { description: 'Fixed pears', remainingStock: 6 });
    for (const [field, value] of [
      ['status', 'out_of_stock'],
      ['lots', []],
      ['createdAt', '2020-01-01T00:00:00.000Z'],
    ] as const) {
      const response = await send('PUT', `/v1/inventory/${item.id}`, admin, {
        description: 'Changed',
        [field]: value,
      });
      expect(response.statusCode, field).toBe(403);
      expect(response.json().error.details, field).toEqual([
        { field: `body.${field}`, message: expect.any(String) },
      ]);
    }
    const after = await t.app.inject({
      method: 'GET',
      url: `/v1/inventory/${item.id}`,
      headers: bearer(admin),
    });
    expect(after.json().data).toMatchObject({ description: 'Fixed pears', remainingStock: 6 });
  });

  it('creates refuse fields the caller may not set: POST /v1/inventory with id, POST /v1/users with active', async () => {
    const item = await send('POST', '/v1/inventory', admin, {
      description: 'Chosen id',
      category: 'x',
      id: '00000000-0000-4000-8000-000000000001',
    });
    expect(item.statusCode).toBe(403);
    expect(item.json().error.message).toBe('You may not set id with this request');
    const member = await send('POST', '/v1/users', admin, {
      email: 'preactivated@example.com',
      username: 'Pre Activated',
      role: 'viewer',
      active: true,
    });
    expect(member.statusCode).toBe(403);
    expect(member.json().error.details).toEqual([{ field: 'body.active', message: expect.any(String) }]);
  });

  it('every PUT/PATCH operation in the document refuses a read-only field of its resource with 403', async () => {
    type Schema = Record<string, unknown>;
    const document = (await t.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    const names = (schema: Schema | undefined): string[] =>
      schema
        ? [
            ...Object.keys((schema.properties as object | undefined) ?? {}),
            ...((schema.allOf as Schema[] | undefined) ?? []).flatMap(names),
          ]
        : [];
    let checked = 0;
    for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Schema>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (method !== 'put' && method !== 'patch') continue;
        const body = (operation.requestBody as Schema | undefined)?.content as
          Record<string, Schema> | undefined;
        const bodySchema = body?.['application/json']?.schema as Schema | undefined;
        const success = (operation.responses as Record<string, Schema>)['200']?.content as Record<
          string,
          Schema
        >;
        const data = (
          (success?.['application/json']?.schema as Schema | undefined)?.properties as Schema | undefined
        )?.data as Schema | undefined;
        const readOnly = names(data).filter((name) => !names(bodySchema).includes(name));
        if (!bodySchema || readOnly.length === 0) continue;
        const url = path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
        const response = await send(method.toUpperCase() as 'PUT', url, admin, { [readOnly[0]!]: null });
        expect(response.statusCode, `${method} ${path} ${readOnly[0]}`).toBe(403);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });
});
