import type { PolicySet } from './load.js';
import type { AirflowRole, ApproverRef, EscalationStep } from './schema.js';

/** Someone who votes, as their Airflow token names them. */
export interface Voter {
  readonly user: string;
  readonly role: string | null;
}

/**
 * The nearest manager above `person` who can act on a request: absent people are skipped (skip-level), and so is
 * the requester, who never approves their own request by being someone's manager. Null at the top of the hierarchy.
 * The walk ends because the file is refused at load when the hierarchy has a cycle.
 */
export function managerOf(set: PolicySet, person: string, requester: string | null = null): string | null {
  for (let next = set.managers.get(person); next !== undefined; next = set.managers.get(next)) {
    if (!set.absent.has(next) && next !== requester) return next;
  }
  return null;
}

// Resolved on every call, never cached with the approval: editing a group or the hierarchy changes who may
// decide the approvals already pending.
function* people(set: PolicySet, refs: readonly ApproverRef[], requester: string | null): Generator<string> {
  for (const ref of refs) {
    if (ref.kind === 'user') yield ref.name;
    else if (ref.kind === 'group') yield* set.groups.get(ref.name) ?? [];
    else if (ref.kind === 'manager' && requester !== null) {
      const manager = managerOf(set, requester, requester);
      if (manager !== null) yield manager;
    }
  }
}

/**
 * The people `refs` name through user:, group: and manager (the requester's manager), without duplicates.
 * Roles are not expanded: Airflow owns who has a role, so role holders are only recognised when they vote
 * (see isEligible) and listed separately by approverRoles.
 */
export function knownApprovers(set: PolicySet, refs: readonly ApproverRef[], requester: string | null): string[] {
  return [...new Set(people(set, refs, requester))];
}

export function approverRoles(refs: readonly ApproverRef[]): AirflowRole[] {
  return [...new Set(refs.flatMap((ref) => (ref.kind === 'role' ? [ref.name] : [])))];
}

/**
 * Whether `voter` is one of the approvers `refs` name, now. A role matches exactly (role:op does not admit an
 * admin): an approval list names who decides, it is not a permission hierarchy. Self-approval is a separate rule.
 */
export function isEligible(set: PolicySet, refs: readonly ApproverRef[], voter: Voter, requester: string | null): boolean {
  const role = voter.role?.toLowerCase();
  return refs.some((ref) => ref.kind === 'role' && ref.name === role) || knownApprovers(set, refs, requester).includes(voter.user);
}

export interface EscalationTargets {
  readonly users: string[];
  readonly roles: AirflowRole[];
}

/**
 * Who an escalation step alerts, resolved like approvers (`manager` is the requester's nearest available
 * manager). Escalation widens who is told, not who may decide: a level's approvers stay as the policy names them.
 */
export function escalationTargets(set: PolicySet, step: EscalationStep, requester: string | null): EscalationTargets {
  return { users: knownApprovers(set, step.to, requester), roles: approverRoles(step.to) };
}
