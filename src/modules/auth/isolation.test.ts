import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { addMember, bearer, registerStore, type Session } from '../../../test/helpers/auth.ts';
import { withTenant } from '../../platform/db/tenant.ts';

/**
 * Tenant isolation, tested as an attacker would: a member of store B aims every id-taking route at
 * store A's rows, and a query that forgets its org_id filter is run to prove RLS still holds.
 */
let t: TestApp;
let storeA: Session;
let storeB: Session;
let memberOfA: Session;

beforeAll(async () => {
  t = await createTestApp();
  storeA = await registerStore(t.app, 'Store A');
  storeB = await registerStore(t.app, 'Store B');
  memberOfA = await addMember(t.app, t.testDatabase.database, storeA, 'employee');
});
afterAll(() => t.close());

describe('cross-organisation access through the API', () => {
  const idRoutes = [
    ['PATCH', '/v1/users/:id', { role: 'viewer' }],
    ['PATCH', '/v1/users/:id', { active: false }],
    ['DELETE', '/v1/users/:id', undefined],
  ] as const;

  it.each(idRoutes)(
    '%s %s with another store’s id answers 404 and changes nothing',
    async (method, route, payload) => {
      for (const id of [memberOfA.user.id, storeA.user.id]) {
        const response = await t.app.inject({
          method,
          url: route.replace(':id', id),
          headers: bearer(storeB),
          ...(payload ? { payload } : {}),
        });
        expect(response.statusCode).toBe(404);
        expect(response.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
        expect(response.body).not.toContain(memberOfA.user.email);
      }
      const untouched = await t.testDatabase.database.db
        .selectFrom('users')
        .select(['role', 'active'])
        .where('id', '=', memberOfA.user.id)
        .executeTakeFirstOrThrow();
      expect(untouched).toEqual({ role: 'employee', active: true });
    },
  );

  it('an unknown id answers the same 404 as another store’s id (no existence oracle)', async () => {
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: `/v1/users/${memberOfA.user.id}`,
      headers: bearer(storeB),
    });
    const missing = await t.app.inject({
      method: 'DELETE',
      url: '/v1/users/3f2b8c1e-8f0a-4b7e-9d51-2c1a7e6b9f00',
      headers: bearer(storeB),
    });
    expect(foreign.statusCode).toBe(missing.statusCode);
    expect(foreign.json().error).toEqual(missing.json().error);
  });

  it('lists, activity and settings show only the caller’s store', async () => {
    const members = await t.app.inject({
      method: 'GET',
      url: '/v1/users?limit=200',
      headers: bearer(storeB),
    });
    const ids = members.json().data.map((member: { id: string }) => member.id);
    expect(ids).toEqual([storeB.user.id]);
    const activity = await t.app.inject({
      method: 'GET',
      url: '/v1/users/activity?limit=200',
      headers: bearer(storeB),
    });
    const subjects = activity
      .json()
      .data.map((event: { subject: { id: string } | null }) => event.subject?.id);
    expect(subjects).not.toContain(memberOfA.user.id);
    expect(subjects).not.toContain(storeA.user.id);
  });
});

describe('row-level security backstop', () => {
  it('a query written without its org_id filter still returns only the current store’s rows', async () => {
    const { db } = t.testDatabase.database;
    const seen = await withTenant(db, storeB.user.organization.id, async (trx) => ({
      // Deliberately unfiltered: this is the mistake RLS exists to contain.
      users: await trx.selectFrom('users').select(['id', 'org_id']).execute(),
      organizations: await trx.selectFrom('organizations').select('id').execute(),
      audit: await trx.selectFrom('audit_events').select('org_id').execute(),
      refreshTokens: await trx.selectFrom('refresh_tokens').select('org_id').execute(),
      oneTimeTokens: await trx.selectFrom('one_time_tokens').select('org_id').execute(),
      mail: await trx.selectFrom('mail_outbox').select('org_id').execute(),
    }));
    const orgB = storeB.user.organization.id;
    expect(seen.users.map((row) => row.id)).toEqual([storeB.user.id]);
    expect(seen.organizations.map((row) => row.id)).toEqual([orgB]);
    for (const rows of [seen.audit, seen.refreshTokens, seen.oneTimeTokens, seen.mail]) {
      expect(rows.every((row) => row.org_id === orgB)).toBe(true);
    }
    expect(seen.audit.length).toBeGreaterThan(0);
    // Store A's rows exist: the owner role sees them.
    const all = await db.selectFrom('users').select('org_id').distinct().execute();
    expect(all.map((row) => row.org_id)).toContain(storeA.user.organization.id);
  });

  it('an unfiltered UPDATE touches only the current store’s rows', async () => {
    const { db } = t.testDatabase.database;
    const changed = await withTenant(db, storeB.user.organization.id, (trx) =>
      trx.updateTable('users').set({ updated_at: new Date() }).returning('id').execute(),
    );
    expect(changed.map((row) => row.id)).toEqual([storeB.user.id]);
  });

  it('refuses to write a row into another store', async () => {
    const { db } = t.testDatabase.database;
    await expect(
      withTenant(db, storeB.user.organization.id, (trx) =>
        trx
          .insertInto('audit_events')
          .values({ org_id: storeA.user.organization.id, action: 'login', details: '{}' })
          .execute(),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('sees nothing when no store is set, and runs as a role that is not the owner', async () => {
    const { db } = t.testDatabase.database;
    const result = await db.transaction().execute(async (trx) => {
      await sql`select set_config('role', 'fresh_choice_app', true)`.execute(trx);
      const users = await trx.selectFrom('users').select('id').execute();
      const role = await sql<{ current_user: string; owner: string }>`
        select current_user, tableowner as owner from pg_tables where tablename = 'users'`.execute(trx);
      return { users, role: role.rows[0] };
    });
    expect(result.users).toEqual([]);
    expect(result.role?.current_user).toBe('fresh_choice_app');
    expect(result.role?.owner).not.toBe('fresh_choice_app');
  });

  it('forces RLS, with a tenant policy, on every table that has an org_id (and organizations)', async () => {
    const rows = await sql<{
      relname: string;
      relrowsecurity: boolean;
      relforcerowsecurity: boolean;
      policies: number;
    }>`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity,
             (select count(*)::int from pg_policies p where p.tablename = c.relname and p.policyname = 'tenant_isolation') as policies
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r'
         and (c.relname = 'organizations' or exists (
           select 1 from information_schema.columns col
            where col.table_schema = 'public' and col.table_name = c.relname and col.column_name = 'org_id'))
    `.execute(t.testDatabase.database.db);
    // At least the tables of accounts and inventory, including the search vocabulary.
    expect(rows.rows.map((row) => row.relname)).toEqual(
      expect.arrayContaining([
        'organizations',
        'users',
        'inventory_items',
        'inventory_lots',
        'inventory_search_words',
      ]),
    );
    for (const row of rows.rows)
      expect(row, row.relname).toMatchObject({
        relrowsecurity: true,
        relforcerowsecurity: true,
        policies: 1,
      });
  });
});
