import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { lastMailTo, registerStore } from '../../../test/helpers/auth.ts';

/** A real SMTP server on loopback stands in for the mail provider. */
describe('mail over SMTP', () => {
  const received: Array<{ from: string; to: string[]; raw: string }> = [];
  let server: SMTPServer;
  let t: TestApp;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (chunk: Buffer) => {
          raw += chunk.toString();
        });
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            raw,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    t = await createTestApp({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      mailFrom: 'Fresh Choice <shop@example.com>',
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('delivers the reset mail through SMTP and keeps only its envelope in the outbox', async () => {
    const admin = await registerStore(t.app);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/forgot-password',
      payload: { email: admin.user.email },
    });
    expect(response.statusCode).toBe(200);
    const mail = received.find((message) => message.to.includes(admin.user.email));
    expect(mail?.from).toBe('shop@example.com');
    const token = /Reset token: (\S+)/.exec(mail!.raw)?.[1];
    expect(token).toBeTruthy();

    const { mail: outbox } = await lastMailTo(t.testDatabase.database, admin.user.email);
    expect(outbox?.transport).toBe('smtp');
    expect(outbox?.body).not.toContain(token);

    const reset = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/reset-password',
      payload: { token, newPassword: 'delivered by smtp' },
    });
    expect(reset.statusCode).toBe(200);
  });
});
