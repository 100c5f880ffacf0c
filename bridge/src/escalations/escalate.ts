import type { Transaction } from 'kysely';
import type { StoredApproval } from '../approvals/store.js';
import type { Notifier } from '../notifications/notifier.js';
import { type ApproverRef, type Policy, type PolicySet, escalationTargets, isParallel, managerOf } from '../policies/index.js';
import type { Database } from '../store/db.js';
import { addEscalation } from './store.js';

export interface EscalationAdditions {
  users: string[];
  roles: string[];
}

const namesManager = (refs: readonly ApproverRef[]) => refs.some((ref) => ref.kind === 'manager');

/** Whether the approval's open level (1-based) already asks the requester's manager. */
function levelAsksManager(policy: Policy, level: number): boolean {
  const open = policy.levels[Math.min(level, policy.levels.length) - 1];
  if (!open) return false;
  return isParallel(open) ? open.parallel.some((group) => namesManager(group.approvers)) : namesManager(open.approvers);
}

/**
 * Who escalation step `index` adds while level `level` is open. `manager` climbs one rung per step that names it:
 * the first such step reaches the requester's nearest available manager (or, when the open level already asks that
 * manager, the one above), the next one higher, and so on; absent managers and the requester are skipped
 * (skip-level) by managerOf.
 */
export function escalationAdditions(set: PolicySet, policy: Policy, index: number, requester: string | null, level: number): EscalationAdditions {
  const steps = policy.escalation ?? [];
  const step = steps[index];
  if (!step) return { users: [], roles: [] };
  const others = { ...step, to: step.to.filter((ref) => ref.kind !== 'manager') };
  const { users, roles } = escalationTargets(set, others, requester);
  if (namesManager(step.to) && requester !== null) {
    const rung = steps.slice(0, index + 1).filter((s) => namesManager(s.to)).length + (levelAsksManager(policy, level) ? 1 : 0);
    let manager: string | null = requester;
    for (let i = 0; i < rung && manager !== null; i++) manager = managerOf(set, manager, requester);
    if (manager !== null && !users.includes(manager)) users.push(manager);
  }
  return { users, roles: roles.map((role) => `role:${role}`) };
}

/**
 * Who a deadline that escalates hands the level to: the requester's nearest available manager and every
 * escalation step's targets.
 */
export function deadlineEscalationTargets(set: PolicySet, policy: Policy, requester: string | null, level: number): string[] {
  const manager = requester ? managerOf(set, requester, requester) : null;
  const targets = (policy.escalation ?? []).flatMap((_, i) => {
    const t = escalationAdditions(set, policy, i, requester, level);
    return [...t.users, ...t.roles];
  });
  return [...(manager ? [manager] : []), ...targets];
}

/** Adds approvers to the open level (those not added before) and tells them; returns who was added. */
export async function escalate(
  tx: Transaction<Database>,
  notifier: Notifier,
  approval: StoredApproval,
  step: number,
  approvers: string[],
  reason: string,
  at: string,
): Promise<string[]> {
  const added: string[] = [];
  for (const approver of new Set(approvers)) {
    if (approver === approval.requester) continue;
    if (await addEscalation(tx, { approval_id: approval.id, level: approval.level, step, approver, reason, at })) added.push(approver);
  }
  if (added.length > 0) await notifier.notify(tx, approval, 'escalation', added, at, reason);
  return added;
}
