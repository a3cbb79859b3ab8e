import type { Transporter } from 'nodemailer';
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
  // nodemailer (5 MB resident) is loaded with the first mail, and only when SMTP is configured.
  const smtpUrl = config.smtpUrl;
  let smtp: Promise<Transporter> | undefined;
  const smtpTransport = (url: string) =>
    (smtp ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(url)));

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
    transport: smtpUrl ? 'smtp' : 'log',
    async send(mail) {
      try {
        if (smtpUrl) {
          await (
            await smtpTransport(smtpUrl)
          ).sendMail({ from: config.mailFrom, to: mail.to, subject: mail.subject, text: mail.text });
        } else {
          logger.info(
            { mail: { to: mail.to, subject: mail.subject, text: mail.text } },
            'mail (no SMTP_URL: logged only)',
          );
        }
        await record(mail, smtpUrl ? 'smtp' : 'log');
      } catch (error) {
        logger.error({ err: error, to: mail.to, subject: mail.subject }, 'mail could not be sent');
      }
    },
    close() {
      void smtp?.then((transport) => transport.close());
    },
  };
}
