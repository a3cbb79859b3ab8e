import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError } from '../../config.ts';
import type { Logger } from '../../platform/logger.ts';

export const JWT_SECRET_MIN_LENGTH = 32;

/**
 * JWT_SECRET when given. In production on PostgreSQL it is required and must be long: every
 * instance must share it and nobody should run a store on a guessable key. Elsewhere, when unset,
 * a random key is generated once and kept in DATA_DIR/jwt-secret so sessions survive a restart.
 */
export function resolveJwtSecret(config: Config, logger: Logger): Uint8Array {
  const given = config.jwtSecret;
  const strict = config.nodeEnv === 'production' && Boolean(config.databaseUrl);
  if (given !== undefined) {
    if (given.length < JWT_SECRET_MIN_LENGTH) {
      if (strict) {
        throw new ConfigError(
          `Invalid configuration: JWT_SECRET must be at least ${JWT_SECRET_MIN_LENGTH} characters in production`,
        );
      }
      logger.warn(
        `JWT_SECRET is shorter than ${JWT_SECRET_MIN_LENGTH} characters; use a longer one in production`,
      );
    }
    return new TextEncoder().encode(given);
  }
  if (strict) {
    throw new ConfigError(
      `Invalid configuration: JWT_SECRET is required in production with DATABASE_URL (at least ${JWT_SECRET_MIN_LENGTH} random characters, e.g. from 'openssl rand -base64 48')`,
    );
  }
  const file = path.join(config.dataDir, 'jwt-secret');
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(48).toString('base64url'), { flag: 'wx', mode: 0o600 });
    logger.info({ file }, 'generated a JWT secret for this data directory');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return new TextEncoder().encode(fs.readFileSync(file, 'utf8').trim());
}
