import { voteSummary } from '../approvals/service.js';
import type { StoredApproval } from '../approvals/store.js';

export const NOTIFICATION_KINDS = ['request', 'reminder', 'escalation', 'sla_warning', 'sla_breach', 'deadline', 'decided'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Messages that ask the recipient to decide, and so carry the options (as buttons or links where the channel can). */
export const asksForDecision = (kind: string): boolean => ['request', 'reminder', 'escalation', 'sla_warning'].includes(kind);

const PREFIX: Record<NotificationKind, string> = {
  request: 'Approval needed',
  reminder: 'Reminder: approval still needed',
  escalation: 'Escalated to you',
  sla_warning: 'Deadline soon',
  sla_breach: 'Deadline passed',
  deadline: 'Deadline outcome',
  decided: 'Decided',
};

export interface RenderedText {
  subject: string;
  text: string;
}

/** The channel-neutral message: what the bridge's list of messages stores and every channel starts from. */
export function renderNotification(kind: NotificationKind, approval: StoredApproval, note?: string): RenderedText {
  const where = `${approval.dag_id} / ${approval.task_id} (run ${approval.run_id}${approval.map_index >= 0 ? `, map ${approval.map_index}` : ''})`;
  const lines = [where];
  if (approval.body) lines.push('', approval.body);
  if (kind === 'decided' || kind === 'deadline') {
    lines.push('', `State: ${approval.state}${approval.outcome ? ` (${approval.outcome.option})` : ''}`);
    for (const vote of approval.votes.filter((v) => !v.replaced)) {
      lines.push(`- ${voteSummary(vote)}`);
    }
  } else {
    lines.push('', `Options: ${approval.options.join(', ')}`);
    if (approval.due_at) lines.push(`Due: ${approval.due_at}`);
  }
  if (note) lines.push('', note);
  const subject = kind === 'decided' ? `${capitalise(approval.state)}: ${approval.subject}` : `${PREFIX[kind]}: ${approval.subject}`;
  return { subject, text: lines.join('\n') };
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
