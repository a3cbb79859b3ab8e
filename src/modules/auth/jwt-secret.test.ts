import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/files.ts';
import { ConfigError, configWith } from '../../config.ts';
import { createLogger } from '../../platform/logger.ts';
import { resolveJwtSecret } from './jwt-secret.ts';

const logger = createLogger({ logLevel: 'silent' });
const production = { nodeEnv: 'production' as const, databaseUrl: 'postgres://app@db/fresh' };

describe('JWT secret', () => {
  it('stops start-up in production on PostgreSQL when missing', async () => {
    const config = configWith({ ...production, dataDir: await tempDir(), jwtSecret: undefined });
    expect(() => resolveJwtSecret(config, logger)).toThrow(ConfigError);
    expect(() => resolveJwtSecret(config, logger)).toThrow(/JWT_SECRET is required in production/);
  });

  it('stops start-up in production on PostgreSQL when shorter than 32 characters', async () => {
    const config = configWith({ ...production, dataDir: await tempDir(), jwtSecret: 'too-short' });
    expect(() => resolveJwtSecret(config, logger)).toThrow(/JWT_SECRET must be at least 32 characters/);
  });

  it('uses the given secret', async () => {
    const secret = 'x'.repeat(40);
    const config = configWith({ ...production, dataDir: await tempDir(), jwtSecret: secret });
    expect(new TextDecoder().decode(resolveJwtSecret(config, logger))).toBe(secret);
  });

  it('in embedded mode generates one secret, keeps it under DATA_DIR (0600) and reuses it', async () => {
    const dataDir = await tempDir();
    const config = configWith({ dataDir, jwtSecret: undefined, databaseUrl: undefined });
    const first = resolveJwtSecret(config, logger);
    const second = resolveJwtSecret(config, logger);
    expect(first.length).toBeGreaterThanOrEqual(48);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    const file = path.join(dataDir, 'jwt-secret');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const other = resolveJwtSecret(configWith({ dataDir: await tempDir(), jwtSecret: undefined }), logger);
    expect(Buffer.from(other).equals(Buffer.from(first))).toBe(false);
  });
});
