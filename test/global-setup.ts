import type { TestProject } from 'vitest/node';
import { createDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { adminQuery, databaseUrlFor, runPrefix } from './helpers/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Name of a migrated PostgreSQL template database, when DATABASE_URL is set. */
    pgTemplate: string | undefined;
  }
}

/**
 * On PostgreSQL, migrate once into a template database; each test file then gets its own copy
 * (CREATE DATABASE … TEMPLATE takes milliseconds) so files run in parallel without sharing rows.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    project.provide('pgTemplate', undefined);
    return;
  }
  const prefix = runPrefix();
  const template = `${prefix}_template`;
  await adminQuery(url, `create database "${template}"`);
  const database = await createDatabase({ url: databaseUrlFor(url, template), poolMax: 1 });
  try {
    await migrate(database);
  } finally {
    await database.close();
  }
  project.provide('pgTemplate', template);

  return async () => {
    const rows = await adminQuery<{ datname: string }>(
      url,
      `select datname from pg_database where datname like '${prefix}%'`,
    );
    for (const { datname } of rows)
      await adminQuery(url, `drop database if exists "${datname}" with (force)`);
  };
}
