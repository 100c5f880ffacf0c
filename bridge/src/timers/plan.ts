import type { StoredApproval } from '../approvals/store.js';
import { type Policy, type PolicySet, dueAt, nextReminderAt, selectPolicy, slaWarningAt } from '../policies/index.js';

export const TIMER_KINDS = ['notify', 'reminder', 'escalation', 'sla_warning', 'deadline'] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

export interface PlannedTimer {
  kind: TimerKind;
  /** Unique per approval and kind, so planning the same moment twice (replicas, restarts, sweeps) adds it once. */
  key: string;
  due_at: string;
}

/**
 * The moments still ahead for a pending approval: telling the open level's approvers (now), the next reminder,
 * each escalation step, the SLA warning and the deadline. Times come from the approval's creation, so every replica
 * plans the same rows.
 */
export function planTimers(set: PolicySet, approval: StoredApproval, now: Date): PlannedTimer[] {
  const timers: PlannedTimer[] = [{ kind: 'notify', key: `level:${approval.level}`, due_at: now.toISOString() }];
  const policy = selectPolicy(set, approval);
  if (!policy) return timers;
  const created = new Date(approval.created_at);
  const reminder = nextReminderAt(policy, created, now);
  if (reminder) timers.push(reminderTimer(reminder));
  for (const [index, step] of (policy.escalation ?? []).entries()) {
    timers.push({ kind: 'escalation', key: `step:${index}`, due_at: new Date(created.getTime() + step.after).toISOString() });
  }
  const warning = slaWarningAt(policy, created);
  if (warning) timers.push({ kind: 'sla_warning', key: 'sla', due_at: warning.toISOString() });
  const due = approval.policy_due_at ?? dueAt(policy, created)?.toISOString();
  if (due) timers.push({ kind: 'deadline', key: 'deadline', due_at: due });
  return timers;
}

export const reminderTimer = (at: Date): PlannedTimer => ({ kind: 'reminder', key: at.toISOString(), due_at: at.toISOString() });

/** The option a deadline answers with, or null when the task fails instead (or the policy escalates). */
export function deadlineOption(policy: Policy, options: readonly string[], isRejecting: (o: string) => boolean): string | 'fail' | 'escalate' {
  const action = policy.deadline?.action;
  if (!action || action === 'fail') return 'fail';
  if (action === 'escalate') return 'escalate';
  // An option the request does not offer cannot be answered: failing the task is the honest outcome.
  if (typeof action === 'object') return options.includes(action.option) ? action.option : 'fail';
  const found = options.find((o) => (action === 'reject' ? isRejecting(o) : !isRejecting(o)));
  return found ?? 'fail';
}
