import nodemailer from 'nodemailer';
import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  orgId?: string | undefined;
}

export interface Mailer {
  readonly transport: 'smtp' | 'log';
  /** Never throws: a mail that cannot be sent is logged, not turned into a failed request. */
  send(mail: Mail): Promise<void>;
  close(): void;
}

/**
 * SMTP (nodemailer) when SMTP_URL is set. Otherwise the message is written to the log and to the
 * mail_outbox table, which is how a laptop install or a test reads a reset link. Over SMTP the
 * outbox keeps who/what/when but not the body: bodies carry single-use tokens, which are stored
 * only hashed.
 */
export function createMailer(config: Config, database: Database, logger: Logger): Mailer {
  const smtp = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : undefined;

  async function record(mail: Mail, transport: 'smtp' | 'log') {
    await database.db
      .insertInto('mail_outbox')
      .values({
        org_id: mail.orgId ?? null,
        to_address: mail.to,
        subject: mail.subject,
        body: transport === 'log' ? mail.text : '(delivered by SMTP; the body is not kept)',
        transport,
      })
      .execute();
  }

  return {
    transport: smtp ? 'smtp' : 'log',
    async send(mail) {
      try {
        if (smtp) {
          await smtp.sendMail({ from: config.mailFrom, to: mail.to, subject: mail.subject, text: mail.text });
        } else {
          logger.info(
            { mail: { to: mail.to, subject: mail.subject, text: mail.text } },
            'mail (no SMTP_URL: logged only)',
          );
        }
        await record(mail, smtp ? 'smtp' : 'log');
      } catch (error) {
        logger.error({ err: error, to: mail.to, subject: mail.subject }, 'mail could not be sent');
      }
    },
    close() {
      smtp?.close();
    },
  };
}
