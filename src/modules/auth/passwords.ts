import { hash, verify } from '@node-rs/argon2';
import { errors } from '../../platform/http/errors.ts';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's baseline), run on
 * libuv's thread pool so hashing does not block the event loop.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash never authenticates
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spend the same time as a real check when there is no user (or no password) to check against,
 * so response time does not tell whether an e-mail is registered.
 */
export async function burnVerificationTime(password: string): Promise<void> {
  dummyHash ??= hash('fresh-choice-timing-equaliser');
  await verifyPassword(await dummyHash, password);
}

/** Length 8–128 (characters, not bytes) and not the account's own e-mail or username. */
export function assertPasswordAcceptable(
  password: string,
  identity: { email: string; username: string },
): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw errors.validation(`Password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long`, [
      { field: 'password', message: `must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long` },
    ]);
  }
  const lowered = password.trim().toLowerCase();
  if (lowered === identity.email.toLowerCase() || lowered === identity.username.trim().toLowerCase()) {
    throw errors.validation('Password must not be your e-mail address or username', [
      { field: 'password', message: 'must not equal the e-mail address or username' },
    ]);
  }
}
