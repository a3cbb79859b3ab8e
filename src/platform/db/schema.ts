import type { ColumnType, Generated } from 'kysely';

/**
 * Kysely's view of the tables created by migrations/*.sql. Keep in step with the SQL: the
 * migrations are the truth, this file is how TypeScript sees them.
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

type Json<T> = ColumnType<T, T | string | undefined, T | string>;

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  /** Validated against the settings schema before writing; missing keys take their defaults. */
  settings: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type UserRole = 'admin' | 'manager' | 'employee' | 'viewer';

export interface UsersTable {
  id: Generated<string>;
  org_id: string;
  email: string;
  username: string;
  password_hash: string | null;
  role: UserRole;
  active: Generated<boolean>;
  session_version: Generated<number>;
  last_login_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  org_id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  remember_me: boolean;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: Timestamp;
}

export type OneTimeTokenPurpose = 'password_reset' | 'invitation';

export interface OneTimeTokensTable {
  id: Generated<string>;
  org_id: string;
  user_id: string;
  purpose: OneTimeTokenPurpose;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: Timestamp;
}

export interface AuditEventsTable {
  id: Generated<string>;
  org_id: string;
  actor_id: string | null;
  subject_user_id: string | null;
  action: string;
  details: Json<Record<string, unknown>>;
  ip: string | null;
  created_at: Timestamp;
}

export interface MailOutboxTable {
  id: Generated<string>;
  org_id: string | null;
  to_address: string;
  subject: string;
  body: string;
  transport: 'smtp' | 'log';
  created_at: Timestamp;
}

export interface SchemaMigrationsTable {
  version: string;
  name: string;
  checksum: string;
  applied_at: Timestamp;
}

export interface DB {
  organizations: OrganizationsTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  one_time_tokens: OneTimeTokensTable;
  audit_events: AuditEventsTable;
  mail_outbox: MailOutboxTable;
  schema_migrations: SchemaMigrationsTable;
}
