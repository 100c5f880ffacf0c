import type { EscalationStep, Policy } from './schema.js';

// The model of an approval's clock. Timers in the store fire these moments; keeping the arithmetic here means
// every replica, and a restarted one, computes the same times from the approval's creation.

const after = (start: Date, ms: number): Date => new Date(start.getTime() + ms);

/** When the policy's deadline action applies, or null when the policy has no deadline. */
export function dueAt(policy: Policy, createdAt: Date): Date | null {
  return policy.deadline ? after(createdAt, policy.deadline.after) : null;
}

/** When to warn that the deadline is near, or null without an SLA. */
export function slaWarningAt(policy: Policy, createdAt: Date): Date | null {
  return policy.sla && policy.deadline ? after(createdAt, policy.deadline.after - policy.sla.warn_before) : null;
}

/**
 * The first reminder strictly after `now` (so a timer that just fired finds the one after it): reminders fall
 * every `reminders.every` from creation and stop before the deadline. Null without reminders or when none is left.
 */
export function nextReminderAt(policy: Policy, createdAt: Date, now: Date): Date | null {
  if (!policy.reminders) return null;
  const { every } = policy.reminders;
  const elapsed = Math.max(0, now.getTime() - createdAt.getTime());
  const next = after(createdAt, (Math.floor(elapsed / every) + 1) * every);
  const due = dueAt(policy, createdAt);
  return due && next >= due ? null : next;
}

export interface DueEscalation {
  /** Position in the policy's escalation list; what a timer records as fired. */
  readonly index: number;
  readonly step: EscalationStep;
  readonly at: Date;
}

/** Every escalation step with when it falls, in order. */
export function escalationSchedule(policy: Policy, createdAt: Date): DueEscalation[] {
  return (policy.escalation ?? []).map((step, index) => ({ index, step, at: after(createdAt, step.after) }));
}

/** The escalation steps whose time has come by `now`, in order; the caller skips those it already fired. */
export function escalationDue(policy: Policy, createdAt: Date, now: Date): DueEscalation[] {
  return escalationSchedule(policy, createdAt).filter((due) => due.at <= now);
}
