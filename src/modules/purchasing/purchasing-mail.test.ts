import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSmtp, startLocalSmtp } from '../../../test/helpers/smtp.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { lastMailTo, registerStore } from '../../../test/helpers/auth.ts';
import { createItem } from '../../../test/helpers/inventory.ts';
import { createPo, insertVendor, poAction } from '../../../test/helpers/purchasing.ts';

/** The attachments of a raw MIME message: name, type and decoded bytes of each base64 part. */
function attachmentsOf(raw: string) {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  if (!boundary) return [];
  return raw
    .split(`--${boundary}`)
    .map((part) => {
      const [head = '', ...body] = part.split(/\r?\n\r?\n/);
      const filename = /filename="?([^";\r\n]+)"?/i.exec(head)?.[1];
      if (!filename || !/content-transfer-encoding:\s*base64/i.test(head)) return undefined;
      return {
        filename,
        contentType: /content-type:\s*([^;\r\n]+)/i.exec(head)?.[1]?.trim(),
        bytes: Buffer.from(body.join('\n').replace(/\s+/g, ''), 'base64'),
      };
    })
    .filter((attachment) => attachment !== undefined);
}

/** A real SMTP server on loopback receives the vendor's mail. */
describe('sending a purchase order by e-mail', () => {
  let smtp: LocalSmtp;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startLocalSmtp();
    t = await createTestApp({ smtpUrl: smtp.url, mailFrom: 'Shop <shop@example.com>' });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('mails the PDF as an attachment to the vendor once the order is sent', async () => {
    const admin = await registerStore(t.app, 'Corner Shop');
    const vendor = await insertVendor(t.testDatabase.database, admin, { email: 'sales@farm.example' });
    const item = await createItem(t.app, admin, { description: 'Leeks', unitCost: 0.4 });
    const po = await createPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: item.id, quantity: 20 }],
    });
    const sent = await poAction(t.app, admin, po.id, 'send', {});
    expect(sent.statusCode).toBe(200);

    const { mail: outbox } = await lastMailTo(t.testDatabase.database, 'sales@farm.example');
    expect(outbox).toMatchObject({
      transport: 'smtp',
      subject: `Purchase order ${po.poNumber} from Corner Shop`,
      attachment_names: [`${po.poNumber}.pdf`],
    });
    const mail = smtp.received.find((message) => message.to.includes('sales@farm.example'));
    expect(mail?.raw).toContain(po.poNumber);
    const [attachment] = attachmentsOf(mail!.raw);
    expect(attachment).toMatchObject({ filename: `${po.poNumber}.pdf`, contentType: 'application/pdf' });
    expect(attachment!.bytes.subarray(0, 5).toString()).toBe('%PDF-');

    // `to` overrides the vendor's address.
    const second = await createPo(t.app, admin, {
      vendorId: vendor.id,
      lines: [{ itemId: item.id, quantity: 5 }],
    });
    expect((await poAction(t.app, admin, second.id, 'send', { to: 'buyer@farm.example' })).statusCode).toBe(
      200,
    );
    const { mail: redirected } = await lastMailTo(t.testDatabase.database, 'buyer@farm.example');
    expect(redirected?.attachment_names).toEqual([`${second.poNumber}.pdf`]);
  });
});
