import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { Executor } from '../db/tenant.ts';
import type { Logger } from '../logger.ts';
import type { JobQueue } from '../queue/queue.ts';

export interface MailAttachment {
  filename: string;
  contentType: string;
  /** The bytes, base64. */
  content: string;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
  orgId?: string | undefined;
  /** Sealed in the job with the body; the outbox keeps their names only. */
  attachments?: MailAttachment[] | undefined;
}

export interface Mailer {
  readonly transport: 'smtp' | 'log';
  /**
   * Queues the mail as an `email:send` job in the caller's transaction (or on its own without
   * one): it is sent once that commits, and retried with backoff while the SMTP server refuses it.
   */
  send(mail: Mail, executor?: Executor): Promise<void>;
  close(): void;
}

/** Sealed mail as stored in the job: bodies carry single-use tokens, kept only hashed elsewhere. */
interface SealedMail {
  orgId: string | null;
  sealed: string;
}

/**
 * SMTP (nodemailer) when SMTP_URL is set. Otherwise the message is written to the log and to the
 * mail_outbox table, which is how a laptop install or a test reads a reset link. Over SMTP the
 * outbox keeps who/what/when but not the body.
 *
 * Mail goes out through the job queue (`email:send`): a mail server that is down delays mail
 * instead of losing it. The job's data is sealed (AES-256-GCM, a key derived from the JWT secret):
 * the queue table keeps jobs for days, and a password-reset link must not sit there readable.
 * At least once: a worker that dies between the SMTP server's answer and the job's completion
 * sends that mail again on retry.
 */
export function createMailer(
  config: Config,
  database: Database,
  queue: JobQueue,
  logger: Logger,
  secret: Uint8Array,
): Mailer {
  // nodemailer (5 MB resident) is loaded with the first mail, and only when SMTP is configured.
  const smtpUrl = config.smtpUrl;
  let smtp: Promise<Transporter> | undefined;
  const smtpTransport = (url: string) =>
    (smtp ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(url)));
  const key = Buffer.from(hkdfSync('sha256', secret, 'fresh-choice', 'email:send job data', 32));
  const transport = smtpUrl ? 'smtp' : 'log';

  async function record(mail: Mail) {
    await database.db
      .insertInto('mail_outbox')
      .values({
        org_id: mail.orgId ?? null,
        to_address: mail.to,
        subject: mail.subject,
        body: transport === 'log' ? mail.text : '(delivered by SMTP; the body is not kept)',
        transport,
        attachment_names: (mail.attachments ?? []).map((attachment) => attachment.filename),
      })
      .execute();
  }

  queue.define<SealedMail>({
    type: 'email:send',
    description: 'Send one e-mail (SMTP, or the log and mail_outbox without SMTP_URL)',
    // SMTP servers refuse for minutes at a time: 30 s, 1, 2, 4 … up to an hour between 8 tries.
    retryLimit: 7,
    retryDelaySeconds: 30,
    retryDelayMaxSeconds: 3600,
    expireInSeconds: 300,
    async run(job) {
      const mail = unseal(key, job.payload.sealed);
      if (smtpUrl) {
        const info = (await (
          await smtpTransport(smtpUrl)
        ).sendMail({
          from: config.mailFrom,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          attachments: (mail.attachments ?? []).map((attachment) => ({
            filename: attachment.filename,
            contentType: attachment.contentType,
            content: attachment.content,
            encoding: 'base64',
          })),
        })) as {
          messageId?: string;
        };
        await record(mail);
        return { transport, messageId: info.messageId ?? null };
      }
      job.logger.info(
        {
          mail: {
            to: mail.to,
            subject: mail.subject,
            text: mail.text,
            attachments: (mail.attachments ?? []).map((attachment) => attachment.filename),
          },
        },
        'mail (no SMTP_URL: logged only)',
      );
      await record(mail);
      return { transport };
    },
  });

  return {
    transport,
    async send(mail, executor) {
      await queue.enqueue(
        executor ?? database.db,
        'email:send',
        { orgId: mail.orgId ?? null, sealed: seal(key, mail) },
        { orgId: mail.orgId ?? null, priority: 'high' },
      );
      logger.debug({ to: mail.to, subject: mail.subject }, 'mail queued');
    },
    close() {
      void smtp?.then((smtpTransport) => smtpTransport.close());
    },
  };
}

function seal(key: Buffer, mail: Mail): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(mail), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function unseal(key: Buffer, sealed: string): Mail {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(
    Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'),
  ) as Mail;
}
