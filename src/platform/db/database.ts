import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { Mutex } from './mutex.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { DB } from './schema.ts';

/** A single session for work that needs one connection throughout (migrations, advisory locks). */
export interface SqlSession {
  /** Runs a script of one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** Raw access to the embedded session, for libraries that bring their own SQL (the job queue). */
export interface EmbeddedSession {
  /** Runs `work` holding the session lock, so it never lands inside someone else's transaction. */
  exclusive<T>(work: (client: PGlite) => Promise<T>): Promise<T>;
}

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Kysely<DB>;
  /** PostgreSQL mode: the connection URL (libraries that open their own pool use it). */
  readonly url?: string;
  /** Embedded mode: the PGlite session behind the lock. */
  readonly embedded?: EmbeddedSession;
  withSession<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  stats(): PoolStats;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent the embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite directory, or 'memory' for a throw-away in-memory database (tests). */
  pgliteDir?: string;
  poolMax?: number;
  /**
   * PostgreSQL only: how long a caller waits for a connection (a pooled one to be free, or a new
   * one to open) before the pool gives up with the error isPoolTimeout recognises. Default 5 s.
   */
  poolTimeoutMs?: number;
  /** Send repeated statements as named prepared statements (PostgreSQL only; see preparingPool). */
  preparedStatements?: boolean;
  logger?: Logger;
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url)
    return createPostgres(
      options.url,
      options.poolMax ?? 10,
      options.poolTimeoutMs ?? 5_000,
      options.preparedStatements ?? true,
      options.logger,
    );
  return createPglite(options.pgliteDir ?? 'memory', options.logger);
}

/**
 * Both drivers read `date` as the 'YYYY-MM-DD' text it is (a JS Date would shift it by the time
 * zone), `numeric` as exact decimal text, and counts (int8) as numbers.
 */
const DATE_OID = 1082;
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === DATE_OID) return (value: string) => value;
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  }) as typeof pg.types.getTypeParser,
};

/** Statements longer than this are not prepared: multi-row inserts, long IN lists. */
const MAX_PREPARED_TEXT = 8_000;
/** Distinct statement texts a pool prepares; later ones run unnamed, as before. */
const MAX_PREPARED_STATEMENTS = 500;

/**
 * Kysely sends every query as an unnamed statement, which PostgreSQL parses and plans again on each
 * execution. pg_stat_statements put planning alone at 0.30 ms of the 1.5 ms of PostgreSQL CPU a list
 * page costs, and 0.75 of 2.2 ms for a stock adjustment (five statements, one of them inside the
 * stock-level trigger). This pool hands Kysely clients that send parameterised statements as named
 * ones: node-postgres prepares a name once per connection and reuses it, and PostgreSQL's plan
 * cache keeps the plan once it finds a generic plan no worse than the custom ones.
 * One text always gets one name (shared by the pool's connections); the number of names and the
 * length of a prepared text are capped, so statements built with a varying number of values
 * cannot fill the server's memory: past the cap they run unnamed, as Kysely sends them.
 */
function preparingPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const nameFor = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && text.length <= MAX_PREPARED_TEXT && names.size < MAX_PREPARED_STATEMENTS) {
      name = `fc_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
  return {
    Client: pg.Client,
    options: pool.options,
    end: () => pool.end(),
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      const query = (text: unknown, values?: unknown[]) => {
        const name = typeof text === 'string' && values?.length ? nameFor(text) : undefined;
        return name
          ? client.query({ name, text: text as string, values })
          : client.query(text as never, values);
      };
      return {
        processID: (client as unknown as { processID?: number }).processID,
        query: query as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
    },
  };
}

/**
 * The errors pg-pool (3.x, index.js) gives a caller that got no connection within
 * connectionTimeoutMillis: every client was busy and none came free in time ('timeout exceeded
 * when trying to connect', from connect()), or a new connection did not open in time ('Connection
 * terminated due to connection timeout', which wraps the socket's error). Both are plain Errors
 * with no code; matched by class and exact text, so no other failure (a refused connection, a
 * failed query, an error PostgreSQL sent) is mistaken for one.
 */
const POOL_TIMEOUT_MESSAGES = new Set([
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
]);

/** Whether `error` is the pool giving up on getting a connection in time (see POOL_TIMEOUT_MESSAGES). */
export function isPoolTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    Object.getPrototypeOf(error) === Error.prototype &&
    !('code' in error) &&
    POOL_TIMEOUT_MESSAGES.has(error.message)
  );
}

function createPostgres(
  url: string,
  max: number,
  timeoutMs: number,
  prepare: boolean,
  logger?: Logger,
): Database {
  const pool = new pg.Pool({
    types: pgTypes,
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    // Past this, a caller gets an error instead of a connection (isPoolTimeout): a request is
    // answered 503 with Retry-After (errors.ts) rather than queueing without end.
    connectionTimeoutMillis: timeoutMs,
    application_name: 'fresh-choice',
  });
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger?.error({ err: error }, 'idle PostgreSQL client failed'));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: prepare ? preparingPool(pool) : pool }) });
  let closed = false;
  return {
    kind: 'postgres',
    db,
    url,
    async withSession(work) {
      const client = await pool.connect();
      try {
        return await work({
          exec: async (sql) => {
            await client.query(sql);
          },
          query: async <R>(sql: string, params: unknown[] = []) =>
            (await client.query(sql, params)).rows as R[],
        });
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max }),
    async close() {
      if (closed) return;
      closed = true;
      // Kysely ends the pool only if it ever used it; sessions taken directly (migrations) do not count.
      await db.destroy();
      if (!pool.ended) await pool.end();
    },
  };
}

/**
 * PostgreSQL settings for the embedded database. PGlite runs PostgreSQL in this process's
 * WebAssembly heap, which grows and never shrinks, so what PostgreSQL is allowed to use is what
 * the server keeps. Measured with the demo store (ARCHITECTURE.md has the figures):
 * - shared_buffers: initdb's 128 MB, all of it resident from the start (PostgreSQL's shared
 *   memory is zero-filled), was a third of the idle server. Pages not in the buffers come from
 *   the files through the operating system's cache, one system call away.
 * - maintenance_work_mem: VACUUM (after every large import) and CREATE INDEX may use 64 MB by
 *   default; once touched, the heap keeps it.
 * - max_connections: PGlite is one session; shared memory is sized for 100 by default.
 */
const PGLITE_SETTINGS = {
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
  max_connections: '4',
};

/**
 * PostgreSQL checkpoints when its write-ahead log passes max_wal_size, but only its checkpointer
 * process does, and PGlite has none: the log grew for as long as the database stayed open (97 MB
 * after one 20,000-row import), and a start after a crash replays all of it. So the embedded
 * database checkpoints itself, checking once a minute for 32 MB of log since the last checkpoint.
 */
const CHECKPOINT_CHECK_MS = 60_000;
const CHECKPOINT_AFTER_LOG_BYTES = 32 * 1024 * 1024;

/** Runs CHECKPOINT when more than `bytes` of write-ahead log were written since the last one. */
export async function checkpointIfLogExceeds(session: SqlSession, bytes: number): Promise<boolean> {
  const [since] = await session.query<{ bytes: number }>(
    'select pg_wal_lsn_diff(pg_current_wal_lsn(), checkpoint_lsn)::float8 as bytes from pg_control_checkpoint()',
  );
  if (!since || since.bytes <= bytes) return false;
  await session.exec('checkpoint');
  return true;
}

let baselineOnly = false;

/**
 * V8 compiles WebAssembly with a baseline compiler (Liftoff) and recompiles each function that
 * turns out hot with its optimising compiler (TurboFan). For one function of PGlite, PostgreSQL's
 * SQL parser (raw_parser, 105 kB of WebAssembly), that recompilation takes 0.6 GB of memory for 1
 * to 3 s, and it is hot from the first queries: every embedded server peaked at 750-1,100 MB
 * RSS shortly after starting, and kept about 45 MB of it. Baseline code costs CPU instead
 * (PostgreSQL's work in a bulk import: +30-40%); there is no per-function switch. The flags apply
 * to WebAssembly compiled from now on, in this process; the server on PostgreSQL compiles none.
 */
function compileWasmWithBaselineOnly() {
  if (baselineOnly) return;
  baselineOnly = true;
  v8.setFlagsFromString('--liftoff-only --no-wasm-tier-up --no-wasm-dynamic-tiering');
}

async function createPglite(dir: string, logger?: Logger): Promise<Database> {
  const releaseDirLock = dir === 'memory' ? () => {} : lockDataDirectory(dir);
  let client: PGlite;
  try {
    // Before PGlite's WebAssembly is compiled (see compileWasmWithBaselineOnly).
    compileWasmWithBaselineOnly();
    // Loaded only for the embedded database: a server on PostgreSQL never pays for it.
    const [{ PGlite, types: pgliteTypes }, { pg_trgm }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite/contrib/pg_trgm'),
    ]);
    client = await PGlite.create(dir === 'memory' ? undefined : dir, {
      startParams: [
        ...PGlite.defaultStartParams,
        ...Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      ],
      extensions: { pg_trgm },
      parsers: {
        [pgliteTypes.DATE]: (value: string) => value,
        [pgliteTypes.INT8]: (value: string) => Number(value),
      },
    });
  } catch (error) {
    releaseDirLock();
    throw error;
  }
  logger?.debug({ dir }, 'embedded PGlite database open');
  const lock = new Mutex();
  const db = new Kysely<DB>({ dialect: new PGliteDialect(client, lock) });
  let busy = false;
  let closed = false;
  let checkpointing = false;
  const checkpoints =
    dir === 'memory'
      ? undefined
      : setInterval(() => {
          if (checkpointing || closed) return;
          checkpointing = true;
          database
            .withSession((session) => checkpointIfLogExceeds(session, CHECKPOINT_AFTER_LOG_BYTES))
            .catch((error: unknown) => logger?.warn({ err: error }, 'embedded database checkpoint failed'))
            .finally(() => (checkpointing = false));
        }, CHECKPOINT_CHECK_MS).unref();
  const database: Database = {
    kind: 'pglite',
    db,
    embedded: {
      async exclusive(work) {
        const release = await lock.acquire();
        busy = true;
        try {
          return await work(client);
        } finally {
          busy = false;
          release();
        }
      },
    },
    async withSession(work) {
      const release = await lock.acquire();
      busy = true;
      try {
        return await work({
          exec: async (sql) => {
            await client.exec(sql);
          },
          query: async <R>(sql: string, params: unknown[] = []) => (await client.query<R>(sql, params)).rows,
        });
      } finally {
        busy = false;
        release();
      }
    },
    async ping() {
      await db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
    },
    // PGlite is one session: report it as a pool of one so the same gauges mean the same thing.
    stats: () => ({ total: 1, idle: busy ? 0 : 1, waiting: lock.waiting, max: 1 }),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(checkpoints);
      // Wait for whoever holds the session to finish before closing it under them.
      const release = await lock.acquire();
      try {
        await client.close();
      } finally {
        release();
        releaseDirLock();
      }
    },
  };
  return database;
}

/**
 * PGlite has no server to arbitrate between processes: two processes opening one directory would
 * corrupt it. A pid file makes the second one fail with a clear message instead.
 */
const openInThisProcess = new Set<string>();

function lockDataDirectory(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const resolved = path.resolve(dir);
  if (openInThisProcess.has(resolved))
    throw new Error(`The embedded database in ${dir} is already open in this process`);
  const lockFile = path.join(dir, 'fresh-choice.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      openInThisProcess.add(resolved);
      return () => {
        openInThisProcess.delete(resolved);
        fs.rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(lockFile, 'utf8'));
      // Our own pid in the file can only be a leftover (in a container every start is pid 1).
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `The embedded database in ${dir} is in use by process ${holder}. Stop it, or set DATA_DIR to another directory.`,
          { cause: error },
        );
      }
      fs.rmSync(lockFile, { force: true }); // stale lock from a process that died
    }
  }
  throw new Error(`Could not lock the embedded database directory ${dir}: the lock file keeps reappearing`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
