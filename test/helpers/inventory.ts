import type { FastifyInstance } from 'fastify';
import { bearer, type Session } from './auth.ts';

export async function createItem(app: FastifyInstance, session: Session, body: Record<string, unknown>) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/inventory',
    headers: bearer(session),
    payload: { category: 'Produce', ...body },
  });
  if (response.statusCode !== 201) throw new Error(`create failed: ${response.statusCode} ${response.body}`);
  return response.json<{ data: { id: string; remainingStock: number; lots: Array<{ id: string }> } }>().data;
}

export function adjust(
  app: FastifyInstance,
  session: Session,
  id: string,
  payload: object,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: `/v1/inventory/${id}/adjust-stock`,
    headers: { ...bearer(session), ...headers },
    payload,
  });
}
