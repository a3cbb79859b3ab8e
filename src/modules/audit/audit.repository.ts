import type { Executor } from '../../platform/db/tenant.ts';

/** What the audit trail records; `GET /v1/users/activity` filters on these. */
export const AUDIT_ACTIONS = [
  'registered',
  'login',
  'login_failed',
  'logout',
  'refresh_token_reused',
  'password_reset_requested',
  'password_reset',
  'password_changed',
  'invitation_accepted',
  'user_invited',
  'role_changed',
  'user_deactivated',
  'user_reactivated',
  'settings_updated',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  orgId: string;
  action: AuditAction;
  actorId?: string | null;
  subjectUserId?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
}

export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      org_id: entry.orgId,
      action: entry.action,
      actor_id: entry.actorId ?? null,
      subject_user_id: entry.subjectUserId ?? null,
      details: JSON.stringify(entry.details ?? {}),
      ip: entry.ip ?? null,
    })
    .execute();
}

export interface ActivityQuery {
  page: number;
  limit: number;
  action?: AuditAction | undefined;
  userId?: string | undefined;
}

/** Runs inside the tenant transaction: RLS confines it to the organisation as well as the filter. */
export async function listActivity(db: Executor, orgId: string, query: ActivityQuery) {
  let base = db.selectFrom('audit_events as e').where('e.org_id', '=', orgId);
  if (query.action) base = base.where('e.action', '=', query.action);
  if (query.userId) {
    const userId = query.userId;
    base = base.where((eb) => eb.or([eb('e.actor_id', '=', userId), eb('e.subject_user_id', '=', userId)]));
  }
  const [rows, total] = await Promise.all([
    base
      .leftJoin('users as actor', 'actor.id', 'e.actor_id')
      .leftJoin('users as subject', 'subject.id', 'e.subject_user_id')
      .select([
        'e.id',
        'e.action',
        'e.details',
        'e.ip',
        'e.created_at',
        'e.actor_id',
        'actor.email as actor_email',
        'e.subject_user_id',
        'subject.email as subject_email',
      ])
      .orderBy('e.created_at', 'desc')
      .orderBy('e.id', 'desc')
      .limit(query.limit)
      .offset((query.page - 1) * query.limit)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.count) };
}
