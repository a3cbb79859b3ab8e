import path from 'node:path';

/**
 * Configuration is read once, from the environment, into a frozen object that is passed to
 * buildApp. Nothing else in the code base reads process.env: that keeps every knob listed here,
 * in `.env.example` and in the README table (a test checks the three agree).
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type NodeEnv = 'development' | 'production' | 'test';

export interface Config {
  nodeEnv: NodeEnv;
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  databasePoolTimeoutMs: number;
  databasePreparedStatements: boolean;
  dataDir: string;
  redisUrl: string | undefined;
  logLevel: LogLevel;
  allowedOrigins: string[];
  seedDemo: boolean;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  trustProxy: boolean;
  jwtSecret: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  refreshTokenRememberDays: number;
  rateLimitEnabled: boolean;
  smtpUrl: string | undefined;
  mailFrom: string;
  publicAppUrl: string;
  importMaxBytes: number;
  workerMode: WorkerMode;
  jobConcurrency: number;
  jobHeartbeatSeconds: number;
  scheduleCheckSeconds: number;
  storageDriver: StorageDriver;
  s3Endpoint: string | undefined;
  s3Region: string;
  s3Bucket: string | undefined;
  s3AccessKeyId: string | undefined;
  s3SecretAccessKey: string | undefined;
  s3ForcePathStyle: boolean;
  fileMaxBytes: number;
  fileRetentionDays: number;
  fileDownloadRedirect: boolean;
  receiptShortDatedShare: number;
  receiptOverTolerance: number;
  forecastThreads: number;
  vapidPublicKey: string | undefined;
  vapidPrivateKey: string | undefined;
  vapidSubject: string | undefined;
  pushEndpointHosts: string[];
  realtimeRetentionHours: number;
  wsHeartbeatSeconds: number;
  wsMaxBufferedBytes: number;
  wsAuthTimeoutSeconds: number;
}

export type StorageDriver = 'local' | 's3';

/** all: API and workers in one process; api: HTTP only; worker: jobs and schedules only. */
export type WorkerMode = 'all' | 'api' | 'worker';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Parser<T> = (raw: string) => T;

interface KeySpec<K extends keyof Config> {
  env: string;
  field: K;
  description: string;
  /** Default as written in `.env.example` / README; undefined = unset. */
  defaultValue: string | undefined;
  parse: Parser<Config[K]>;
}

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Error(`must be an integer between ${min} and ${max}`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`must be an integer between ${min} and ${max}`);
    return value;
  };

const decimal =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new Error(`must be a number between ${min} and ${max}`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`must be a number between ${min} and ${max}`);
    return value;
  };

const boolean: Parser<boolean> = (raw) => {
  const lowered = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
  if (['false', '0', 'no', 'off'].includes(lowered)) return false;
  throw new Error('must be true or false');
};

const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}`);
    return raw as T;
  };

const url =
  (protocols: string[]): Parser<string | undefined> =>
  (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`must be a URL starting with ${protocols.join(' or ')}`);
    }
    if (!protocols.includes(parsed.protocol))
      throw new Error(`must be a URL starting with ${protocols.join(' or ')}`);
    return raw;
  };

const origins: Parser<string[]> = (raw) => {
  const list = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin === '*') continue;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new Error(`'${origin}' is not an origin such as https://shop.example.com`);
    }
    if (parsed.origin !== origin)
      throw new Error(`'${origin}' is not an origin such as https://shop.example.com`);
  }
  return list;
};

const text: Parser<string> = (raw) => raw;

/** base64url (padding allowed) of exactly `bytes` bytes, checked by `first` when given. */
const base64urlKey =
  (bytes: number, what: string, first?: number): Parser<string> =>
  (raw) => {
    const unpadded = raw.replace(/=+$/, '');
    const decoded = /^[A-Za-z0-9_-]+$/.test(unpadded) ? Buffer.from(unpadded, 'base64url') : undefined;
    if (!decoded || decoded.length !== bytes || (first !== undefined && decoded[0] !== first))
      throw new Error(
        `must be ${what} (${bytes} bytes, base64url), as 'npx web-push generate-vapid-keys' prints`,
      );
    return unpadded;
  };

/** The VAPID contact: a mailto: or https: URL. */
const vapidSubject: Parser<string> = (raw) => {
  if (!/^mailto:[^@\s]+@[^@\s]+$/.test(raw) && !/^https:\/\/[^\s/]+/.test(raw))
    throw new Error('must be a mailto: address or an https: URL where the push services can reach you');
  return raw;
};

