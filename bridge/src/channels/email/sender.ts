import nodemailer, { type Transporter } from 'nodemailer';
import { asksForDecision } from '../../notifications/render.js';
import { esc } from '../html.js';
import type { LinkTokens } from '../links/tokens.js';
import { type OutgoingMessage, PermanentDeliveryError, type Sender } from '../types.js';

/** SMTP replies that no retry will change: the mailbox or the message itself was refused. */
const isPermanent = (err: unknown) => {
  const code = (err as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
};

/**
 * Email over SMTP (`SMTP_URL`, e.g. smtp://user:pass@mail:587). A message that asks for a decision carries one
 * button per option: a one-click link bound to the recipient, opening a confirmation page.
 */
export class EmailSender implements Sender {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    private readonly links: LinkTokens,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(message: OutgoingMessage): Promise<void> {
    const { notification, approval, address } = message;
    const buttons = asksForDecision(notification.kind) && approval.state === 'pending' ? await this.links.forMessage(approval, notification.recipient, 'email') : [];
    const text = [notification.text, ...(buttons.length ? ['', ...buttons.map((b) => `${b.option}: ${b.url}`)] : [])].join('\n');
    const html = `<div style="font-family:system-ui,sans-serif"><p style="white-space:pre-wrap">${esc(notification.text)}</p>${buttons
      .map((b) => `<a href="${esc(b.url)}" style="display:inline-block;margin:4px;padding:10px 18px;border-radius:4px;background:#2b6cb0;color:#fff;text-decoration:none">${esc(b.option)}</a>`)
      .join('')}</div>`;
    try {
      await this.transport.sendMail({
        from: this.from,
        to: address,
        subject: notification.subject,
        text,
        html,
        headers: { 'X-Airgate-Approval': approval.id, 'X-Airgate-Delivery': String(message.deliveryId) },
      });
    } catch (err) {
      if (isPermanent(err)) throw new PermanentDeliveryError((err as Error).message);
      throw err;
    }
  }

  close(): void {
    this.transport.close();
  }
}
