import type { FastifyReply, FastifyRequest, FastifySchema, onRequestAsyncHookHandler } from 'fastify';
import type { UserRole } from '../../platform/db/schema.ts';
import { ErrorEnvelope } from '../../platform/http/envelope.ts';
import { errors } from '../../platform/http/errors.ts';
import { rateLimitNotes } from '../../platform/http/openapi.ts';
import type { RateLimitBucket, RateLimiter } from '../../platform/http/rate-limit.ts';
import { type Permission, permissionSetOf } from './permissions.ts';
import type { SessionStates } from './session-state.ts';
import type { AccessClaims, AccessTokens } from './tokens.ts';

export interface AuthContext {
  userId: string;
  orgId: string;
  email: string;
  role: UserRole;
  permissions: ReadonlySet<Permission>;
  /** The refresh-token family (session) the access token was issued in. */
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** The permission a route requires ('authenticated' = any signed-in member); see guard.ts. */
    permission?: Permission | 'authenticated';
    /** OpenAPI request body for routes that stream multipart themselves (no body validation). */
    multipartBody?: unknown;
  }
}

/** The authenticated caller; only valid on routes declared through `guard.protect`. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw errors.unauthorized();
  return request.auth;
}

const errorResponses = (statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, ErrorEnvelope]));

/** Error answers every route may give, documented once here. */
export const PUBLIC_ERRORS = [400, 429, 500];
const PROTECTED_ERRORS = [400, 401, 403, 429, 500];

export interface ProtectOptions {
  rateLimit?: RateLimitBucket;
  /** Extra documented error statuses for this route (e.g. 404, 409, 422). */
  errors?: number[];
}

export interface PublicRouteOptions {
  /** The buckets the handler counts the request against (guard.limit), for the OpenAPI document. */
  rateLimits?: RateLimitBucket[];
  /** Extra documented error statuses for this route (e.g. 401, 409). */
  errors?: number[];
}

export interface GuardOptions {
  /**
   * Check each request's session (account active, session version, session not ended). Only the
   * benchmark turns it off, to measure what the check costs; see BuildOptions.checkSessions.
   */
  checkSessions?: boolean;
}

export class Guard {
  readonly #tokens: AccessTokens;
  readonly #sessions: SessionStates;
  readonly #rateLimiter: RateLimiter;
  readonly #checkSessions: boolean;

  constructor(
    tokens: AccessTokens,
    sessions: SessionStates,
    rateLimiter: RateLimiter,
    options: GuardOptions = {},
  ) {
    this.#tokens = tokens;
    this.#sessions = sessions;
    this.#rateLimiter = rateLimiter;
    this.#checkSessions = options.checkSessions ?? true;
  }

  /**
   * Route options for a protected route: authenticate (JWT + live session), authorise the
   * permission, count the request against the caller's rate limit, and document all of that in
   * the OpenAPI schema (bearer security, the permission, the error answers).
   */
  protect<S extends FastifySchema>(
    permission: Permission | 'authenticated',
    schema: S,
    options: ProtectOptions = {},
  ) {
    const bucket = options.rateLimit ?? 'api';
    const check: onRequestAsyncHookHandler = async (request, reply) => {
      const auth = await this.authenticate(request);
      if (permission !== 'authenticated' && !auth.permissions.has(permission)) {
        throw errors.forbidden(`This needs the '${permission}' permission`);
      }
      await this.#rateLimiter.hit(bucket, `user:${auth.userId}`, reply);
    };
    const needs =
      permission === 'authenticated' ? 'any signed-in member' : `the \`${permission}\` permission`;
    return {
      config: { permission },
      onRequest: check,
      schema: {
        ...schema,
        security: [{ bearerAuth: [] }],
        'x-rate-limit': rateLimitNotes([bucket]),
        description: [schema.description, `**Requires** ${needs}. Rate limit bucket: \`${bucket}\`.`]
          .filter(Boolean)
          .join('\n\n'),
        response: {
          ...errorResponses([...PROTECTED_ERRORS, ...(options.errors ?? [])]),
          ...(schema.response as Record<number, unknown> | undefined),
        },
      } as S,
    };
  }

  /**
   * Route options for a public route. Its handler applies the limits (per IP, and per account once
   * the body names one) with `limit`; `rateLimits` names them for the document.
   */
  publicRoute<S extends FastifySchema>(schema: S, options: PublicRouteOptions = {}) {
    return {
      schema: {
        ...schema,
        ...(options.rateLimits?.length ? { 'x-rate-limit': rateLimitNotes(options.rateLimits) } : {}),
        response: {
          ...errorResponses([...PUBLIC_ERRORS, ...(options.errors ?? [])]),
          ...(schema.response as Record<number, unknown> | undefined),
        },
      } as S,
    };
  }

  async limit(bucket: RateLimitBucket, key: string, reply: FastifyReply): Promise<void> {
    await this.#rateLimiter.hit(bucket, key, reply);
  }

  async authenticate(request: FastifyRequest): Promise<AuthContext> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1])
      throw errors.unauthorized('Authentication required: send Authorization: Bearer <accessToken>');
    const { auth } = await this.verifyAccessToken(match[1]);
    request.auth = auth;
    return auth;
  }

  /**
   * The checks `authenticate` makes, for a token that did not come in an Authorization header (the
   * WebSocket's first message or subprotocol): signature and claims, then the live session. Throws
   * the same 401 AppErrors (`TOKEN_EXPIRED`, `INVALID_TOKEN`, `SESSION_REVOKED`).
   */
  async verifyAccessToken(token: string): Promise<VerifiedAccessToken> {
    const claims = await this.#tokens.verify(token);
    if (!(await this.sessionIsLive(claims))) {
      throw errors.unauthorized('This session has ended; sign in again', 'SESSION_REVOKED');
    }
    const auth: AuthContext = {
      userId: claims.sub,
      orgId: claims.org,
      email: claims.email,
      role: claims.role,
      permissions: permissionSetOf(claims.role),
      sessionId: claims.sid,
    };
    return { auth, claims, expiresAt: (claims as AccessClaims & { exp: number }).exp * 1000 };
  }

  /**
   * A valid signature is not enough: the session may have ended since the token was issued
   * (logout, reuse of a refresh token, a password change or reset, deactivation, a new role).
   */
  async sessionIsLive(claims: AccessClaims): Promise<boolean> {
    if (!this.#checkSessions) return true;
    const state = await this.#sessions.get(claims.sub);
    return Boolean(
      state?.active && state.sessionVersion === claims.sv && !state.endedSessions.includes(claims.sid),
    );
  }
}

export interface VerifiedAccessToken {
  auth: AuthContext;
  claims: AccessClaims;
  /** When the token expires (epoch milliseconds). */
  expiresAt: number;
}