/** Host names, or `*.domain` for any host under a domain, or `*` for any host. */
const hostPatterns: Parser<string[]> = (raw) => {
  const list = raw
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  for (const pattern of list)
    if (pattern !== '*' && !/^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$/.test(pattern))
      throw new Error(`'${pattern}' is not a host name, '*.domain' or '*'`);
  return list;
};

/** Every key the service reads, in the order the README documents them. */
export const CONFIG_KEYS = [
  {
    env: 'NODE_ENV',
    field: 'nodeEnv',
    description: 'development, production or test; production tightens secrets checks',
    defaultValue: 'development',
    parse: oneOf(['development', 'production', 'test'] as const),
  } satisfies KeySpec<'nodeEnv'>,
  {
    env: 'PORT',
    field: 'port',
    description: 'TCP port the API listens on',
    defaultValue: '3000',
    parse: integer(0, 65535),
  } satisfies KeySpec<'port'>,
  {
    env: 'HOST',
    field: 'host',
    description: 'Interface to bind; use 0.0.0.0 in a container',
    defaultValue: '127.0.0.1',
    parse: text,
  } satisfies KeySpec<'host'>,
  {
    env: 'DATABASE_URL',
    field: 'databaseUrl',
    description: 'PostgreSQL 15+ connection URL; unset = embedded PGlite under DATA_DIR',
    defaultValue: undefined,
    parse: url(['postgres:', 'postgresql:']),
  } satisfies KeySpec<'databaseUrl'>,
  {
    env: 'DATABASE_POOL_MAX',
    field: 'databasePoolMax',
    description: 'Maximum PostgreSQL connections per instance',
    defaultValue: '10',
    parse: integer(1, 200),
  } satisfies KeySpec<'databasePoolMax'>,
  {
    env: 'DATABASE_POOL_TIMEOUT_MS',
    field: 'databasePoolTimeoutMs',
    description:
      'How long a request waits for a PostgreSQL connection when all are busy (or for a new one to open) before it is answered 503 with Retry-After',
    defaultValue: '5000',
    parse: integer(10, 120_000),
  } satisfies KeySpec<'databasePoolTimeoutMs'>,
  {
    env: 'DATABASE_PREPARED_STATEMENTS',
    field: 'databasePreparedStatements',
    description:
      'Send repeated queries as named prepared statements; false behind a transaction-mode pooler without prepared-statement support',
    defaultValue: 'true',
    parse: boolean,
  } satisfies KeySpec<'databasePreparedStatements'>,
  {
    env: 'DATA_DIR',
    field: 'dataDir',
    description: 'Where the embedded database and local files live',
    defaultValue: './data',
    parse: (raw) => path.resolve(raw),
  } satisfies KeySpec<'dataDir'>,
  {
    env: 'REDIS_URL',
    field: 'redisUrl',
    description: 'Redis URL for shared cache, rate limits and pub/sub; unset = in-process',
    defaultValue: undefined,
    parse: url(['redis:', 'rediss:']),
  } satisfies KeySpec<'redisUrl'>,
  {
    env: 'LOG_LEVEL',
    field: 'logLevel',
    description: 'pino level: fatal, error, warn, info, debug, trace or silent',
    defaultValue: 'info',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  } satisfies KeySpec<'logLevel'>,
  {
    env: 'ALLOWED_ORIGINS',
    field: 'allowedOrigins',
    description: 'Comma-separated browser origins allowed by CORS (* = any)',
    defaultValue: 'http://localhost:5173',
    parse: origins,
  } satisfies KeySpec<'allowedOrigins'>,
  {
    env: 'SEED_DEMO',
    field: 'seedDemo',
    description: 'Embedded mode only: seed the demo store on first start',
    defaultValue: 'true',
    parse: boolean,
  } satisfies KeySpec<'seedDemo'>,
  {
    env: 'BODY_LIMIT_BYTES',
    field: 'bodyLimitBytes',
    description: 'Largest JSON request body accepted (larger = 413)',
    defaultValue: '1048576',
    parse: integer(1024, 1024 * 1024 * 1024),
  } satisfies KeySpec<'bodyLimitBytes'>,
  {
    env: 'SHUTDOWN_TIMEOUT_MS',
    field: 'shutdownTimeoutMs',
    description:
      'How long SIGTERM/SIGINT waits for in-flight requests, then again for running jobs, before exiting',
    defaultValue: '10000',
    parse: integer(100, 120000),
  } satisfies KeySpec<'shutdownTimeoutMs'>,
  {
    env: 'TRUST_PROXY',
    field: 'trustProxy',
    description: 'Trust X-Forwarded-* headers (behind nginx or a load balancer)',
    defaultValue: 'false',
    parse: boolean,
  } satisfies KeySpec<'trustProxy'>,
  {
    env: 'JWT_SECRET',
    field: 'jwtSecret',
    description:
      'HMAC key for access tokens, 32+ characters; required in production on PostgreSQL, else generated once under DATA_DIR',
    defaultValue: undefined,
    parse: text,
  } satisfies KeySpec<'jwtSecret'>,
  {
    env: 'ACCESS_TOKEN_TTL_SECONDS',
    field: 'accessTokenTtlSeconds',
    description: 'Lifetime of an access token (JWT)',
    defaultValue: '900',
    parse: integer(30, 86_400),
  } satisfies KeySpec<'accessTokenTtlSeconds'>,
  {
    env: 'REFRESH_TOKEN_TTL_DAYS',
    field: 'refreshTokenTtlDays',
    description: 'Lifetime of a refresh token without rememberMe',
    defaultValue: '1',
    parse: integer(1, 365),
  } satisfies KeySpec<'refreshTokenTtlDays'>,
  {
    env: 'REFRESH_TOKEN_REMEMBER_DAYS',
    field: 'refreshTokenRememberDays',
    description: 'Lifetime of a refresh token with rememberMe',
    defaultValue: '30',
    parse: integer(1, 365),
  } satisfies KeySpec<'refreshTokenRememberDays'>,
  {
    env: 'RATE_LIMIT_ENABLED',
    field: 'rateLimitEnabled',
    description: 'Apply the per-route rate limits (turn off only for tests and benchmarks)',
    defaultValue: 'true',
    parse: boolean,
  } satisfies KeySpec<'rateLimitEnabled'>,
  {
    env: 'SMTP_URL',
    field: 'smtpUrl',
    description:
      'SMTP server for outgoing mail (smtp:// or smtps://); unset = mail goes to the log and mail_outbox',
    defaultValue: undefined,
    parse: url(['smtp:', 'smtps:']),
  } satisfies KeySpec<'smtpUrl'>,
  {
    env: 'MAIL_FROM',
    field: 'mailFrom',
    description: 'Sender of outgoing mail',
    defaultValue: 'Fresh Choice <no-reply@freshchoice.local>',
    parse: text,
  } satisfies KeySpec<'mailFrom'>,
  {
    env: 'PUBLIC_APP_URL',
    field: 'publicAppUrl',
    description: 'Base URL of the web app, for links in e-mails (password reset, invitations)',
    defaultValue: 'http://localhost:5173',
    parse: (raw) => {
      url(['http:', 'https:'])(raw);
      return raw.replace(/\/+$/, '');
    },
  } satisfies KeySpec<'publicAppUrl'>,
  {
    env: 'IMPORT_MAX_BYTES',
    field: 'importMaxBytes',
    description: 'Largest file accepted by bulk import (larger = 413)',
    defaultValue: '52428800',
    parse: integer(1024, 2 * 1024 * 1024 * 1024),
  } satisfies KeySpec<'importMaxBytes'>,
  {
    env: 'WORKER_MODE',
    field: 'workerMode',
    description:
      'all = API and job workers in one process; api = HTTP only; worker = jobs and schedules only',
    defaultValue: 'all',
    parse: oneOf(['all', 'api', 'worker'] as const),
  } satisfies KeySpec<'workerMode'>,
  {
    env: 'JOB_CONCURRENCY',
    field: 'jobConcurrency',
    description: 'Jobs of one type a worker process runs at once',
    defaultValue: '2',
    parse: integer(1, 64),
  } satisfies KeySpec<'jobConcurrency'>,
  {
    env: 'JOB_HEARTBEAT_SECONDS',
    field: 'jobHeartbeatSeconds',
    description: 'A running job heartbeats this often; a job silent for this long is run again elsewhere',
    defaultValue: '30',
    parse: integer(10, 3600),
  } satisfies KeySpec<'jobHeartbeatSeconds'>,
  {
    env: 'SCHEDULE_CHECK_SECONDS',
    field: 'scheduleCheckSeconds',
    description: 'How often a worker looks for schedules that came due',
    defaultValue: '15',
    parse: integer(1, 300),
  } satisfies KeySpec<'scheduleCheckSeconds'>,
  {
    env: 'STORAGE_DRIVER',
    field: 'storageDriver',
    description: 'Where uploaded files are kept: local (DATA_DIR/files) or s3 (an S3-compatible bucket)',
    defaultValue: 'local',
    parse: oneOf(['local', 's3'] as const),
  } satisfies KeySpec<'storageDriver'>,
  {
    env: 'S3_ENDPOINT',
    field: 's3Endpoint',
    description: 'URL of an S3-compatible server (MinIO, Ceph, R2); unset = AWS S3 in S3_REGION',
    defaultValue: undefined,
    parse: url(['http:', 'https:']),
  } satisfies KeySpec<'s3Endpoint'>,
  {
    env: 'S3_REGION',
    field: 's3Region',
    description: 'Region of the bucket (what the server expects in signatures)',
    defaultValue: 'us-east-1',
    parse: (raw) => {
      if (!/^[a-z0-9-]{1,50}$/.test(raw)) throw new Error('must be a region name such as eu-west-1');
      return raw;
    },
  } satisfies KeySpec<'s3Region'>,
  {
    env: 'S3_BUCKET',
    field: 's3Bucket',
    description: 'Bucket for uploaded files; required with STORAGE_DRIVER=s3',
    defaultValue: undefined,
    parse: (raw) => {
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(raw))
        throw new Error('must be a bucket name: 3-63 lowercase letters, digits, dots and hyphens');
      return raw;
    },
  } satisfies KeySpec<'s3Bucket'>,
  {
    env: 'S3_ACCESS_KEY_ID',
    field: 's3AccessKeyId',
    description:
      'Access key for the bucket, with S3_SECRET_ACCESS_KEY; both unset = the AWS SDK default chain (IAM role, AWS_* variables)',
    defaultValue: undefined,
    parse: text,
  } satisfies KeySpec<'s3AccessKeyId'>,
  {
    env: 'S3_SECRET_ACCESS_KEY',
    field: 's3SecretAccessKey',
    description: 'Secret of S3_ACCESS_KEY_ID',
    defaultValue: undefined,
    parse: text,
  } satisfies KeySpec<'s3SecretAccessKey'>,
  {
    env: 'S3_FORCE_PATH_STYLE',
    field: 's3ForcePathStyle',
    description:
      'Address the bucket in the path (http://host/bucket/key), as MinIO and most self-hosted servers need',
    defaultValue: 'false',
    parse: boolean,
  } satisfies KeySpec<'s3ForcePathStyle'>,
  {
    env: 'FILE_MAX_BYTES',
    field: 'fileMaxBytes',
    description: 'Largest file accepted by POST /v1/files/upload (larger = 413)',
    defaultValue: '262144000',
    parse: integer(1024, 5 * 1024 * 1024 * 1024),
  } satisfies KeySpec<'fileMaxBytes'>,
  {
    env: 'FILE_RETENTION_DAYS',
    field: 'fileRetentionDays',
    description: 'Days a deleted file is kept before its bytes are purged',
    defaultValue: '30',
    parse: integer(0, 3650),
  } satisfies KeySpec<'fileRetentionDays'>,
  {
    env: 'FILE_DOWNLOAD_REDIRECT',
    field: 'fileDownloadRedirect',
    description:
      'With STORAGE_DRIVER=s3: answer a file download with a 302 to a presigned URL valid 300 s instead of streaming it',
    defaultValue: 'false',
    parse: boolean,
  } satisfies KeySpec<'fileDownloadRedirect'>,
  {
    env: 'RECEIPT_SHORT_DATED_SHARE',
    field: 'receiptShortDatedShare',
    description:
      "A received lot is short-dated when it arrives with less than this share of its item's shelf life left",
    defaultValue: '0.5',
    parse: decimal(0, 1),
  } satisfies KeySpec<'receiptShortDatedShare'>,
  {
    env: 'RECEIPT_OVER_TOLERANCE',
    field: 'receiptOverTolerance',
    description:
      'Share over the ordered units a purchase-order line may be received before 409 OVER_RECEIPT (0.10 = 10%)',
    defaultValue: '0.10',
    parse: decimal(0, 10),
  } satisfies KeySpec<'receiptOverTolerance'>,
  {
    env: 'FORECAST_THREADS',
    field: 'forecastThreads',
    description:
      'Worker threads the forecasting engine runs on (0 = in the calling thread); the nightly refresh of a large store is CPU-bound',
    defaultValue: '2',
    parse: integer(0, 64),
  } satisfies KeySpec<'forecastThreads'>,
  {
    env: 'VAPID_PUBLIC_KEY',
    field: 'vapidPublicKey',
    description:
      'Web push VAPID public key (base64url P-256 point), with VAPID_PRIVATE_KEY; required in production on PostgreSQL, else a pair is generated once under DATA_DIR',
    defaultValue: undefined,
    parse: base64urlKey(65, 'an uncompressed P-256 public key', 0x04),
  } satisfies KeySpec<'vapidPublicKey'>,
  {
    env: 'VAPID_PRIVATE_KEY',
    field: 'vapidPrivateKey',
    description: 'Web push VAPID private key (base64url, 32 bytes), the pair of VAPID_PUBLIC_KEY',
    defaultValue: undefined,
    parse: base64urlKey(32, 'a P-256 private key'),
  } satisfies KeySpec<'vapidPrivateKey'>,
  {
    env: 'VAPID_SUBJECT',
    field: 'vapidSubject',
    description:
      "Contact the push services see in VAPID (mailto: or https:); required in production on PostgreSQL, else 'mailto:ops@freshchoice.local'",
    defaultValue: undefined,
    parse: vapidSubject,
  } satisfies KeySpec<'vapidSubject'>,
  {
    env: 'PUSH_ENDPOINT_HOSTS',
    field: 'pushEndpointHosts',
    description:
      'Push services a subscription endpoint may point at (hosts, *.domain, or * for any): the server POSTs to these URLs',
    defaultValue: '*.googleapis.com,*.push.services.mozilla.com,*.push.apple.com,*.notify.windows.com',
    parse: hostPatterns,
  } satisfies KeySpec<'pushEndpointHosts'>,
  {
    env: 'REALTIME_RETENTION_HOURS',
    field: 'realtimeRetentionHours',
    description:
      'Hours delivered realtime events are kept: a WebSocket client resuming from an older event id gets a resync message',
    defaultValue: '24',
    parse: integer(1, 24 * 90),
  } satisfies KeySpec<'realtimeRetentionHours'>,
  {
    env: 'WS_HEARTBEAT_SECONDS',
    field: 'wsHeartbeatSeconds',
    description: 'WebSocket ping interval; a socket that has not answered the previous ping is dropped',
    defaultValue: '30',
    parse: integer(1, 3600),
  } satisfies KeySpec<'wsHeartbeatSeconds'>,
  {
    env: 'WS_MAX_BUFFERED_BYTES',
    field: 'wsMaxBufferedBytes',
    description: 'Unsent bytes a WebSocket may hold before the client is closed as too slow (4409)',
    defaultValue: '1048576',
    parse: integer(1024, 256 * 1024 * 1024),
  } satisfies KeySpec<'wsMaxBufferedBytes'>,
  {
    env: 'WS_AUTH_TIMEOUT_SECONDS',
    field: 'wsAuthTimeoutSeconds',
    description: 'Time a new WebSocket has to send its auth message before it is closed (4408)',
    defaultValue: '10',
    parse: integer(1, 300),
  } satisfies KeySpec<'wsAuthTimeoutSeconds'>,
] as const;

