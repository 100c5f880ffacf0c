import { hmacHex } from '../signatures.js';
import { type OutgoingMessage, PermanentDeliveryError, type Sender } from '../types.js';

/**
 * `sha256=HMAC(secret, timestamp + '.' + delivery id + '.' + body)`: what receivers recompute over the raw body.
 * The delivery id is signed so a captured request re-sent under a new id (to dodge the once-per-id rule) fails.
 */
export const webhookSignature = (secret: string, timestamp: string, deliveryId: string, body: string | Buffer): string =>
  `sha256=${hmacHex(secret, Buffer.concat([Buffer.from(`${timestamp}.${deliveryId}.`), Buffer.isBuffer(body) ? body : Buffer.from(body)]))}`;

/** The `webhook` channel: every message as signed JSON to one URL, for systems that route it on themselves. */
export class WebhookSender implements Sender {
  constructor(
    private readonly secret: string,
    private readonly now: () => Date = () => new Date(),
    private readonly timeoutMs = 10_000,
  ) {}

  async send({ deliveryId, notification, approval, address }: OutgoingMessage): Promise<void> {
    const body = JSON.stringify({
      delivery_id: deliveryId,
      message: { id: notification.id, kind: notification.kind, recipient: notification.recipient, subject: notification.subject, text: notification.text, created_at: notification.created_at },
      approval: {
        id: approval.id,
        dag_id: approval.dag_id,
        run_id: approval.run_id,
        task_id: approval.task_id,
        map_index: approval.map_index,
        subject: approval.subject,
        options: approval.options,
        state: approval.state,
        due_at: approval.due_at,
      },
    });
    const timestamp = String(Math.floor(this.now().getTime() / 1000));
    const delivery = String(deliveryId);
    const res = await fetch(address, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Airgate-Timestamp': timestamp,
        'X-Airgate-Signature': webhookSignature(this.secret, timestamp, delivery, body),
        'X-Airgate-Delivery': delivery,
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.ok) return;
    const error = `webhook answered ${res.status}`;
    // A receiver that refuses the request itself will keep refusing it; rate limits and server errors pass.
    if (res.status >= 400 && res.status < 500 && ![408, 429].includes(res.status)) throw new PermanentDeliveryError(error);
    throw new Error(error);
  }
}
