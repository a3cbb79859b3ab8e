import { sql } from 'kysely';
import type { OneTimeTokenPurpose, UserRole } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/tenant.ts';

/**
 * Queries of the sign-in flows. Most run before any organisation is known (login by e-mail,
 * refresh by token, reset by token), so they run as the owning role through the `system_access`
 * policies, and each one is narrowed by a unique key (e-mail, token hash, id).
 */

const AUTH_USER_COLUMNS = [
  'users.id',
  'users.org_id',
  'users.email',
  'users.username',
  'users.password_hash',
  'users.role',
  'users.active',
  'users.session_version',
  'organizations.name as org_name',
] as const;

export async function findUserByEmail(db: Executor, email: string) {
  return db
    .selectFrom('users')
    .innerJoin('organizations', 'organizations.id', 'users.org_id')
    .select(AUTH_USER_COLUMNS)
    .where('users.email', '=', email)
    .executeTakeFirst();
}

export async function findUserById(db: Executor, id: string) {
  return db
    .selectFrom('users')
    .innerJoin('organizations', 'organizations.id', 'users.org_id')
    .select(AUTH_USER_COLUMNS)
    .where('users.id', '=', id)
    .executeTakeFirst();
}

export type AuthUser = NonNullable<Awaited<ReturnType<typeof findUserById>>>;

export async function createOrganization(db: Executor, name: string) {
  return db.insertInto('organizations').values({ name }).returning(['id', 'name']).executeTakeFirstOrThrow();
}

export async function insertUser(
  db: Executor,
  user: { orgId: string; email: string; username: string; passwordHash: string | null; role: UserRole },
) {
  return db
    .insertInto('users')
    .values({
      org_id: user.orgId,
      email: user.email,
      username: user.username,
      password_hash: user.passwordHash,
      role: user.role,
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
}

export async function touchLastLogin(db: Executor, userId: string) {
  await db.updateTable('users').set({ last_login_at: new Date() }).where('id', '=', userId).execute();
}

export async function setPassword(db: Executor, userId: string, passwordHash: string, endSessions: boolean) {
  await db
    .updateTable('users')
    .set((eb) => ({
      password_hash: passwordHash,
      updated_at: new Date(),
      ...(endSessions ? { session_version: eb('session_version', '+', 1) } : {}),
    }))
    .where('id', '=', userId)
    .execute();
}

export async function insertRefreshToken(
  db: Executor,
  token: {
    orgId: string;
    userId: string;
    familyId: string;
    hash: string;
    rememberMe: boolean;
    expiresAt: Date;
  },
) {
  await db
    .insertInto('refresh_tokens')
    .values({
      org_id: token.orgId,
      user_id: token.userId,
      family_id: token.familyId,
      token_hash: token.hash,
      remember_me: token.rememberMe,
      expires_at: token.expiresAt,
    })
    .execute();
}

/**
 * Spends a refresh token: one UPDATE that succeeds only for a live, unused token, so two requests
 * racing with the same token cannot both rotate it.
 *
 * A family with any revoked token has ended, even if this token escaped the revocation: a
 * rotation racing a logout can insert its new token after the logout's UPDATE took its snapshot
 * of the family (the UPDATE waits for the rotation's row lock, then revokes only the rows it
 * saw), and that token must not carry the session on.
 */
export async function spendRefreshToken(db: Executor, hash: string) {
  return db
    .updateTable('refresh_tokens')
    .set({ used_at: new Date() })
    .where('token_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('refresh_tokens as ended')
            .select(sql`1`.as('one'))
            .whereRef('ended.family_id', '=', 'refresh_tokens.family_id')
            .where('ended.revoked_at', 'is not', null),
        ),
      ),
    )
    .returning(['id', 'org_id', 'user_id', 'family_id', 'remember_me'])
    .executeTakeFirst();
}

export async function findRefreshToken(db: Executor, hash: string) {
  return db
    .selectFrom('refresh_tokens')
    .select(['id', 'org_id', 'user_id', 'family_id', 'used_at', 'revoked_at', 'expires_at'])
    .where('token_hash', '=', hash)
    .executeTakeFirst();
}

export async function revokeFamily(db: Executor, familyId: string) {
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Revokes every refresh token of the user, except those of `keepFamilyId` when given. */
export async function revokeUserSessions(db: Executor, userId: string, keepFamilyId?: string) {
  let query = db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keepFamilyId) query = query.where('family_id', '!=', keepFamilyId);
  await query.execute();
}

export async function insertOneTimeToken(
  db: Executor,
  token: { orgId: string; userId: string; purpose: OneTimeTokenPurpose; hash: string; expiresAt: Date },
) {
  // A new link supersedes older unused ones of the same purpose.
  await db
    .updateTable('one_time_tokens')
    .set({ used_at: new Date() })
    .where('user_id', '=', token.userId)
    .where('purpose', '=', token.purpose)
    .where('used_at', 'is', null)
    .execute();
  await db
    .insertInto('one_time_tokens')
    .values({
      org_id: token.orgId,
      user_id: token.userId,
      purpose: token.purpose,
      token_hash: token.hash,
      expires_at: token.expiresAt,
    })
    .execute();
}

/** Spends a live one-time token in one statement (single use even under a race). */
export async function spendOneTimeToken(db: Executor, hash: string) {
  return db
    .updateTable('one_time_tokens')
    .set({ used_at: new Date() })
    .where('token_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returning(['user_id', 'org_id', 'purpose'])
    .executeTakeFirst();
}

/**
 * What decides whether a user's access tokens still count: the account's flag and session
 * version, and the sessions (refresh families) of the user revoked in the last `endedWithinSeconds`
 * (index refresh_tokens_ended_idx). A session revoked longer ago has no unexpired access token.
 */
export async function sessionState(db: Executor, userId: string, endedWithinSeconds: number) {
  return db
    .selectFrom('users')
    .select((eb) => [
      'users.active',
      'users.session_version',
      eb
        .selectFrom('refresh_tokens')
        .select(sql<string[]>`coalesce(array_agg(distinct family_id::text), '{}')`.as('ids'))
        .whereRef('refresh_tokens.user_id', '=', 'users.id')
        .where('refresh_tokens.revoked_at', 'is not', null)
        .where(
          'refresh_tokens.revoked_at',
          '>',
          sql<Date>`now() - make_interval(secs => ${endedWithinSeconds})`,
        )
        .as('ended_sessions'),
    ])
    .where('users.id', '=', userId)
    .executeTakeFirst();
}
