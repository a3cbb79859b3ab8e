import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../config.ts';
import type { DB, UserRole } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { paginate } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';
import { type ActivityQuery, listActivity, recordAudit } from '../audit/audit.repository.ts';
import * as authRepo from '../auth/auth.repository.ts';
import { INVITATION_TTL_MS, normaliseEmail } from '../auth/auth.service.ts';
import type { AuthContext } from '../auth/guard.ts';
import { assertPasswordAcceptable, hashPassword, verifyPassword } from '../auth/passwords.ts';
import { permissionsOf } from '../auth/permissions.ts';
import type { SessionStates } from '../auth/session-state.ts';
import { newOpaqueToken } from '../auth/tokens.ts';
import * as repo from './users.repository.ts';
import type { MemberRow } from './users.repository.ts';

export interface Member {
  id: string;
  email: string;
  username: string;
  role: UserRole;
  permissions: string[];
  active: boolean;
  /** false until an invited member has set a password. */
  passwordSet: boolean;
  lastLoginAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toMember(row: MemberRow): Member {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    role: row.role,
    permissions: permissionsOf(row.role),
    active: row.active,
    passwordSet: row.password_hash !== null,
    lastLoginAt: row.last_login_at ? new Date(row.last_login_at).toISOString() : null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export interface UsersDeps {
  db: Kysely<DB>;
  mailer: Mailer;
  sessions: SessionStates;
  config: Config;
}

const lastAdmin = () =>
  new AppError(
    409,
    'LAST_ADMIN',
    'A store must keep at least one active admin; promote another member first',
  );

/** The signed-in member's own profile, and an admin's management of the store's members. */
export class UsersService {
  readonly #deps: UsersDeps;

  constructor(deps: UsersDeps) {
    this.#deps = deps;
  }

  async me(auth: AuthContext) {
    return withTenant(this.#deps.db, auth.orgId, (trx) => this.#profile(trx, auth));
  }

  async #profile(trx: Transaction<DB>, auth: AuthContext) {
    const row = await repo.findMember(trx, auth.orgId, auth.userId);
    if (!row) throw errors.notFound('User');
    return {
      ...toMember(row),
      organization: { id: auth.orgId, name: await repo.organizationName(trx, auth.orgId) },
    };
  }

  /**
   * Username and/or password. A password change needs the current password, and ends every other
   * session of the user at once (refresh tokens revoked, access tokens refused); this one goes on.
   */
  async updateMe(
    auth: AuthContext,
    input: {
      username?: string | undefined;
      currentPassword?: string | undefined;
      newPassword?: string | undefined;
    },
    ip: string,
  ) {
    if (input.newPassword !== undefined && input.currentPassword === undefined) {
      throw errors.validation('The current password is needed to set a new one', [
        { field: 'currentPassword', message: 'is required with newPassword' },
      ]);
    }
    // The answer is read in the same transaction as the change: one transaction, not two.
    const profile = await withTenant(this.#deps.db, auth.orgId, async (trx) => {
      const row = await repo.findMember(trx, auth.orgId, auth.userId);
      if (!row) throw errors.notFound('User');
      const username = input.username?.trim();
      if (username !== undefined) await repo.updateMember(trx, auth.orgId, auth.userId, { username });
      if (input.newPassword !== undefined) {
        const current = input.currentPassword ?? '';
        if (!row.password_hash || !(await verifyPassword(row.password_hash, current))) {
          throw new AppError(400, 'INVALID_CURRENT_PASSWORD', 'The current password is not correct');
        }
        assertPasswordAcceptable(input.newPassword, { email: row.email, username: username ?? row.username });
        await authRepo.setPassword(trx, auth.userId, await hashPassword(input.newPassword), false);
        await authRepo.revokeUserSessions(trx, auth.userId, auth.sessionId);
        await recordAudit(trx, {
          orgId: auth.orgId,
          action: 'password_changed',
          actorId: auth.userId,
          subjectUserId: auth.userId,
          ip,
        });
      }
      return this.#profile(trx, auth);
    });
    // The other sessions' access tokens are refused from now on (their families are ended).
    if (input.newPassword !== undefined) await this.#deps.sessions.invalidate(auth.userId);
    return profile;
  }

  async list(auth: AuthContext, page: number, limit: number) {
    return withTenant(this.#deps.db, auth.orgId, async (trx) => {
      const { rows, total } = await repo.listMembers(trx, auth.orgId, page, limit);
      return { members: rows.map(toMember), pagination: paginate(page, limit, total) };
    });
  }

