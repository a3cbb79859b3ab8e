import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { insertPurchaseOrder } from '../../../test/helpers/vendors.ts';

let t: TestApp;
let admin: Session;
let manager: Session;
let employee: Session;
let viewer: Session;
let other: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerStore(t.app, 'Vendor Grocer');
  other = await registerStore(t.app, 'Other Grocer');
  manager = await addMember(t.app, t.testDatabase.database, admin, 'manager');
  employee = await addMember(t.app, t.testDatabase.database, admin, 'employee');
  viewer = await addMember(t.app, t.testDatabase.database, admin, 'viewer');
});
afterAll(async () => t?.close());

const db = () => t.testDatabase.database.db;

function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, session: Session, payload?: object) {
  return t.app.inject({ method, url, headers: bearer(session), ...(payload ? { payload } : {}) });
}

async function createVendor(session: Session, body: Record<string, unknown>) {
  const response = await call('POST', '/v1/vendors', session, body);
  if (response.statusCode !== 201) throw new Error(`create vendor: ${response.statusCode} ${response.body}`);
  return response.json().data as Record<string, unknown> & { id: string; name: string };
}

async function vendorCount(session: Session) {
  return (await call('GET', '/v1/vendors?limit=1', session)).json().meta.pagination.total as number;
}

async function eventsOf(orgId: string, vendorId: string) {
  const rows = await db()
    .selectFrom('outbox_events')
    .select(['type', 'payload'])
    .where('org_id', '=', orgId)
    .where('type', 'like', 'vendor:%')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.filter((row) => (row.payload as { vendorId?: string }).vendorId === vendorId);
}

