import type { StoredApproval } from '../approvals/store.js';
import { type ApproverRef, type PolicySet, approverRoles, isParallel, knownApprovers, levelContextOf, mayDecide, selectPolicy } from '../policies/index.js';

/**
 * Who is asked to decide the approval's open level now: the people its policy names (roles as `role:NAME`
 * addressees, since only Airflow knows who holds a role) and anyone an escalation added, without the requester
 * when the policy forbids self-approval or those its segregation of duties bars (they could not vote anyway).
 */
export function currentApprovers(set: PolicySet, approval: StoredApproval, escalated: readonly string[]): string[] {
  const policy = selectPolicy(set, approval);
  if (!policy) return [];
  const level = policy.levels[Math.min(approval.level, policy.levels.length) - 1]!;
  const refs: ApproverRef[] = (isParallel(level) ? level.parallel : [level]).flatMap((group) => [...group.approvers]);
  const ctx = levelContextOf(set, policy, approval);
  const people = knownApprovers(set, refs, approval.requester).filter((user) => mayDecide(ctx, user));
  const roles = approverRoles(refs).map((role) => `role:${role}`);
  return [...new Set([...people, ...roles, ...escalated])];
}
