import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import type { UserRole } from '../../platform/db/schema.ts';
import { errors } from '../../platform/http/errors.ts';
import type { Permission } from './permissions.ts';

export const TOKEN_ISSUER = 'fresh-choice';
export const TOKEN_AUDIENCE = 'fresh-choice-api';

/** The spec's JWTPayload plus the organisation, the session version and the session (family) id. */
export interface AccessClaims {
  sub: string;
  email: string;
  role: UserRole;
  permissions: Permission[];
  org: string;
  /** users.session_version when issued; a bump ends the session before the token expires. */
  sv: number;
  /** The refresh-token family this access token belongs to. */
  sid: string;
}

/** How many verified access tokens are remembered (a few MB at most). */
const VERIFIED_CACHE_SIZE = 10_000;

export class AccessTokens {
  readonly #key: Uint8Array;
  readonly ttlSeconds: number;
  /**
   * Tokens whose signature and claims already checked out, until they expire. A client sends the
   * same token on every request for 15 minutes, and the HMAC check through WebCrypto was 11% of
   * the API's CPU under list load. Keyed by the whole token string, so only those exact bytes
   * skip the check; revocation is unaffected (the guard checks the session on every request).
   */
  readonly #verified = new LRUCache<string, AccessClaims & { exp: number }>({ max: VERIFIED_CACHE_SIZE });

  constructor(secret: Uint8Array, ttlSeconds: number) {
    this.#key = secret;
    this.ttlSeconds = ttlSeconds;
  }

  sign(claims: AccessClaims): Promise<string> {
    const { sub, ...rest } = claims;
    return new SignJWT({ ...rest })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#key);
  }

  /** Only HS256 with our key, issuer and audience; `alg: none`, other algorithms and expiry → 401. */
  async verify(token: string): Promise<AccessClaims> {
    const known = this.#verified.get(token);
    if (known) {
      if (known.exp * 1000 > Date.now()) return known;
      this.#verified.delete(token);
      throw errors.unauthorized('Access token expired', 'TOKEN_EXPIRED');
    }
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      const claims = payload as unknown as AccessClaims;
      if (typeof claims.org !== 'string' || typeof claims.sv !== 'number' || typeof claims.sid !== 'string') {
        throw new Error('missing claims');
      }
      this.#verified.set(token, claims as AccessClaims & { exp: number });
      return claims;
    } catch (error) {
      const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw expired
        ? errors.unauthorized('Access token expired', 'TOKEN_EXPIRED')
        : errors.unauthorized('Invalid access token', 'INVALID_TOKEN');
    }
  }
}

/** Opaque secrets (refresh, reset, invitation): 256 random bits; only their SHA-256 is stored. */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOpaqueToken(token) };
}

export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
