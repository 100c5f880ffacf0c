import { asksForDecision } from '../../notifications/render.js';
import type { LinkTokens } from '../links/tokens.js';
import { type OutgoingMessage, PermanentDeliveryError, type Sender } from '../types.js';

/**
 * Microsoft Teams: an Adaptive Card POSTed to the recipient's incoming-webhook / Workflows URL. Decisions come back
 * through one-click links bound to the recipient (Action.OpenUrl opens the confirmation page), recorded as `teams`.
 */
export class TeamsSender implements Sender {
  constructor(
    private readonly links: LinkTokens,
    private readonly timeoutMs = 10_000,
  ) {}

  async send({ notification, approval, address }: OutgoingMessage): Promise<void> {
    const buttons = asksForDecision(notification.kind) && approval.state === 'pending' ? await this.links.forMessage(approval, notification.recipient, 'teams') : [];
    const card = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body: [
        { type: 'TextBlock', text: notification.subject, weight: 'Bolder', size: 'Medium', wrap: true },
        { type: 'TextBlock', text: notification.text, wrap: true },
      ],
      actions: buttons.map((b) => ({ type: 'Action.OpenUrl', title: b.option, url: b.url })),
    };
    const res = await fetch(address, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.ok) return;
    const error = `teams answered ${res.status}`;
    if (res.status >= 400 && res.status < 500 && ![408, 429].includes(res.status)) throw new PermanentDeliveryError(error);
    throw new Error(error);
  }
}
