import { isEligible, knownApprovers, type Voter } from './approvers.js';
import { formProblem } from './form.js';
import type { PolicySet } from './load.js';
import { isParallel, type ApproverGroup, type Level, type Policy, type Rule } from './schema.js';

const REJECTING = /^(reject|deny|decline|no)$/i;

/** Whether choosing `option` says no; every other option approves. */
export const isRejecting = (option: string): boolean => REJECTING.test(option);

/** A vote as counted: who cast it (and their role then, which role: approvers need) and what they chose. */
export interface LevelVote {
  readonly user: string;
  readonly role?: string | null;
  readonly option: string;
  readonly rejecting: boolean;
}

/** What a level is judged against: the file in force now, the approval's policy and who requested it. */
export interface LevelContext {
  readonly set: PolicySet;
  readonly policy: Policy;
  readonly requester: string | null;
}

export type LevelStatus = 'open' | 'approved' | 'rejected';

export interface Tally {
  readonly status: LevelStatus;
  readonly needed: number;
  readonly approvals: number;
  readonly rejections: number;
}

export interface GroupTally extends Tally {
  readonly name: string;
}

/** A level's tally; a parallel level also has one per group, and its counts are the groups' sums. */
export interface LevelTally extends Tally {
  readonly groups?: readonly GroupTally[];
}

const groupsOf = (level: Level): readonly ApproverGroup[] => (isParallel(level) ? level.parallel : [level]);

/**
 * Approvals a rule needs out of M known approvers. Majority and unanimity count over the people the policy names
 * (user:, group:, manager), because Airflow cannot list who holds a role: with role: references too, role holders'
 * votes count towards the rule but M is the known people only. At least one approval is always needed, so an
 * empty group never approves by itself.
 */
function needed(rule: Rule, known: number): number {
  if (rule === 'any') return 1;
  if (rule === 'majority') return Math.floor(known / 2) + 1;
  if (rule === 'unanimous') return Math.max(known, 1);
  return rule.n_of;
}

function tally(group: ApproverGroup, latest: readonly LevelVote[], ctx: LevelContext): Tally {
  const { set, policy, requester } = ctx;
  // Without self-approval the requester neither votes nor counts towards M, so unanimity stays reachable.
  const counts = (user: string) => policy.self_approval || user !== requester;
  const known = knownApprovers(set, group.approvers, requester).filter(counts);
  // Eligibility is judged now, like at voting: a vote by someone since removed from the group no longer counts.
  const votes = latest.filter(
    (vote) => counts(vote.user) && isEligible(set, group.approvers, { user: vote.user, role: vote.role ?? null }, requester),
  );
  const rejections = votes.filter((vote) => vote.rejecting).length;
  const counted = { needed: needed(group.rule, known.length), approvals: votes.length - rejections, rejections };
  if (policy.reject === 'any' && rejections > 0) return { ...counted, status: 'rejected' };
  if (counted.approvals >= counted.needed) return { ...counted, status: 'approved' };
  // Quorum mode rejects once enough known approvers said no that the rule can't be met. Role holders are an
  // open pool, so a level naming roles stays open (until its deadline), as does one nobody has rejected yet.
  const openPool = group.approvers.some((ref) => ref.kind === 'role');
  const unreachable = !openPool && rejections > 0 && known.length - rejections < counted.needed;
  return { ...counted, status: unreachable ? 'rejected' : 'open' };
}

/** Each person's latest vote, once: changing one's vote replaces the earlier one. */
function latestVotes(votes: readonly LevelVote[]): LevelVote[] {
  return [...new Map(votes.map((vote) => [vote.user, vote])).values()];
}

/**
 * Counts the votes cast at `level` (oldest first). A parallel level is approved when every group is, and
 * rejected when any group is; a person eligible in several groups counts in each.
 */
export function evaluateLevel(level: Level, votes: readonly LevelVote[], ctx: LevelContext): LevelTally {
  const latest = latestVotes(votes);
  if (!isParallel(level)) return tally(level, latest, ctx);
  const groups: GroupTally[] = level.parallel.map((group) => ({ name: group.name, ...tally(group, latest, ctx) }));
  const sum = (key: 'needed' | 'approvals' | 'rejections') => groups.reduce((total, group) => total + group[key], 0);
  const status: LevelStatus = groups.some((group) => group.status === 'rejected')
    ? 'rejected'
    : groups.every((group) => group.status === 'approved')
      ? 'approved'
      : 'open';
  return { status, needed: sum('needed'), approvals: sum('approvals'), rejections: sum('rejections'), groups };
}

export interface VoteInput {
  readonly option: string;
  readonly reason?: string | null;
  readonly params_input?: Readonly<Record<string, unknown>>;
}

/** Why a vote is refused, with the HTTP status and (for 422) the field to fix. */
export type VoteRefusal =
  | { readonly kind: 'not_eligible'; readonly status: 403; readonly message: string }
  | { readonly kind: 'self_approval'; readonly status: 403; readonly message: string }
  | { readonly kind: 'reason_required'; readonly status: 422; readonly field: 'reason'; readonly message: string }
  | { readonly kind: 'form_invalid'; readonly status: 422; readonly field: string; readonly message: string };

export type VoteCheck = { readonly ok: true } | ({ readonly ok: false } & VoteRefusal);

/** Whether `voter` may cast this vote at `level` under the policy, checked in the order a person can fix them. */
export function checkVote(level: Level, voter: Voter, input: VoteInput, ctx: LevelContext): VoteCheck {
  const { set, policy, requester } = ctx;
  if (!groupsOf(level).some((group) => isEligible(set, group.approvers, voter, requester))) {
    return { ok: false, kind: 'not_eligible', status: 403, message: `${voter.user} is not an approver at level "${level.name}"` };
  }
  if (!policy.self_approval && voter.user === requester) {
    return { ok: false, kind: 'self_approval', status: 403, message: `policy "${policy.name}" does not let the requester approve their own request` };
  }
  const rejecting = isRejecting(input.option);
  const reasonNeeded = policy.reason === 'always' || (policy.reason === 'on_reject' && rejecting);
  if (reasonNeeded && !input.reason?.trim()) {
    const message = policy.reason === 'always' ? 'a reason is required' : 'a reason is required to reject';
    return { ok: false, kind: 'reason_required', status: 422, field: 'reason', message };
  }
  // The form is the data the DAG continues with, so approving votes fill it; a rejection gives its reason instead.
  const problem = rejecting ? null : formProblem(policy.form, input.params_input ?? {});
  if (problem) return { ok: false, kind: 'form_invalid', status: 422, field: problem.field, message: problem.message };
  return { ok: true };
}
