import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { lastMailTo, registerStore } from '../../../test/helpers/auth.ts';
import { type LocalSmtp, startLocalSmtp } from '../../../test/helpers/smtp.ts';
import type { DB } from '../db/schema.ts';

/** A real SMTP server on loopback stands in for the mail provider. */
describe('mail over SMTP', () => {
  /** Recipients the server turns away with a temporary failure, as a busy server does. */
  const refused = new Set<string>();
  let smtp: LocalSmtp;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startLocalSmtp({ refuse: refused });
    t = await createTestApp({
      smtpUrl: smtp.url,
      mailFrom: 'Fresh Choice <shop@example.com>',
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('delivers the reset mail through SMTP and keeps only its envelope in the outbox', async () => {
    const admin = await registerStore(t.app);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/forgot-password',
      payload: { email: admin.user.email },
    });
    expect(response.statusCode).toBe(200);
    // Sent by the email:send job once the request's transaction committed.
    const { mail: outbox } = await lastMailTo(t.testDatabase.database, admin.user.email);
    const mail = smtp.received.find((message) => message.to.includes(admin.user.email));
    expect(mail?.from).toBe('shop@example.com');
    const token = /Reset token: (\S+)/.exec(mail!.raw)?.[1];
    expect(token).toBeTruthy();

    expect(outbox?.transport).toBe('smtp');
    expect(outbox?.body).not.toContain(token);

    const reset = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/reset-password',
      payload: { token, newPassword: 'delivered by smtp' },
    });
    expect(reset.statusCode).toBe(200);
  });

  it('keeps a refused mail queued for a retry, sealed so its token cannot be read from the queue', async () => {
    const admin = await registerStore(t.app);
    refused.add(admin.user.email);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/forgot-password',
      payload: { email: admin.user.email },
    });
    expect(response.statusCode).toBe(200);
    const db = t.testDatabase.database.db;
    const job = await waitForJob(db, (row) => row.state === 'retry');
    expect(job.output).toMatchObject({ message: expect.stringContaining('mailbox busy') });
    expect(job.start_after.getTime()).toBeGreaterThan(Date.now() + 10_000);
    expect(JSON.stringify(job.data)).not.toContain('Reset token');
    expect(JSON.stringify(job.data)).not.toContain(admin.user.email);
    expect(smtp.received.some((message) => message.to.includes(admin.user.email))).toBe(false);
  });
});

interface EmailJobRow {
  state: string;
  output: Record<string, unknown> | null;
  data: unknown;
  start_after: Date;
}

async function waitForJob(db: Kysely<DB>, done: (row: EmailJobRow) => boolean): Promise<EmailJobRow> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await sql<EmailJobRow>`
      select state::text as state, output, data, start_after from pgboss.job
       where name = 'email.send' order by created_on desc limit 1`.execute(db);
    if (rows[0] && done(rows[0])) return rows[0];
    if (Date.now() > deadline) throw new Error(`email job not as expected: ${JSON.stringify(rows[0])}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
