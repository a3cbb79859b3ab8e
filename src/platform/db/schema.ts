import type { ColumnType, Generated } from 'kysely';

/**
 * Kysely's view of the tables created by migrations/*.sql. Keep in step with the SQL: the
 * migrations are the truth, this file is how TypeScript sees them.
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SchemaMigrationsTable {
  version: string;
  name: string;
  checksum: string;
  applied_at: Timestamp;
}

export interface DB {
  organizations: OrganizationsTable;
  schema_migrations: SchemaMigrationsTable;
}