/**
 * Validates the environment. Every problem is collected so an operator fixes them in one go;
 * the message names each key.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const values: Partial<Record<keyof Config, unknown>> = {};
  const problems: string[] = [];
  for (const spec of CONFIG_KEYS) {
    const given = env[spec.env];
    const raw = given === undefined || given.trim() === '' ? spec.defaultValue : given.trim();
    if (raw === undefined) {
      values[spec.field] = undefined;
      continue;
    }
    try {
      values[spec.field] = spec.parse(raw);
    } catch (error) {
      problems.push(`${spec.env} ${(error as Error).message} (got '${raw}')`);
    }
  }
  if (values.workerMode !== 'all' && values.workerMode !== undefined && !values.databaseUrl) {
    // The embedded database lives inside one process: that process has to run the workers too.
    problems.push(
      `WORKER_MODE ${values.workerMode as string} needs DATABASE_URL: the embedded database is open in one process only, which runs the job workers itself (WORKER_MODE=all)`,
    );
  }
  if (problems.length === 0) problems.push(...combinationProblems(values as Config));
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return Object.freeze(values as Config);
}

/** Keys that are valid alone but not together. */
function combinationProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.storageDriver === 's3' && !config.s3Bucket) {
    problems.push('S3_BUCKET is required when STORAGE_DRIVER=s3');
  }
  if (Boolean(config.s3AccessKeyId) !== Boolean(config.s3SecretAccessKey)) {
    problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together or not at all');
  }
  if (Boolean(config.vapidPublicKey) !== Boolean(config.vapidPrivateKey)) {
    problems.push('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are set together or not at all');
  }
  return problems;
}

/** A config for tests and tools: defaults, then the overrides given. */
export function configWith(overrides: Partial<Config>, env: Record<string, string | undefined> = {}): Config {
  return Object.freeze({ ...loadConfig(env), ...overrides });
}
