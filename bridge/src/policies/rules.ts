import { isEligible, knownApprovers, type Voter } from './approvers.js';
import { formProblem } from './form.js';
import type { PolicySet } from './load.js';
import { meaningOf } from './match.js';
import { defaultOutcome, isParallel, type ApproverGroup, type Level, type Policy, type RequesterRef, type Rule } from './schema.js';

/** Whether `option` says no by its word alone (reject, deny, decline, no); for when no policy is at hand. */
export const isRejecting = (option: string): boolean => defaultOutcome(option) === 'reject';

/**
 * A vote as counted: who cast it (and their role then, which role: approvers need), what they chose and whether that
 * says no. Approving votes add up only when their `choice` is the same: the option and the form input the policy
 * says must agree (see choiceOf).
 */
export interface LevelVote {
  readonly user: string;
  readonly role?: string | null;
  readonly option: string;
  readonly rejecting: boolean;
  readonly choice: string;
}

/** What a level is judged against: the file in force now, the approval's policy and who requested it. */
export interface LevelContext {
  readonly set: PolicySet;
  readonly policy: Policy;
  /** Who triggered the run; null when nobody did (a schedule or an asset event). */
  readonly requester: string | null;
  /** The DAG's owners, who count as requester of an unattended run when the policy's `unattended_requester` names them. */
  readonly owners?: readonly string[];
  /** Who decided at another level of this approval, which the policy's `segregation.across_levels` bars. */
  readonly decidedAtOtherLevels?: readonly string[];
}

/** What an approval holds that its level is judged by: who asked, the DAG's owners, its open level and its votes. */
export interface JudgedApproval {
  readonly requester: string | null;
  readonly owners?: readonly string[];
  readonly level: number;
  readonly votes: readonly { readonly user: string; readonly level: number; readonly replaced: boolean; readonly on_behalf_of?: string | null }[];
}

/** The context the approval's open level is judged in under `policy`. */
export function levelContextOf(set: PolicySet, policy: Policy, approval: JudgedApproval): LevelContext {
  const open = Math.min(approval.level, policy.levels.length);
  // A deputy's vote is a decision by both: the deputy who cast it and the delegator whose seat it filled.
  const decidedAtOtherLevels = [
    ...new Set(approval.votes.filter((v) => v.level !== open && !v.replaced).flatMap((v) => (v.on_behalf_of ? [v.user, v.on_behalf_of] : [v.user]))),
  ];
  return { set, policy, requester: approval.requester, owners: approval.owners ?? [], decidedAtOtherLevels };
}

/** Whether `user` may decide at all: not as the requester (unless self-approval is on), not barred by segregation. */
export function mayDecide(ctx: LevelContext, user: string): boolean {
  return barredFrom(ctx, user) === null;
}

/** Why `user` may not decide at all (self-approval, then segregation of duties); null when they may. */
export function barredFrom(ctx: LevelContext, user: string): string | null {
  if (!ctx.policy.self_approval && requestersOf(ctx).includes(user)) {
    return `policy "${ctx.policy.name}" does not let ${user}, ${ctx.requester === null ? 'who counts as requester of this unattended run' : 'the requester'}, approve their own request`;
  }
  return segregationBars(ctx, user);
}

/** The people `refs` name: the DAG's owners, users, and the members of groups. */
function peopleOf(ctx: LevelContext, refs: readonly RequesterRef[]): string[] {
  return [
    ...new Set(
      refs.flatMap((ref) => {
        if (ref.kind === 'owners') return [...(ctx.owners ?? [])];
        if (ref.kind === 'group') return [...(ctx.set.groups.get(ref.name) ?? [])];
        return [ref.name];
      }),
    ),
  ];
}

/**
 * Who may not approve their own request: the person who triggered the run, or, for a run nobody triggered, the
 * people the policy's `unattended_requester` names (the DAG's owners, users, groups), so the two-person rule still holds.
 */
export function requestersOf(ctx: LevelContext): string[] {
  if (ctx.requester !== null) return [ctx.requester];
  return peopleOf(ctx, ctx.policy.unattended_requester ?? []);
}