describe('POST /v1/vendors', () => {
  it('creates a vendor: texts trimmed, phone as E.164, country upper case, vendor:created in the outbox', async () => {
    const response = await call('POST', '/v1/vendors', manager, {
      name: '  Sunrise Dairy  ',
      contactInfo: 'Orders by e-mail before 10:00',
      address: '12 Creamery Road',
      city: 'Madison',
      state: 'WI',
      zip: '53703-1234',
      country: 'us',
      phone: '(608) 555-0143',
      email: 'orders@sunrise-dairy.example',
      website: 'https://sunrise-dairy.example/wholesale',
      contactPerson: 'Ann Berg',
      paymentTerms: 'Net 30',
      taxId: '39-1234567',
      notes: 'Cold chain; dock 2',
      minimumOrderValue: 150.5,
    });
    expect(response.statusCode).toBe(201);
    const vendor = response.json().data;
    expect(vendor).toMatchObject({
      name: 'Sunrise Dairy',
      city: 'Madison',
      zip: '53703-1234',
      country: 'US',
      phone: '+16085550143',
      email: 'orders@sunrise-dairy.example',
      website: 'https://sunrise-dairy.example/wholesale',
      minimumOrderValue: 150.5,
      status: 'active',
      lastOrderDate: null,
      deactivatedAt: null,
    });
    expect(vendor.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(await eventsOf(admin.user.organization.id, vendor.id)).toEqual([
      { type: 'vendor:created', payload: { vendorId: vendor.id, name: 'Sunrise Dairy' } },
    ]);

    const fetched = await call('GET', `/v1/vendors/${vendor.id}`, viewer);
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json().data).toEqual(vendor);
  });

  it('needs only a name; an international phone needs no country; blank texts are stored as null', async () => {
    const vendor = await createVendor(admin, {
      name: 'Harbour Fish',
      phone: '+44 20 7946 0958',
      city: '   ',
      notes: '',
    });
    expect(vendor).toMatchObject({ phone: '+442079460958', country: null, city: null, notes: null });
    expect(vendor.minimumOrderValue).toBeNull();
  });

  it.each([
    ['email', { email: 'not-an-address' }, 'body.email'],
    ['phone that is no number', { phone: '12', country: 'US' }, 'body.phone'],
    ['national phone without a country', { phone: '608 555 0143' }, 'body.phone'],
    ['phone of letters', { phone: 'call us maybe', country: 'GB' }, 'body.phone'],
    ['website without http(s)', { website: 'ftp://files.example.com' }, 'body.website'],
    ['website that is no URL', { website: 'sunrise dairy' }, 'body.website'],
    ['javascript website', { website: 'javascript:alert(1)' }, 'body.website'],
    ['zip with other characters', { zip: '537#03' }, 'body.zip'],
    ['zip too long', { zip: '1'.repeat(21) }, 'body.zip'],
    ['country that is no code', { country: 'USA' }, 'body.country'],
    ['country not assigned', { country: 'ZZ' }, 'body.country'],
    ['city too long', { city: 'x'.repeat(101) }, 'body.city'],
    ['notes too long', { notes: 'x'.repeat(5001) }, 'body.notes'],
    ['contact info too long', { contactInfo: 'x'.repeat(1001) }, 'body.contactInfo'],
    ['tax id too long', { taxId: 'x'.repeat(51) }, 'body.taxId'],
    ['NUL in a text', { contactPerson: 'Ann\u0000Berg' }, 'body.contactPerson'],
    ['negative minimum order', { minimumOrderValue: -1 }, 'body.minimumOrderValue'],
    ['fractions of a cent', { minimumOrderValue: 10.005 }, 'body.minimumOrderValue'],
  ])('refuses %s with a 400 naming the field, and creates nothing', async (_label, fields, field) => {
    const before = await vendorCount(admin);
    const response = await call('POST', '/v1/vendors', admin, { name: 'Invalid Vendor', ...fields });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('VALIDATION_ERROR');
    expect(response.json().error.details.map((detail: { field: string }) => detail.field)).toContain(field);
    expect(await vendorCount(admin)).toBe(before);
  });

  it('refuses fields a vendor is not created with (status, lastOrderDate): 403 naming them', async () => {
    const response = await call('POST', '/v1/vendors', admin, { name: 'Born Inactive', status: 'inactive' });
    expect(response.statusCode).toBe(403);
    expect(JSON.stringify(response.json().error)).toContain('status');
    const computed = await call('POST', '/v1/vendors', admin, {
      name: 'Backdated',
      lastOrderDate: '2020-01-01',
    });
    expect(computed.statusCode).toBe(403);
    expect(JSON.stringify(computed.json().error)).toContain('lastOrderDate');
  });

  it('refuses a missing, blank or overlong name, naming it', async () => {
    for (const name of [undefined, '   ', 'n'.repeat(201)]) {
      const response = await call('POST', '/v1/vendors', admin, name === undefined ? {} : { name });
      expect(response.statusCode, String(name)).toBe(400);
      expect(response.json().error.details).toContainEqual(expect.objectContaining({ field: 'body.name' }));
    }
  });

  it('creates one of several vendors of one name sent at once; the others get 409 DUPLICATE_VENDOR', async () => {
    const responses = await Promise.all(
      ['Racing Greens', 'racing greens', ' RACING GREENS', 'Racing Greens ', 'Racing Greens'].map((name) =>
        call('POST', '/v1/vendors', admin, { name }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      expect(response.json().error.code).toBe('DUPLICATE_VENDOR');
    }
    const list = await call('GET', '/v1/vendors?search=racing%20greens&limit=100', admin);
    expect(list.json().data.vendors).toHaveLength(1);
  });

  it('refuses a name the store already has, in another case and spacing: 409 DUPLICATE_VENDOR', async () => {
    await createVendor(admin, { name: 'Green Valley Produce' });
    const response = await call('POST', '/v1/vendors', admin, { name: '  green VALLEY produce ' });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('DUPLICATE_VENDOR');
    // Another store may have a vendor of that name.
    expect((await call('POST', '/v1/vendors', other, { name: 'Green Valley Produce' })).statusCode).toBe(201);
  });
});

describe('PUT and DELETE /v1/vendors/:id', () => {
  it('updates only the fields sent; null clears one; a national phone is read for the stored country', async () => {
    const vendor = await createVendor(admin, {
      name: 'Maple Bakery',
      country: 'CA',
      city: 'Toronto',
      notes: 'Bread daily',
      minimumOrderValue: 50,
    });
    const response = await call('PUT', `/v1/vendors/${vendor.id}`, admin, {
      phone: '416-555-0199',
      notes: null,
      minimumOrderValue: null,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().data).toMatchObject({
      name: 'Maple Bakery',
      city: 'Toronto',
      country: 'CA',
      phone: '+14165550199',
      notes: null,
      minimumOrderValue: null,
    });
    const events = await eventsOf(admin.user.organization.id, vendor.id);
    expect(events.map((event) => event.type)).toEqual(['vendor:created', 'vendor:updated']);
    expect(events[1]!.payload).toEqual({ vendorId: vendor.id, name: 'Maple Bakery' });

    // The same values again change nothing and write no event.
    const again = await call('PUT', `/v1/vendors/${vendor.id}`, admin, { city: 'Toronto' });
    expect(again.json().data.updatedAt).toBe(response.json().data.updatedAt);
    expect(await eventsOf(admin.user.organization.id, vendor.id)).toHaveLength(2);
  });

  it('renames, also to another case of its own name, but not onto another vendor’s name (409)', async () => {
    const first = await createVendor(admin, { name: 'Orchard Co' });
    await createVendor(admin, { name: 'Hill Farm' });
    const recased = await call('PUT', `/v1/vendors/${first.id}`, admin, { name: 'ORCHARD CO' });
    expect(recased.statusCode).toBe(200);
    expect(recased.json().data.name).toBe('ORCHARD CO');
    const clash = await call('PUT', `/v1/vendors/${first.id}`, admin, { name: ' hill farm' });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error.code).toBe('DUPLICATE_VENDOR');
    expect((await call('GET', `/v1/vendors/${first.id}`, admin)).json().data.name).toBe('ORCHARD CO');
  });

  it('refuses bad values on update, naming the field (status, phone, website, empty body)', async () => {
    const vendor = await createVendor(admin, { name: 'Update Checks Ltd' });
    for (const [body, field] of [
      [{ status: 'deleted' }, 'body.status'],
      [{ phone: '555' }, 'body.phone'],
      [{ website: 'www.example.com' }, 'body.website'],
      [{ email: 'a@' }, 'body.email'],
      [{ name: '' }, 'body.name'],
    ] as const) {
      const response = await call('PUT', `/v1/vendors/${vendor.id}`, admin, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.details).toContainEqual(expect.objectContaining({ field }));
    }
    expect((await call('PUT', `/v1/vendors/${vendor.id}`, admin, {})).statusCode).toBe(400);
  });

  it('DELETE deactivates: the row stays, GET still answers it, and PUT status active reactivates it', async () => {
    const vendor = await createVendor(admin, { name: 'Seasonal Berries' });
    const removed = await call('DELETE', `/v1/vendors/${vendor.id}`, manager);
    expect(removed.statusCode).toBe(200);
    expect(removed.json().data).toMatchObject({ id: vendor.id, status: 'inactive' });
    expect(removed.json().data.deactivatedAt).toMatch(/T/);

    const fetched = await call('GET', `/v1/vendors/${vendor.id}`, viewer);
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json().data).toMatchObject({ name: 'Seasonal Berries', status: 'inactive' });
    const row = await db()
      .selectFrom('vendors')
      .select(['status'])
      .where('id', '=', vendor.id)
      .executeTakeFirst();
    expect(row).toEqual({ status: 'inactive' });

    // A second DELETE changes nothing.
    const twice = await call('DELETE', `/v1/vendors/${vendor.id}`, manager);
    expect(twice.json().data.deactivatedAt).toBe(removed.json().data.deactivatedAt);

    const inactive = await call('GET', '/v1/vendors?status=inactive&limit=100', admin);
    expect(inactive.json().data.vendors.map((v: { id: string }) => v.id)).toContain(vendor.id);
    const active = await call('GET', '/v1/vendors?status=active&limit=100', admin);
    expect(active.json().data.vendors.map((v: { id: string }) => v.id)).not.toContain(vendor.id);

    const reactivated = await call('PUT', `/v1/vendors/${vendor.id}`, manager, { status: 'active' });
    expect(reactivated.statusCode).toBe(200);
    expect(reactivated.json().data).toMatchObject({ status: 'active', deactivatedAt: null });
    expect((await eventsOf(admin.user.organization.id, vendor.id)).map((event) => event.type)).toEqual([
      'vendor:created',
      'vendor:deactivated',
      'vendor:updated',
    ]);

    // PUT status inactive deactivates too.
    const viaPut = await call('PUT', `/v1/vendors/${vendor.id}`, manager, { status: 'inactive' });
    expect(viaPut.json().data.status).toBe('inactive');
    expect(viaPut.json().data.deactivatedAt).toMatch(/T/);
  });

  it('answers 404 for an unknown id and for another store’s vendor, changing nothing', async () => {
    const theirs = await createVendor(other, { name: 'Their Vendor' });
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const id of [unknown, theirs.id]) {
      expect((await call('GET', `/v1/vendors/${id}`, admin)).statusCode).toBe(404);
      expect((await call('PUT', `/v1/vendors/${id}`, admin, { name: 'Taken Over' })).statusCode).toBe(404);
      expect((await call('DELETE', `/v1/vendors/${id}`, admin)).statusCode).toBe(404);
    }
    const fetched = await call('GET', `/v1/vendors/${theirs.id}`, other);
    expect(fetched.json().data).toMatchObject({ name: 'Their Vendor', status: 'active' });
    const list = await call('GET', '/v1/vendors?limit=100', admin);
    expect(list.json().data.vendors.map((v: { id: string }) => v.id)).not.toContain(theirs.id);
  });
});

