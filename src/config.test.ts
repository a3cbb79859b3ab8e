import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.seedDemo).toBe(true);
    expect(config.logLevel).toBe('info');
    expect(config.allowedOrigins).toEqual(['http://localhost:5173']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses given values', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://app@db:5432/fresh',
      REDIS_URL: 'redis://cache:6379',
      SEED_DEMO: 'false',
      ALLOWED_ORIGINS: 'https://a.example.com, https://b.example.com',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://app@db:5432/fresh',
      redisUrl: 'redis://cache:6379',
      seedDemo: false,
      allowedOrigins: ['https://a.example.com', 'https://b.example.com'],
      logLevel: 'warn',
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x@y/z'],
    ['REDIS_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['SEED_DEMO', 'maybe'],
    ['ALLOWED_ORIGINS', 'https://ok.example.com/path'],
    ['NODE_ENV', 'staging'],
  ])('rejects %s=%s naming the key', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(`${key} .*got '${value}'`));
  });

  it('defaults to local file storage, with the documented file limits', () => {
    expect(loadConfig({})).toMatchObject({
      storageDriver: 'local',
      s3Region: 'us-east-1',
      s3Bucket: undefined,
      s3ForcePathStyle: false,
      fileMaxBytes: 262_144_000,
      fileRetentionDays: 30,
      fileDownloadRedirect: false,
    });
  });

  it('reads the S3 settings, and refuses an S3 driver without a bucket or with half a key pair', () => {
    expect(
      loadConfig({
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_BUCKET: 'fresh-files',
        S3_ACCESS_KEY_ID: 'minio',
        S3_SECRET_ACCESS_KEY: 'minio-secret',
        S3_FORCE_PATH_STYLE: 'true',
        FILE_DOWNLOAD_REDIRECT: 'true',
      }),
    ).toMatchObject({
      storageDriver: 's3',
      s3Endpoint: 'http://127.0.0.1:9000',
      s3Bucket: 'fresh-files',
      s3ForcePathStyle: true,
      fileDownloadRedirect: true,
    });
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow(
      /S3_BUCKET is required when STORAGE_DRIVER=s3/,
    );
    expect(() => loadConfig({ S3_ACCESS_KEY_ID: 'only-the-id' })).toThrow(
      /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together/,
    );
    expect(() => loadConfig({ STORAGE_DRIVER: 'ftp' })).toThrow(/STORAGE_DRIVER must be one of local, s3/);
    expect(() => loadConfig({ S3_BUCKET: 'Not_A_Bucket' })).toThrow(/S3_BUCKET must be a bucket name/);
  });

  it('reports every bad key at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT .*; LOG_LEVEL/);
  });

  it('runs API-only or worker-only processes only on PostgreSQL', () => {
    expect(() => loadConfig({ WORKER_MODE: 'worker' })).toThrow(/WORKER_MODE worker needs DATABASE_URL/);
    expect(() => loadConfig({ WORKER_MODE: 'api' })).toThrow(/WORKER_MODE api needs DATABASE_URL/);
    expect(loadConfig({ WORKER_MODE: 'api', DATABASE_URL: 'postgres://db/x' }).workerMode).toBe('api');
    expect(loadConfig({}).workerMode).toBe('all');
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });

  it('documents every key in .env.example and the README configuration table', () => {
    const envExample = fs.readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const { env } of CONFIG_KEYS) {
      expect(envExample, `.env.example lists ${env}`).toMatch(new RegExp(`^#? ?${env}=`, 'm'));
      expect(readme, `README documents ${env}`).toContain(`| \`${env}\``);
    }
  });
});