  /** Adds a member without a password and e-mails them a single-use link to set one (7 days). */
  async invite(auth: AuthContext, input: { email: string; username: string; role: UserRole }, ip: string) {
    const email = normaliseEmail(input.email);
    const { token, hash } = newOpaqueToken();
    let member: Member;
    try {
      member = await withTenant(this.#deps.db, auth.orgId, async (trx) => {
        const { id } = await authRepo.insertUser(trx, {
          orgId: auth.orgId,
          email,
          username: input.username.trim(),
          passwordHash: null,
          role: input.role,
        });
        await authRepo.insertOneTimeToken(trx, {
          orgId: auth.orgId,
          userId: id,
          purpose: 'invitation',
          hash,
          expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
        });
        await recordAudit(trx, {
          orgId: auth.orgId,
          action: 'user_invited',
          actorId: auth.userId,
          subjectUserId: id,
          ip,
          details: { role: input.role },
        });
        // Queued in this transaction: the invitation exists if and only if its mail will go out.
        await this.#deps.mailer.send(
          {
            orgId: auth.orgId,
            to: email,
            subject: 'You have been invited to Fresh Choice',
            text: [
              `Hello ${input.username.trim()},`,
              '',
              `${auth.email} added you to their store on Fresh Choice as ${input.role}. Set your password here (the link works once, for 7 days):`,
              `${this.#deps.config.publicAppUrl}/reset-password?token=${token}`,
              '',
              `Invitation token: ${token}`,
            ].join('\n'),
          },
          trx,
        );
        return toMember((await repo.findMember(trx, auth.orgId, id))!);
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new AppError(409, 'EMAIL_TAKEN', 'An account with this email already exists');
      }
      throw error;
    }
    return member;
  }

  /**
   * Role and active flag. Changing either ends the member's current sessions at once (their
   * tokens carry the old role); deactivating also revokes their refresh tokens. The last active
   * admin can be neither demoted nor deactivated.
   */
  async update(
    auth: AuthContext,
    id: string,
    changes: { role?: UserRole | undefined; active?: boolean | undefined },
    ip: string,
  ) {
    const member = await withTenant(this.#deps.db, auth.orgId, async (trx) => {
      const admins = await repo.lockActiveAdmins(trx, auth.orgId);
      const row = await repo.findMember(trx, auth.orgId, id);
      if (!row) throw errors.notFound('User');
      const roleChanges = changes.role !== undefined && changes.role !== row.role;
      const activeChanges = changes.active !== undefined && changes.active !== row.active;
      if (!roleChanges && !activeChanges) return toMember(row);

      const staysAdmin = (changes.role ?? row.role) === 'admin' && (changes.active ?? row.active);
      if (admins.includes(id) && !staysAdmin && admins.length === 1) throw lastAdmin();

      const updated = await repo.updateMember(trx, auth.orgId, id, {
        ...(roleChanges ? { role: changes.role } : {}),
        ...(activeChanges ? { active: changes.active } : {}),
        endSessions: true,
      });
      if (activeChanges && changes.active === false) await authRepo.revokeUserSessions(trx, id);
      if (roleChanges) {
        await recordAudit(trx, {
          orgId: auth.orgId,
          action: 'role_changed',
          actorId: auth.userId,
          subjectUserId: id,
          ip,
          details: { from: row.role, to: changes.role },
        });
      }
      if (activeChanges) {
        await recordAudit(trx, {
          orgId: auth.orgId,
          action: changes.active ? 'user_reactivated' : 'user_deactivated',
          actorId: auth.userId,
          subjectUserId: id,
          ip,
        });
      }
      return toMember(updated!);
    });
    await this.#deps.sessions.invalidate(id);
    return member;
  }

  async deactivate(auth: AuthContext, id: string, ip: string): Promise<void> {
    await this.update(auth, id, { active: false }, ip);
  }

  async activity(auth: AuthContext, query: ActivityQuery) {
    return withTenant(this.#deps.db, auth.orgId, async (trx) => {
      const { rows, total } = await listActivity(trx, auth.orgId, query);
      return {
        events: rows.map((row) => ({
          id: row.id,
          action: row.action,
          actor: row.actor_id ? { id: row.actor_id, email: row.actor_email } : null,
          subject: row.subject_user_id ? { id: row.subject_user_id, email: row.subject_email } : null,
          details: row.details,
          ip: row.ip,
          createdAt: new Date(row.created_at).toISOString(),
        })),
        pagination: paginate(query.page, query.limit, total),
      };
    });
  }
}