describe('permissions', () => {
  it('lets employees and viewers read but not write (403); managers write', async () => {
    const vendor = await createVendor(manager, { name: 'Permission Foods' });
    for (const session of [employee, viewer]) {
      expect((await call('GET', '/v1/vendors', session)).statusCode).toBe(200);
      expect((await call('GET', `/v1/vendors/${vendor.id}`, session)).statusCode).toBe(200);
      const create = await call('POST', '/v1/vendors', session, { name: 'Not Allowed' });
      expect(create.statusCode).toBe(403);
      expect(create.json().error.message).toContain('vendor:manage');
      expect((await call('PUT', `/v1/vendors/${vendor.id}`, session, { notes: 'x' })).statusCode).toBe(403);
      expect((await call('DELETE', `/v1/vendors/${vendor.id}`, session)).statusCode).toBe(403);
    }
    expect((await call('GET', `/v1/vendors/${vendor.id}`, admin)).json().data).toMatchObject({
      status: 'active',
      notes: null,
    });
    expect((await t.app.inject({ method: 'GET', url: '/v1/vendors' })).statusCode).toBe(401);
  });
});

describe('GET /v1/vendors: search, sorting, pages', () => {
  let store: Session;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    store = await registerStore(t.app, 'Search Grocer');
    for (const [name, extra] of [
      ['Fresh Farms', { contactPerson: 'Jane Doe', city: 'Springfield' }],
      ['Green Valley Produce', { email: 'sales@greenvalley.example' }],
      ['Atlantic Seafood', { city: 'Portland' }],
      ['Daily Bread Co', { contactPerson: 'Tom Baker' }],
      ['Zest Citrus', {}],
    ] as const) {
      ids[name] = (await createVendor(store, { name, ...extra })).id;
    }
  });

  const names = async (query: string) => {
    const response = await call('GET', `/v1/vendors?${query}`, store);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().data.vendors.map((vendor: { name: string }) => vendor.name) as string[];
  };

  it('finds a vendor by a misspelt name, best match first', async () => {
    const found = await names('search=frsh%20farm');
    expect(found[0]).toBe('Fresh Farms');
    expect(found).not.toContain('Zest Citrus');
  });

  it('finds by part of a word, by contact person, e-mail and city, in any case', async () => {
    expect(await names('search=VALLEY')).toEqual(['Green Valley Produce']);
    expect(await names('search=greenvalley.example')).toEqual(['Green Valley Produce']);
    expect(await names('search=portland')).toEqual(['Atlantic Seafood']);
    expect(await names('search=tom%20baker')).toEqual(['Daily Bread Co']);
    expect(await names('search=%25')).toEqual([]);
  });

  it('sorts by name, created_at, and each direction', async () => {
    const all = ['Atlantic Seafood', 'Daily Bread Co', 'Fresh Farms', 'Green Valley Produce', 'Zest Citrus'];
    expect(await names('')).toEqual(all);
    expect(await names('sortBy=name&sortOrder=desc')).toEqual([...all].reverse());
    const created = [
      'Fresh Farms',
      'Green Valley Produce',
      'Atlantic Seafood',
      'Daily Bread Co',
      'Zest Citrus',
    ];
    expect(await names('sortBy=created_at&sortOrder=asc')).toEqual(created);
    expect(await names('sortBy=created_at')).toEqual([...created].reverse());
  });

  it('sorts by last order (placed orders only), vendors never ordered from last both ways', async () => {
    const orgId = store.user.organization.id;
    await insertPurchaseOrder(db(), orgId, ids['Zest Citrus']!, { orderDate: '2026-03-01', status: 'sent' });
    await insertPurchaseOrder(db(), orgId, ids['Atlantic Seafood']!, {
      orderDate: '2026-01-15',
      status: 'received',
    });
    await insertPurchaseOrder(db(), orgId, ids['Daily Bread Co']!, {
      orderDate: '2026-02-10',
      status: 'partially_received',
    });
    // Drafts and cancelled orders were never placed: they give no last order date.
    await insertPurchaseOrder(db(), orgId, ids['Fresh Farms']!, { orderDate: '2026-04-01', status: 'draft' });
    await insertPurchaseOrder(db(), orgId, ids['Fresh Farms']!, {
      orderDate: '2026-04-02',
      status: 'cancelled',
    });

    expect(await names('sortBy=last_order')).toEqual([
      'Zest Citrus',
      'Daily Bread Co',
      'Atlantic Seafood',
      'Fresh Farms',
      'Green Valley Produce',
    ]);
    expect(await names('sortBy=last_order&sortOrder=asc')).toEqual([
      'Atlantic Seafood',
      'Daily Bread Co',
      'Zest Citrus',
      'Fresh Farms',
      'Green Valley Produce',
    ]);
    const zest = await call('GET', `/v1/vendors/${ids['Zest Citrus']}`, store);
    expect(zest.json().data.lastOrderDate).toBe('2026-03-01');
    const fresh = await call('GET', `/v1/vendors/${ids['Fresh Farms']}`, store);
    expect(fresh.json().data.lastOrderDate).toBeNull();
  });

  it('pages with meta.pagination', async () => {
    const first = await call('GET', '/v1/vendors?limit=2&page=1', store);
    expect(first.json().meta.pagination).toEqual({ page: 1, limit: 2, total: 5, totalPages: 3 });
    const third = await call('GET', '/v1/vendors?limit=2&page=3', store);
    expect(third.json().data.vendors.map((v: { name: string }) => v.name)).toEqual(['Zest Citrus']);
  });

  it('refuses bad query values, naming them', async () => {
    for (const [query, field] of [
      ['status=archived', 'querystring.status'],
      ['sortBy=price', 'querystring.sortBy'],
      ['limit=101', 'querystring.limit'],
      ['page=0', 'querystring.page'],
      ['sortOrder=up', 'querystring.sortOrder'],
    ]) {
      const response = await call('GET', `/v1/vendors?${query}`, store);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.details).toContainEqual(expect.objectContaining({ field }));
    }
  });
});
