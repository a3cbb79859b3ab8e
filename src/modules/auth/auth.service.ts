import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { DB } from '../../platform/db/schema.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import * as repo from './auth.repository.ts';
import type { AuthUser } from './auth.repository.ts';
import { assertPasswordAcceptable, burnVerificationTime, hashPassword, verifyPassword } from './passwords.ts';
import { type Permission, permissionsOf } from './permissions.ts';
import type { SessionStates } from './session-state.ts';
import { type AccessTokens, hashOpaqueToken, newOpaqueToken } from './tokens.ts';

export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface SessionUser {
  id: string;
  email: string;
  username: string;
  role: AuthUser['role'];
  permissions: Permission[];
  organization: { id: string; name: string };
}

export interface LoginResponse {
  user: SessionUser;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface AuthDeps {
  db: Kysely<DB>;
  tokens: AccessTokens;
  mailer: Mailer;
  sessions: SessionStates;
  config: Config;
  logger: Logger;
}

const invalidCredentials = () => errors.unauthorized('Invalid email or password', 'INVALID_CREDENTIALS');
const invalidRefresh = () => errors.unauthorized('Invalid or expired refresh token', 'INVALID_REFRESH_TOKEN');

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function sessionUser(user: AuthUser): SessionUser {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    role: user.role,
    permissions: permissionsOf(user.role),
    organization: { id: user.org_id, name: user.org_name },
  };
}

/** Registration, sign-in, token rotation and password recovery. */
export class AuthService {
  readonly #deps: AuthDeps;

  constructor(deps: AuthDeps) {
    this.#deps = deps;
  }

