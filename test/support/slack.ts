/** Helpers for Slack in scenarios: what the bridge posted to the suite's stand-in for Slack's Web API, and Slack's signed interactions. */
import { createHmac } from 'node:crypto';
import { SLACK_API_PATH, channelSecrets, receivedChats } from './chat.js';
import { stack } from './clients.js';

/** Posts a Slack interaction payload to the bridge, signed with the suite's Slack signing secret (or a wrong one). */
export async function slackInteraction(payload: Record<string, unknown>, secret = channelSecrets.SLACK_SIGNING_SECRET) {
  const raw = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${raw}`).digest('hex')}`;
  const res = await fetch(`${stack().bridgeUrl}/channels/slack/interactions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Request-Timestamp': timestamp, 'X-Slack-Signature': signature },
    body: raw,
  });
  return res.status;
}

/** The arguments of every call of Slack Web API `method` (e.g. chat.postMessage) the bridge made, oldest first. */
export const slackCalls = (method: string) =>
  receivedChats(stack().chatDir)
    .filter((post) => post.path === `${SLACK_API_PATH}${method}`)
    .map((post) => post.body as Record<string, any>);

/**
 * What breaks Slack's documented Block Kit limits in a message's blocks (at most 50 blocks; a section's text
 * 3000 characters; an actions block 25 elements; a button's text 75, its value 2000, its action_id 255, its
 * style primary or danger; action_ids unique), as readable problems; empty when the payload is valid.
 */
export function blockKitProblems(blocks: Array<Record<string, any>>): string[] {
  const problems: string[] = [];
  if (blocks.length === 0 || blocks.length > 50) problems.push(`${blocks.length} blocks`);
  const actionIds = new Set<string>();
  blocks.forEach((block, i) => {
    if (block.type === 'section') {
      if (!['mrkdwn', 'plain_text'].includes(block.text?.type)) problems.push(`block ${i}: text type ${block.text?.type}`);
      if (!(block.text?.text?.length > 0 && block.text.text.length <= 3000)) problems.push(`block ${i}: text of ${block.text?.text?.length} characters`);
    } else if (block.type === 'actions') {
      if (!(block.elements?.length > 0 && block.elements.length <= 25)) problems.push(`block ${i}: ${block.elements?.length} elements`);
      for (const button of block.elements ?? []) {
        if (button.type !== 'button') problems.push(`block ${i}: element type ${button.type}`);
        if (button.text?.type !== 'plain_text' || !(button.text.text?.length > 0 && button.text.text.length <= 75)) problems.push(`block ${i}: button text ${JSON.stringify(button.text)}`);
        if (typeof button.value !== 'string' || button.value.length > 2000) problems.push(`block ${i}: button value ${button.value}`);
        if (typeof button.action_id !== 'string' || button.action_id.length > 255 || actionIds.has(button.action_id)) problems.push(`block ${i}: action_id ${button.action_id}`);
        actionIds.add(button.action_id);
        if (button.style !== undefined && !['primary', 'danger'].includes(button.style)) problems.push(`block ${i}: style ${button.style}`);
      }
    } else if (block.type !== 'context') {
      problems.push(`block ${i}: type ${block.type}`);
    }
  });
  return problems;
}
