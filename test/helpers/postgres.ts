import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Databases made by this test run share a prefix so teardown can find and drop them. Global setup
 * sets the id before the workers fork, and they inherit it through the environment.
 */
export function runPrefix(): string {
  process.env.FC_TEST_RUN_ID ??= randomBytes(3).toString('hex');
  return `fc_test_${process.env.FC_TEST_RUN_ID}`;
}

export function databaseUrlFor(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Runs one statement on the DATABASE_URL database (CREATE/DROP DATABASE cannot run in a pool txn). */
export async function adminQuery<R = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

export function uniqueDatabaseName(label: string): string {
  return `${runPrefix()}_${label}_${randomBytes(4).toString('hex')}`;
}

const TEMPLATE_LOCK = 74_201_544;

/**
 * CREATE DATABASE … TEMPLATE fails while another copy of the same template is being made, so test
 * files running in parallel take turns through an advisory lock (a copy takes tens of ms).
 */
export async function cloneTemplate(url: string, template: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    await client.query(`create database "${name}" template "${template}"`);
  } finally {
    await client.end(); // ends the session, releasing the lock
  }
}
