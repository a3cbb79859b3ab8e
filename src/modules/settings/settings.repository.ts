import type { Executor } from '../../platform/db/tenant.ts';
import type { Settings } from './settings.schemas.ts';

export async function readSettings(db: Executor, orgId: string): Promise<Record<string, unknown>> {
  const row = await db
    .selectFrom('organizations')
    .select('settings')
    .where('id', '=', orgId)
    .executeTakeFirst();
  return row?.settings ?? {};
}

export async function writeSettings(db: Executor, orgId: string, settings: Settings): Promise<void> {
  await db
    .updateTable('organizations')
    .set({ settings: JSON.stringify(settings), updated_at: new Date() })
    .where('id', '=', orgId)
    .execute();
}
