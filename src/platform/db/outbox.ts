import type { Executor } from './tenant.ts';

export interface OutboxEvent {
  type: string;
  payload: Record<string, unknown>;
}

/**
 * Events for the transactional outbox (`outbox_events`), written in the caller's transaction so
 * they exist exactly when the change that caused them commits. Delivery (NOTIFY, WebSocket)
 * reads them from there; every module writes its events through this one function.
 */
export async function writeOutboxEvents(db: Executor, orgId: string, events: readonly OutboxEvent[]) {
  if (events.length === 0) return;
  await db
    .insertInto('outbox_events')
    .values(
      events.map((event) => ({ org_id: orgId, type: event.type, payload: JSON.stringify(event.payload) })),
    )
    .execute();
}
