import fs from 'node:fs';
import path from 'node:path';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/files.ts';
import { ConfigError, configWith, loadConfig } from '../../config.ts';
import { createLogger } from '../../platform/logger.ts';
import { DEFAULT_VAPID_SUBJECT, resolveVapidKeys } from './vapid.ts';

const logger = createLogger({ logLevel: 'silent' });
const production = { nodeEnv: 'production' as const, databaseUrl: 'postgres://app@db/fresh' };

describe('VAPID keys', () => {
  it('stop start-up in production on PostgreSQL when missing', async () => {
    const config = configWith({ ...production, dataDir: await tempDir() });
    expect(() => resolveVapidKeys(config, logger)).toThrow(ConfigError);
    expect(() => resolveVapidKeys(config, logger)).toThrow(
      /VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT are required/,
    );
    const keys = webpush.generateVAPIDKeys();
    // The pair without a contact is not enough either.
    const noSubject = configWith({
      ...production,
      dataDir: await tempDir(),
      vapidPublicKey: keys.publicKey,
      vapidPrivateKey: keys.privateKey,
    });
    expect(() => resolveVapidKeys(noSubject, logger)).toThrow(ConfigError);
  });

  it('uses the configured pair and contact, and refuses a public key that is not the private key’s', async () => {
    const keys = webpush.generateVAPIDKeys();
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://app@db/fresh',
      VAPID_PUBLIC_KEY: keys.publicKey,
      VAPID_PRIVATE_KEY: keys.privateKey,
      VAPID_SUBJECT: 'mailto:ops@shop.example',
    });
    expect(resolveVapidKeys(config, logger)).toEqual({ ...keys, subject: 'mailto:ops@shop.example' });
    const other = webpush.generateVAPIDKeys();
    const mismatched = configWith({ ...config, vapidPublicKey: other.publicKey });
    expect(() => resolveVapidKeys(mismatched, logger)).toThrow(/not the public key of VAPID_PRIVATE_KEY/);
  });

  it('are checked by the configuration: shape, contact, and both or neither', () => {
    const keys = webpush.generateVAPIDKeys();
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: keys.publicKey })).toThrow(/set together or not at all/);
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: 'abc', VAPID_PRIVATE_KEY: keys.privateKey })).toThrow(
      /VAPID_PUBLIC_KEY must be/,
    );
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.publicKey })).toThrow(
      /VAPID_PRIVATE_KEY must be/,
    );
    expect(() => loadConfig({ VAPID_SUBJECT: 'ops@shop.example' })).toThrow(/VAPID_SUBJECT must be/);
    expect(() => loadConfig({ PUSH_ENDPOINT_HOSTS: 'https://fcm.googleapis.com' })).toThrow(
      /PUSH_ENDPOINT_HOSTS/,
    );
    expect(loadConfig({}).pushEndpointHosts).toContain('*.googleapis.com');
  });

  it('elsewhere are generated once, kept under DATA_DIR (0600) and reused', async () => {
    const dataDir = await tempDir();
    const config = configWith({ dataDir });
    const first = resolveVapidKeys(config, logger);
    expect(first.subject).toBe(DEFAULT_VAPID_SUBJECT);
    expect(Buffer.from(first.publicKey, 'base64url')).toHaveLength(65);
    expect(resolveVapidKeys(config, logger)).toEqual(first);
    expect(fs.statSync(path.join(dataDir, 'vapid-keys.json')).mode & 0o777).toBe(0o600);
    expect(resolveVapidKeys(configWith({ dataDir: await tempDir() }), logger).publicKey).not.toBe(
      first.publicKey,
    );
  });
});