/** Why the policy's segregation of duties bars `user` from deciding this approval; null when it does not. */
export function segregationBars(ctx: LevelContext, user: string): string | null {
  const rule = ctx.policy.segregation;
  if (!rule) return null;
  if (peopleOf(ctx, rule.excluded ?? []).includes(user)) return `policy "${ctx.policy.name}" excludes ${user} from deciding it`;
  if (rule.across_levels && (ctx.decidedAtOtherLevels ?? []).includes(user)) {
    return `policy "${ctx.policy.name}" lets nobody decide at two levels, and ${user} decided at an earlier one`;
  }
  return null;
}

/** What an approving vote is counted as: its option plus the agreed form fields (canonical JSON). */
export function choiceOf(policy: Policy, option: string, input: Readonly<Record<string, unknown>>): string {
  const rule = policy.input;
  if ('winner' in rule) return JSON.stringify([option]);
  const names = rule.agree === 'all' ? Object.keys(input).sort() : [...rule.agree].sort();
  return JSON.stringify([option, names.map((name) => [name, canonical(input[name] ?? null)])]);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.keys(record).sort().map((key) => [key, canonical(record[key])]);
  }
  return value;
}

export type LevelStatus = 'open' | 'approved' | 'rejected';

export interface Tally {
  readonly status: LevelStatus;
  readonly needed: number;
  /** Votes for the leading approving choice; votes for other choices do not add to it. */
  readonly approvals: number;
  readonly rejections: number;
  /** The approving choice that passed the level (see choiceOf); null unless approved. */
  readonly choice: string | null;
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
export function approvalsNeeded(rule: Rule, known: number): number {
  if (rule === 'any') return 1;
  if (rule === 'majority') return Math.floor(known / 2) + 1;
  if (rule === 'unanimous') return Math.max(known, 1);
  return rule.n_of;
}

function tally(group: ApproverGroup, latest: readonly LevelVote[], ctx: LevelContext): Tally {
  const { set, policy, requester } = ctx;
  // Without self-approval the requester neither votes nor counts towards M, so unanimity stays reachable; the same
  // holds for whom segregation of duties bars.
  const counts = (user: string) => mayDecide(ctx, user);
  const known = knownApprovers(set, group.approvers, requester).filter(counts);
  // Eligibility is judged now, like at voting: a vote by someone since removed from the group no longer counts.
  const votes = latest.filter(
    (vote) => counts(vote.user) && isEligible(set, group.approvers, { user: vote.user, role: vote.role ?? null }, requester),
  );
  const rejections = votes.filter((vote) => vote.rejecting).length;
  const byChoice = new Map<string, number>();
  for (const vote of votes.filter((v) => !v.rejecting)) byChoice.set(vote.choice, (byChoice.get(vote.choice) ?? 0) + 1);
  const [leading, approvals] = [...byChoice].reduce<[string | null, number]>((best, entry) => (entry[1] > best[1] ? entry : best), [null, 0]);
  const counted = { needed: approvalsNeeded(group.rule, known.length), approvals, rejections, choice: null };
  if (policy.reject === 'any' && rejections > 0) return { ...counted, status: 'rejected' };
  if (approvals >= counted.needed) return { ...counted, status: 'approved', choice: leading };
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
 * Counts the votes cast at `level` (oldest first). A parallel level is approved when every group approved the same
 * choice, and rejected when any group is; a person eligible in several groups counts in each.
 */
export function evaluateLevel(level: Level, votes: readonly LevelVote[], ctx: LevelContext): LevelTally {
  const latest = latestVotes(votes);
  if (!isParallel(level)) return tally(level, latest, ctx);
  const groups: GroupTally[] = level.parallel.map((group) => ({ name: group.name, ...tally(group, latest, ctx) }));
  const sum = (key: 'needed' | 'approvals' | 'rejections') => groups.reduce((total, group) => total + group[key], 0);
  const choices = new Set(groups.map((group) => group.choice));
  const agreed = groups.every((group) => group.status === 'approved') && choices.size === 1;
  const status: LevelStatus = groups.some((group) => group.status === 'rejected') ? 'rejected' : agreed ? 'approved' : 'open';
  const choice = agreed ? groups[0]!.choice : null;
  return { status, needed: sum('needed'), approvals: sum('approvals'), rejections: sum('rejections'), choice, groups };
}

export interface VoteInput {
  readonly option: string;
  readonly reason?: string | null;
  readonly params_input?: Readonly<Record<string, unknown>>;
}

/** Why a vote is refused: the refusal's kind and, for a request to fix, the field. */
export type VoteRefusal =
  | { readonly kind: 'not_eligible'; readonly refusal: 'forbidden'; readonly message: string }
  | { readonly kind: 'self_approval'; readonly refusal: 'forbidden'; readonly message: string }
  | { readonly kind: 'segregation_of_duties'; readonly refusal: 'forbidden'; readonly message: string }
  | { readonly kind: 'reason_required'; readonly refusal: 'unprocessable'; readonly field: 'reason'; readonly message: string }
  | { readonly kind: 'form_invalid'; readonly refusal: 'unprocessable'; readonly field: string; readonly message: string };

export type VoteCheck = { readonly ok: true } | ({ readonly ok: false } & VoteRefusal);

/** Whether `voter` may cast this vote at `level` under the policy, checked in the order a person can fix them. */
/** Whether a vote for `option` under `policy` must give a reason: the one rule the UI, links and Slack all ask. */
export function reasonRequired(set: PolicySet, policy: Policy | null, option: string): boolean {
  return policy?.reason === 'always' || (policy?.reason === 'on_reject' && meaningOf(set, policy, option) === 'reject');
}

export function checkVote(level: Level, voter: Voter, input: VoteInput, ctx: LevelContext): VoteCheck {
  const { set, policy, requester } = ctx;
  if (!groupsOf(level).some((group) => isEligible(set, group.approvers, voter, requester))) {
    return { ok: false, kind: 'not_eligible', refusal: 'forbidden', message: `${voter.user} is not an approver at level "${level.name}"` };
  }
  if (!policy.self_approval && requestersOf(ctx).includes(voter.user)) {
    const who = requester === null ? 'who counts as requester of this unattended run' : 'the requester';
    return { ok: false, kind: 'self_approval', refusal: 'forbidden', message: `policy "${policy.name}" does not let ${who} approve their own request` };
  }
  const barred = segregationBars(ctx, voter.user);
  if (barred) return { ok: false, kind: 'segregation_of_duties', refusal: 'forbidden', message: barred };
  const rejecting = meaningOf(set, policy, input.option) === 'reject';
  if (reasonRequired(set, policy, input.option) && !input.reason?.trim()) {
    const message = policy.reason === 'always' ? 'a reason is required' : 'a reason is required to reject';
    return { ok: false, kind: 'reason_required', refusal: 'unprocessable', field: 'reason', message };
  }
  // The form is the data the DAG continues with, so approving votes fill it; a rejection gives its reason instead.
  const problem = rejecting ? null : formProblem(policy.form, input.params_input ?? {});
  if (problem) return { ok: false, kind: 'form_invalid', refusal: 'unprocessable', field: problem.field, message: problem.message };
  return { ok: true };
}

/**
 * Whether `deputy` may cast this vote in `delegator`'s seat at `level` (the delegation itself is checked by the
 * caller). A delegation never lets anyone approve their own request, whatever the policy's self_approval says:
 * neither the deputy nor the delegator may be who requested it. Segregation of duties bars either of them. The
 * delegator must be an approver by name (user:, group:, manager, an escalation): the bridge knows only the voter's
 * Airflow role, not the delegator's, so a delegator who is an approver by role alone cannot be stood in for.
 */
export function checkDelegatedVote(level: Level, deputy: Voter, delegator: string, input: VoteInput, ctx: LevelContext): VoteCheck {
  const requesters = requestersOf(ctx);
  for (const who of [deputy.user, delegator]) {
    if (requesters.includes(who)) {
      return { ok: false, kind: 'self_approval', refusal: 'forbidden', message: `${who} requested this; a delegation never lets anyone approve their own request` };
    }
  }
  const barred = segregationBars(ctx, deputy.user);
  if (barred) return { ok: false, kind: 'segregation_of_duties', refusal: 'forbidden', message: barred };
  return checkVote(level, { user: delegator, role: null }, input, ctx);
}
