import { ErrorCode, WebClient } from '@slack/web-api';
import { asksForDecision } from '../../notifications/render.js';
import { type OutgoingMessage, PermanentDeliveryError, type Sender } from '../types.js';
import { messageBlocks } from './blocks.js';

// Slack errors that no retry fixes: the recipient or the app's access is wrong.
const PERMANENT = new Set(['channel_not_found', 'user_not_found', 'not_in_channel', 'invalid_auth', 'account_inactive', 'token_revoked', 'is_archived', 'invalid_blocks']);

/** A Slack WebClient that leaves retrying to the delivery worker, so attempts are counted and visible. */
export const slackClient = (token: string, slackApiUrl?: string) =>
  new WebClient(token, { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, ...(slackApiUrl ? { slackApiUrl } : {}) });

/** Posts a Block Kit message to the recipient's Slack id (a DM from the app), with a button per option. */
export class SlackSender implements Sender {
  constructor(private readonly client: WebClient) {}

  async send({ notification, approval, address }: OutgoingMessage): Promise<void> {
    try {
      await this.client.chat.postMessage({
        channel: address,
        text: notification.subject,
        blocks: messageBlocks(notification, approval, asksForDecision(notification.kind) && approval.state === 'pending'),
        unfurl_links: false,
      });
    } catch (err) {
      const code = (err as { code?: string; data?: { error?: string } }).code;
      const slackError = (err as { data?: { error?: string } }).data?.error;
      if (code === ErrorCode.PlatformError && slackError && PERMANENT.has(slackError)) throw new PermanentDeliveryError(`slack: ${slackError}`);
      throw err;
    }
  }
}
