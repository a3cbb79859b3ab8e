import { createECDH, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError } from '../../config.ts';
import type { Logger } from '../../platform/logger.ts';

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: what browsers pass to pushManager.subscribe. */
  publicKey: string;
  privateKey: string;
  subject: string;
}

export const DEFAULT_VAPID_SUBJECT = 'mailto:ops@freshchoice.local';
const KEY_FILE = 'vapid-keys.json';

/**
 * The VAPID key pair pushes are signed with, handled as the JWT secret is (jwt-secret.ts). A
 * browser's subscription is bound to the public key it subscribed with: a push signed with any
 * other key is refused by the push service. So in production on PostgreSQL, where several
 * instances send pushes, the pair and the contact are required from the configuration (a pair
 * generated per instance would break every subscription made through another one). Elsewhere,
 * when unset, a pair is generated once and kept in DATA_DIR/vapid-keys.json, so subscriptions
 * survive a restart. A given pair is checked to be one: the public key must be the private key's.
 */
export function resolveVapidKeys(config: Config, logger: Logger): VapidKeys {
  const strict = config.nodeEnv === 'production' && Boolean(config.databaseUrl);
  if (strict && (!config.vapidPublicKey || !config.vapidSubject)) {
    throw new ConfigError(
      "Invalid configuration: VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT are required in production with DATABASE_URL (every instance must sign pushes with the key browsers subscribed with; make a pair with 'npx web-push generate-vapid-keys')",
    );
  }
  const subject = config.vapidSubject ?? DEFAULT_VAPID_SUBJECT;
  if (config.vapidPublicKey && config.vapidPrivateKey) {
    assertPair(
      config.vapidPublicKey,
      config.vapidPrivateKey,
      'VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY',
    );
    return { publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey, subject };
  }
  const file = path.join(config.dataDir, KEY_FILE);
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    const generated = generateVapidKeys();
    fs.writeFileSync(file, JSON.stringify(generated), { flag: 'wx', mode: 0o600 });
    logger.info({ file }, 'generated a VAPID key pair for web push in this data directory');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<VapidKeys>;
  if (typeof stored.publicKey !== 'string' || typeof stored.privateKey !== 'string')
    throw new ConfigError(`${file} does not hold a VAPID key pair; delete it to generate a new one`);
  assertPair(stored.publicKey, stored.privateKey, `${file} does not hold a matching VAPID key pair`);
  return { publicKey: stored.publicKey, privateKey: stored.privateKey, subject };
}

/**
 * A VAPID pair as web-push's generateVAPIDKeys makes it (a P-256 key: the public key as an
 * uncompressed point, the private scalar, both base64url), with node:crypto, so start-up does not
 * load web-push.
 */
function generateVapidKeys(): Pick<VapidKeys, 'publicKey' | 'privateKey'> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  return { publicKey: point.toString('base64url'), privateKey: jwk.d! };
}

function assertPair(publicKey: string, privateKey: string, message: string) {
  let derived: string;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
    derived = ecdh.getPublicKey().toString('base64url');
  } catch {
    throw new ConfigError(`Invalid configuration: ${message}`);
  }
  if (derived !== publicKey.replace(/=+$/, '')) throw new ConfigError(`Invalid configuration: ${message}`);
}
