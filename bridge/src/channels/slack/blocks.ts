import type { ActionsBlock, Button, KnownBlock, ModalView, SectionBlock } from '@slack/web-api';
import type { StoredApproval } from '../../approvals/store.js';
import { isRejecting } from '../../policies/index.js';
import type { StoredNotification } from '../types.js';

/** What a button carries back: the approval and the option, nothing that identifies the voter (Slack does). */
export interface ButtonValue {
  a: string;
  o: string;
}

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** The Block Kit message: the summary and, while the approval waits, one button per option. */
export function messageBlocks(notification: StoredNotification, approval: StoredApproval, withButtons: boolean): KnownBlock[] {
  const blocks: KnownBlock[] = [section(`*${escapeMrkdwn(notification.subject)}*\n${escapeMrkdwn(notification.text)}`)];
  if (withButtons) {
    const actions: ActionsBlock = {
      type: 'actions',
      block_id: 'airgate_vote',
      elements: approval.options.map((option, i): Button => ({
        type: 'button',
        action_id: `vote_${i}`,
        text: { type: 'plain_text', text: option },
        value: JSON.stringify({ a: approval.id, o: option } satisfies ButtonValue),
        ...(isRejecting(option) ? { style: 'danger' as const } : i === 0 ? { style: 'primary' as const } : {}),
      })),
    };
    blocks.push(actions);
  }
  return blocks;
}

/** The message once someone decided through it: the buttons are replaced by who chose what. */
export function decidedBlocks(approval: StoredApproval, by: string, option: string): KnownBlock[] {
  return [
    section(`*${escapeMrkdwn(approval.subject)}*\n${escapeMrkdwn(`${approval.dag_id} / ${approval.task_id} (run ${approval.run_id})`)}`),
    { type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`${option} by ${by} via Slack · the approval is ${approval.state}`) }] },
  ];
}

/** The modal asking for a reason; what it needs to finish the vote rides in private_metadata. */
export function reasonModal(meta: ReasonMeta, required: boolean): ModalView {
  return {
    type: 'modal',
    callback_id: 'airgate_reason',
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: 'Reason' },
    submit: { type: 'plain_text', text: meta.o.slice(0, 24) },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'reason',
        optional: !required,
        label: { type: 'plain_text', text: `Why ${meta.o}?` },
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: 2000 },
      },
    ],
  };
}

export interface ReasonMeta extends ButtonValue {
  /** Channel and ts of the message to update once decided. */
  c: string;
  t: string;
}

// Slack's mrkdwn treats these three as markup; everything else is literal.
const escapeMrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
