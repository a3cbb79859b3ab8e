import type { UserRole } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/**
 * Member queries. They run in the tenant transaction (app role, organisation set), and each also
 * filters by `org_id`: the filter states intent, row-level security guarantees it.
 */

const memberColumns = [
  'users.id',
  'users.org_id',
  'users.email',
  'users.username',
  'users.role',
  'users.active',
  'users.password_hash',
  'users.last_login_at',
  'users.created_at',
  'users.updated_at',
] as const;

export async function findMember(db: Executor, orgId: string, id: string) {
  return db
    .selectFrom('users')
    .select(memberColumns)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export type MemberRow = NonNullable<Awaited<ReturnType<typeof findMember>>>;

export async function listMembers(db: Executor, orgId: string, page: number, limit: number) {
  const [rows, total] = await Promise.all([
    db
      .selectFrom('users')
      .select(memberColumns)
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .offset((page - 1) * limit)
      .execute(),
    db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('org_id', '=', orgId)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.count) };
}

export async function updateMember(
  db: Executor,
  orgId: string,
  id: string,
  changes: { username?: string; role?: UserRole; active?: boolean; endSessions?: boolean },
): Promise<MemberRow | undefined> {
  const updated = await db
    .updateTable('users')
    .set((eb) => ({
      updated_at: new Date(),
      ...(changes.username === undefined ? {} : { username: changes.username }),
      ...(changes.role === undefined ? {} : { role: changes.role }),
      ...(changes.active === undefined ? {} : { active: changes.active }),
      ...(changes.endSessions ? { session_version: eb('session_version', '+', 1) } : {}),
    }))
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
  return updated ? findMember(db, orgId, id) : undefined;
}

/**
 * Locks the organisation's active admins (FOR UPDATE), so two concurrent demotions cannot both
 * see "another admin is left" and leave the store with none.
 */
export async function lockActiveAdmins(db: Executor, orgId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('org_id', '=', orgId)
    .where('role', '=', 'admin')
    .where('active', '=', true)
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map((row) => row.id);
}

export async function organizationName(db: Executor, orgId: string): Promise<string> {
  const row = await db
    .selectFrom('organizations')
    .select('name')
    .where('id', '=', orgId)
    .executeTakeFirstOrThrow();
  return row.name;
}