  async register(
    input: {
      email: string;
      username: string;
      password: string;
      companyName?: string | undefined;
      acceptTerms: boolean;
    },
    ip: string,
  ): Promise<LoginResponse> {
    if (input.acceptTerms !== true) {
      throw errors.validation('The terms must be accepted', [
        { field: 'acceptTerms', message: 'must be true' },
      ]);
    }
    const email = normaliseEmail(input.email);
    const username = input.username.trim();
    assertPasswordAcceptable(input.password, { email, username });
    const passwordHash = await hashPassword(input.password);
    const companyName = input.companyName?.trim() || `${username}'s store`;
    try {
      return await this.#deps.db.transaction().execute(async (trx) => {
        const org = await repo.createOrganization(trx, companyName);
        const { id } = await repo.insertUser(trx, {
          orgId: org.id,
          email,
          username,
          passwordHash,
          role: 'admin',
        });
        await recordAudit(trx, { orgId: org.id, action: 'registered', actorId: id, subjectUserId: id, ip });
        const user = (await repo.findUserById(trx, id))!;
        return this.#issueSession(trx, user, false);
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new AppError(409, 'EMAIL_TAKEN', 'An account with this email already exists');
      }
      throw error;
    }
  }

  async login(input: { email: string; password: string; rememberMe?: boolean | undefined }, ip: string) {
    const db = this.#deps.db;
    const user = await repo.findUserByEmail(db, normaliseEmail(input.email));
    if (!user?.password_hash) {
      await burnVerificationTime(input.password);
      if (user)
        await recordAudit(db, {
          orgId: user.org_id,
          action: 'login_failed',
          subjectUserId: user.id,
          ip,
          details: { reason: 'no_password' },
        });
      throw invalidCredentials();
    }
    const valid = await verifyPassword(user.password_hash, input.password);
    if (!valid || !user.active) {
      await recordAudit(db, {
        orgId: user.org_id,
        action: 'login_failed',
        subjectUserId: user.id,
        ip,
        details: { reason: valid ? 'inactive' : 'bad_password' },
      });
      throw invalidCredentials();
    }
    return db.transaction().execute(async (trx) => {
      await repo.touchLastLogin(trx, user.id);
      await recordAudit(trx, {
        orgId: user.org_id,
        action: 'login',
        actorId: user.id,
        subjectUserId: user.id,
        ip,
      });
      return this.#issueSession(trx, user, input.rememberMe === true);
    });
  }

  /**
   * Rotates a refresh token. Presenting one that was already spent means two parties hold it (a
   * thief and the owner): the whole family is revoked, so both must sign in again.
   */
  async refresh(refreshToken: string, ip: string): Promise<LoginResponse> {
    const hash = hashOpaqueToken(refreshToken);
    const outcome = await this.#deps.db.transaction().execute(async (trx) => {
      const spent = await repo.spendRefreshToken(trx, hash);
      if (!spent) return { kind: 'rejected' as const, known: await repo.findRefreshToken(trx, hash) };
      const user = await repo.findUserById(trx, spent.user_id);
      if (!user?.active) {
        await repo.revokeFamily(trx, spent.family_id);
        return { kind: 'inactive' as const };
      }
      return {
        kind: 'rotated' as const,
        response: await this.#issueSession(trx, user, spent.remember_me, spent.family_id),
      };
    });
    if (outcome.kind === 'rotated') return outcome.response;
    if (outcome.kind === 'rejected' && outcome.known?.used_at && !outcome.known.revoked_at) {
      const { known } = outcome;
      await this.#deps.db.transaction().execute(async (trx) => {
        await repo.revokeFamily(trx, known.family_id);
        await recordAudit(trx, {
          orgId: known.org_id,
          action: 'refresh_token_reused',
          subjectUserId: known.user_id,
          ip,
          details: { familyId: known.family_id },
        });
      });
      // The family's access tokens are refused from now on, on every instance.
      await this.#deps.sessions.invalidate(known.user_id);
      this.#deps.logger.warn(
        { userId: known.user_id, familyId: known.family_id },
        'refresh token reuse: family revoked',
      );
    }
    throw invalidRefresh();
  }

  /**
   * Ends the session the refresh token belongs to: its refresh tokens are revoked and its access
   * tokens refused from the next request on. Unknown tokens are accepted silently.
   */
  async logout(refreshToken: string, ip: string): Promise<void> {
    const db = this.#deps.db;
    const known = await repo.findRefreshToken(db, hashOpaqueToken(refreshToken));
    if (!known || known.revoked_at) return;
    await db.transaction().execute(async (trx) => {
      await repo.revokeFamily(trx, known.family_id);
      await recordAudit(trx, {
        orgId: known.org_id,
        action: 'logout',
        actorId: known.user_id,
        subjectUserId: known.user_id,
        ip,
      });
    });
    await this.#deps.sessions.invalidate(known.user_id);
  }

  /** Always succeeds from the caller's view: whether the address exists is not disclosed. */
  async forgotPassword(emailInput: string, ip: string): Promise<void> {
    const db = this.#deps.db;
    const user = await repo.findUserByEmail(db, normaliseEmail(emailInput));
    if (!user?.active) return;
    const { token, hash } = newOpaqueToken();
    await db.transaction().execute(async (trx) => {
      await repo.insertOneTimeToken(trx, {
        orgId: user.org_id,
        userId: user.id,
        purpose: 'password_reset',
        hash,
        expiresAt: new Date(Date.now() + RESET_TOKEN_TTL_MS),
      });
      await recordAudit(trx, {
        orgId: user.org_id,
        action: 'password_reset_requested',
        subjectUserId: user.id,
        ip,
      });
      // Queued in this transaction: the token exists if and only if its mail will go out.
      await this.#deps.mailer.send(
        {
          orgId: user.org_id,
          to: user.email,
          subject: 'Reset your Fresh Choice password',
          text: [
            `Hello ${user.username},`,
            '',
            'Someone (hopefully you) asked to reset your Fresh Choice password. The link works once, for one hour:',
            `${this.#deps.config.publicAppUrl}/reset-password?token=${token}`,
            '',
            `Reset token: ${token}`,
            '',
            'If you did not ask for this, ignore this message; your password stays as it is.',
          ].join('\n'),
        },
        trx,
      );
    });
  }

  /**
   * Redeems a reset or invitation token: sets the password and ends every session of the user.
   * The token is spent first, in the same transaction, so it works once even under a race, and a
   * rejected password rolls that back so the user can try again with the same link.
   */
  async resetPassword(input: { token: string; newPassword: string }, ip: string): Promise<void> {
    const db = this.#deps.db;
    const userId = await db.transaction().execute(async (trx) => {
      const spent = await repo.spendOneTimeToken(trx, hashOpaqueToken(input.token));
      if (!spent) throw new AppError(400, 'INVALID_TOKEN', 'This reset link is invalid, used or expired');
      const user = await repo.findUserById(trx, spent.user_id);
      if (!user?.active)
        throw new AppError(400, 'INVALID_TOKEN', 'This reset link is invalid, used or expired');
      assertPasswordAcceptable(input.newPassword, { email: user.email, username: user.username });
      await repo.setPassword(trx, user.id, await hashPassword(input.newPassword), true);
      await repo.revokeUserSessions(trx, user.id);
      await recordAudit(trx, {
        orgId: user.org_id,
        action: spent.purpose === 'invitation' ? 'invitation_accepted' : 'password_reset',
        actorId: user.id,
        subjectUserId: user.id,
        ip,
      });
      return user.id;
    });
    await this.#deps.sessions.invalidate(userId);
  }

  async #issueSession(
    trx: Kysely<DB>,
    user: AuthUser,
    rememberMe: boolean,
    familyId: string = randomUUID(),
  ): Promise<LoginResponse> {
    const { config, tokens } = this.#deps;
    const { token: refreshToken, hash } = newOpaqueToken();
    const days = rememberMe ? config.refreshTokenRememberDays : config.refreshTokenTtlDays;
    await repo.insertRefreshToken(trx, {
      orgId: user.org_id,
      userId: user.id,
      familyId,
      hash,
      rememberMe,
      expiresAt: new Date(Date.now() + days * 24 * 60 * 60 * 1000),
    });
    const session = sessionUser(user);
    const accessToken = await tokens.sign({
      sub: user.id,
      email: user.email,
      role: user.role,
      permissions: session.permissions,
      org: user.org_id,
      sv: user.session_version,
      sid: familyId,
    });
    return { user: session, accessToken, refreshToken, expiresIn: tokens.ttlSeconds };
  }
}
