import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/platform/db/database.ts';

export const PASSWORD = 'correct horse battery staple';

export interface Session {
  user: {
    id: string;
    email: string;
    username: string;
    role: string;
    permissions: string[];
    organization: { id: string; name: string };
  };
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export const bearer = (session: Pick<Session, 'accessToken'>) => ({
  authorization: `Bearer ${session.accessToken}`,
});

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(4).toString('hex')}@example.com`;
}

/** Registers a new store and its admin through the API. */
export async function registerStore(app: FastifyInstance, companyName = 'Green Grocer'): Promise<Session> {
  const email = uniqueEmail('admin');
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/register',
    payload: {
      email,
      username: `admin ${email.slice(6, 14)}`,
      password: PASSWORD,
      companyName,
      acceptTerms: true,
    },
  });
  if (response.statusCode !== 201)
    throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  return response.json<{ data: Session }>().data;
}

export async function login(app: FastifyInstance, email: string, password = PASSWORD, rememberMe?: boolean) {
  return app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password, rememberMe } });
}

/**
 * The newest message to `to` in the mail outbox, and the token it carries. Mail goes out through
 * the job queue, so this waits (up to 20 s) for the `email:send` job to have written it.
 */
export async function lastMailTo(database: Database, to: string, { wait = true } = {}) {
  const deadline = wait ? Date.now() + 20_000 : 0;
  for (;;) {
    const row = await database.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('to_address', '=', to)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row || Date.now() > deadline) {
      const token = row?.body.match(/token: (\S+)/)?.[1];
      return { mail: row, token };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Invites a member as `admin` and lets them set their password; returns their session. */
export async function addMember(
  app: FastifyInstance,
  database: Database,
  admin: Session,
  role: string,
): Promise<Session> {
  const email = uniqueEmail(role);
  const invited = await app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: bearer(admin),
    payload: { email, username: `${role} ${email.slice(-20, -12)}`, role },
  });
  if (invited.statusCode !== 201) throw new Error(`invite failed: ${invited.statusCode} ${invited.body}`);
  const { token } = await lastMailTo(database, email);
  const reset = await app.inject({
    method: 'POST',
    url: '/v1/auth/reset-password',
    payload: { token, newPassword: PASSWORD },
  });
  if (reset.statusCode !== 200) throw new Error(`accepting invitation failed: ${reset.body}`);
  const signedIn = await login(app, email);
  return signedIn.json<{ data: Session }>().data;
}
