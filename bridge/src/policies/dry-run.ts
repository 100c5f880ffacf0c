import { type AirflowClient, statusOf, tokenRefused } from '../airflow/client.js';
import type { PolicySource } from '../approvals/service.js';
import type { ChannelName } from '../channels/config.js';
import type { AddressBook } from '../deliveries/addresses.js';
import { deadlineEscalationTargets, escalationAdditions } from '../escalations/escalate.js';
import { approverRoles, knownApprovers } from './approvers.js';
import { dueAt, escalationSchedule, nextReminderAt, slaWarningAt } from './deadline.js';
import { formatDuration } from './duration.js';
import type { DagScope } from '../identity/dag-access.js';
import type { Person } from '../identity/tokens.js';
import { Refusal, unauthenticated, unavailable } from '../refusal.js';
import { PolicyError, type PolicySet, parsePolicies } from './load.js';
import { type PolicyRequest, conditionError, matchOf, resolvePolicy, unknownOptionsError } from './match.js';
import { type LevelContext, approvalsNeeded, barredFrom, levelContextOf } from './rules.js';
import { type ApproverGroup, type ApproverRef, type Policy, type Rule, isParallel } from './schema.js';

// "Who must approve this, by when, through which channels?" answered before a run exists, with the same rules
// registration, voting and notifications use; what is computed here and nowhere else is whether a quorum can be met.

/** A request as it would be registered: where it sits, who asks, the DAG's owners, the values conditions read. */
export interface DryRunRequest extends Omit<PolicyRequest, 'review_of'> {
  /** Who would trigger the run; null for a run nobody triggers (a schedule, an asset event). */
  readonly requester: string | null;
  readonly owners: readonly string[];
}

/** Why one policy of the file does or does not take the request. */
export interface PolicyVerdict {
  readonly name: string;
  /**
   * matched: it decides; shadowed: it matches too but comes later; condition_error and no_outcome: it would hold the
   * approval; not_reached: the search stopped at such an error before it; else the criterion it misses.
   */
  readonly verdict: 'matched' | 'shadowed' | 'dag_id' | 'task_id' | 'tags' | 'condition_false' | 'condition_error' | 'no_outcome' | 'not_reached';
  readonly detail: string;
}

/** How someone the policy names would be reached: the channels that have an address for them, and those that do not. */
export interface Reach {
  readonly channels: ChannelName[];
  readonly undeliverable: { channel: ChannelName; error: string }[];
}

export interface DryRunPerson extends Reach {
  readonly user: string;
  /** Marked absent in the policies file: listed, but not counted towards reaching the quorum. */
  readonly absent: boolean;
}

export interface DryRunGroup {
  readonly name: string;
  readonly rule: 'any' | 'n_of' | 'majority' | 'unanimous';
  /** Approvals the rule needs now, as the level's tally would count them. */
  readonly needed: number;
  /** Who may decide, resolved now (groups, manager) without those barred below. */
  readonly people: DryRunPerson[];
  /** Airflow roles that also decide; only Airflow knows who holds them. */
  readonly roles: string[];
  readonly excluded: { user: string; reason: string }[];
}

export interface DryRunLevel {
  readonly name: string;
  /** One group for a plain level; one per parallel group. */
  readonly groups: DryRunGroup[];
  readonly reachable: boolean;
  readonly problems: string[];
}

export interface PolicyDryRun {
  readonly policy: string | null;
  readonly policy_error: string | null;
  readonly policy_version: string;
  readonly policies: PolicyVerdict[];
  readonly levels: DryRunLevel[];
  readonly deadline: { due_at: string; action: string; sla_warning_at: string | null; escalate_to: string[] } | null;
  readonly reminders: { every: string; first_at: string | null } | null;
  readonly escalations: { after: string; at: string; to: string[] }[];
  readonly break_glass: { allowed: string[]; reviewers: string[] } | null;
  /** The channels the policy's notifications go out on and their fallback; null when the bridge has no channels. */
  readonly notifications: { channels: ChannelName[]; fallback: ChannelName } | null;
  readonly reachable: boolean;
  readonly problems: string[];
  /** What the preview cannot know or counted generously (role holders, Airflow's own timeout). */
  readonly notes: string[];
}

/** Every policy's verdict on the request, in file order, the way resolvePolicy walks them. */
export function verdicts(set: PolicySet, request: PolicyRequest): PolicyVerdict[] {
  let stopped: 'match' | 'error' | null = null;
  return set.policies.map((policy): PolicyVerdict => {
    const name = policy.name;
    const result = matchOf(policy.match, request);
    if (result.kind === 'mismatch') {
      if (result.on === 'when') return { name, verdict: 'condition_false', detail: `when "${policy.match?.when?.source}" is false` };
      return { name, verdict: result.on, detail: `${result.on} does not match "${globOf(policy, result.on)}"` };
    }
    if (stopped === 'error') return { name, verdict: 'not_reached', detail: 'the search stops at the policy error above, so a laxer policy is never chosen' };
    if (stopped === 'match') {
      // It would match too, but the first match wins: it never applies to this request.
      return { name, verdict: 'shadowed', detail: 'matches too, but an earlier policy comes first (first match wins)' };
    }
    if (result.kind === 'error') {
      stopped = 'error';
      return { name, verdict: 'condition_error', detail: conditionError(policy, result.error) };
    }
    const unknown = unknownOptionsError(set, policy, request.options);
    stopped = unknown ? 'error' : 'match';
    if (unknown) return { name, verdict: 'no_outcome', detail: unknown };
    return { name, verdict: 'matched', detail: 'the first policy that matches' };
  });
}

function globOf(policy: Policy, on: 'dag_id' | 'task_id' | 'tags'): string {
  const match = policy.match;
  if (on === 'tags') return (match?.tags ?? []).join(', ');
  return match?.[on]?.source ?? '';
}

const ruleName = (rule: Rule): DryRunGroup['rule'] => (typeof rule === 'object' ? 'n_of' : rule);

/** What the notifications of `policy` would reach `user` on; `messages` (the bridge's own list) always. */
function reachOf(book: AddressBook | null, policy: Policy, user: string): Reach {
  if (!book) return { channels: [], undeliverable: [] };
  const channels: ChannelName[] = ['messages'];
  const undeliverable: Reach['undeliverable'] = [];
  for (const channel of book.channelsFor(policy.name).channels) {
    const address = book.resolve(channel, user);
    if (address.ok) channels.push(channel);
    else undeliverable.push({ channel, error: address.error });
  }
  return { channels, undeliverable };
}

function groupOf(set: PolicySet, book: AddressBook | null, ctx: LevelContext, group: ApproverGroup): DryRunGroup {
  const named = knownApprovers(set, group.approvers, ctx.requester);
  const excluded = named.flatMap((user) => {
    const reason = barredFrom(ctx, user);
    return reason ? [{ user, reason }] : [];
  });
  const people = named
    .filter((user) => !excluded.some((e) => e.user === user))
    .map((user) => ({ user, absent: set.absent.has(user), ...reachOf(book, ctx.policy, user) }));
  return {
    name: group.name,
    rule: ruleName(group.rule),
    needed: approvalsNeeded(group.rule, people.length),
    people,
    roles: approverRoles(group.approvers),
    excluded,
  };
}

const quorum = (group: DryRunGroup) => (group.rule === 'n_of' ? `${group.needed} of` : group.rule === 'any' ? 'one of' : `${group.rule} (${group.needed}) of`);
const names = (people: readonly string[]) => (people.length ? people.join(', ') : 'nobody');
const present = (group: DryRunGroup) => group.people.filter((p) => !p.absent).map((p) => p.user);

/** Why `group` cannot be decided on its own: fewer people who may decide and are not absent than its rule needs. */
function groupProblem(group: DryRunGroup): string | null {
  // Role holders are an open pool Airflow alone knows: a group naming a role is never provably short.
  if (group.roles.length > 0) return null;
  const available = present(group);
  if (available.length >= group.needed) return null;
  const absent = group.people.filter((p) => p.absent).map((p) => p.user);
  const barred = group.excluded.map((e) => e.user);
  const why = [absent.length ? `absent: ${absent.join(', ')}` : '', barred.length ? `barred: ${barred.join(', ')}` : ''].filter(Boolean).join('; ');
  return `"${group.name}" needs ${quorum(group)} ${names(available)}${why ? ` (${why})` : ''}`;
}

/** At most this many assignments are tried when nobody may decide at two levels; beyond it the check says so. */
const SEARCH_BUDGET = 100_000;

/**
 * Whether distinct people can meet every group's need across `levels` when nobody decides at two levels: each person
 * is given to one level at most (within a level they count in every group they belong to). Groups naming roles are
 * left out (see groupProblem). Null when the search ran out of budget.
 */
function distinctQuorum(levels: readonly DryRunLevel[]): boolean | null {
  const demands = levels.flatMap((level, l) =>
    level.groups.filter((g) => g.roles.length === 0).map((g) => ({ level: l, needed: g.needed, people: new Set(present(g)) })),
  );
  const people = [...new Set(demands.flatMap((d) => [...d.people]))];
  const left = demands.map((d) => d.needed);
  let steps = 0;
  const search = (i: number): boolean | null => {
    if (++steps > SEARCH_BUDGET) return null;
    if (left.every((n) => n <= 0)) return true;
    // Prune: a demand that the people not yet placed can no longer meet.
    if (demands.some((d, k) => left[k]! > people.slice(i).filter((p) => d.people.has(p)).length)) return false;
    const person = people[i]!;
    for (let l = 0; l < levels.length; l++) {
      const helped = demands.flatMap((d, k) => (d.level === l && left[k]! > 0 && d.people.has(person) ? [k] : []));
      if (helped.length === 0) continue;
      for (const k of helped) left[k]!--;
      const found = search(i + 1);
      for (const k of helped) left[k]!++;
      if (found !== false) return found;
    }
    return search(i + 1);
  };
  return search(0);
}

/** The policy's levels with who may decide each now, and whether each one's quorum can be met at all. */
export function levelsOf(set: PolicySet, book: AddressBook | null, policy: Policy, request: Pick<DryRunRequest, 'requester' | 'owners'>): { levels: DryRunLevel[]; notes: string[] } {
  const ctx = levelContextOf(set, policy, { requester: request.requester, owners: request.owners, level: 1, votes: [] });
  const notes: string[] = [];
  const levels: DryRunLevel[] = [];
  for (const level of policy.levels) {
    const groups = (isParallel(level) ? level.parallel : [level]).map((group) => groupOf(set, book, ctx, group));
    const problems = groups.flatMap((group) => groupProblem(group) ?? []);
    levels.push({ name: level.name, groups, reachable: problems.length === 0, problems });
  }
  for (const group of levels.flatMap((level) => level.groups)) {
    if (group.roles.length > 0) notes.push(`"${group.name}" also counts anyone with Airflow role ${group.roles.join(', ')}: only Airflow knows who holds it`);
  }
  if (policy.segregation?.across_levels && levels.length > 1 && levels.every((level) => level.reachable)) {
    // Add the levels one by one: the first that distinct people can no longer meet is where the quorum breaks.
    for (let k = 2; k <= levels.length; k++) {
      const found = distinctQuorum(levels.slice(0, k));
      if (found === null) {
        notes.push('too many people to check exhaustively that nobody needs to decide at two levels; assumed reachable');
        break;
      }
      if (!found) {
        const level = levels[k - 1]!;
        levels[k - 1] = {
          ...level,
          reachable: false,
          problems: [`"${level.name}" cannot be met by people who did not decide an earlier level: nobody may decide at two levels of this policy`],
        };
        break;
      }
    }
  }
  return { levels, notes };
}

/** Who a list of references names now: people, and roles as `role:NAME`. */
const refsOf = (set: PolicySet, refs: readonly ApproverRef[], requester: string | null): string[] => [
  ...knownApprovers(set, refs, requester),
  ...approverRoles(refs).map((role) => `role:${role}`),
];

function deadlineOf(set: PolicySet, policy: Policy, request: DryRunRequest, now: Date): PolicyDryRun['deadline'] {
  const due = dueAt(policy, now);
  if (!due || !policy.deadline) return null;
  const { action } = policy.deadline;
  return {
    due_at: due.toISOString(),
    action: typeof action === 'object' ? `answer ${action.option}` : action,
    sla_warning_at: slaWarningAt(policy, now)?.toISOString() ?? null,
    escalate_to: action === 'escalate' ? [...new Set(deadlineEscalationTargets(set, policy, request.requester, 1))] : [],
  };
}

/**
 * The dry-run of `request` under `set`, as if it were registered `now`: the policy that would decide it and why each
 * other policy would not, who may decide each level, the clock, the channels, and whether the quorum can be met.
 */
export function dryRun(set: PolicySet, book: AddressBook | null, request: DryRunRequest, now: Date): PolicyDryRun {
  const { policy, policy_error } = resolvePolicy(set, request);
  const base = {
    policy: policy?.name ?? null,
    policy_error,
    policy_version: set.version,
    policies: verdicts(set, request),
  };
  if (!policy) {
    const problem = policy_error ? `the approval would be held: ${policy_error}` : 'no policy matches, so nobody could decide it';
    return { ...base, levels: [], deadline: null, reminders: null, escalations: [], break_glass: null, notifications: null, reachable: false, problems: [problem], notes: [] };
  }
  const { levels, notes } = levelsOf(set, book, policy, request);
  notes.push("Airflow's own response_timeout (when the task has one) may end the wait earlier than the policy's deadline");
  const problems = levels.flatMap((level) => level.problems.map((problem) => `level "${level.name}": ${problem}`));
  return {
    ...base,
    levels,
    deadline: deadlineOf(set, policy, request, now),
    reminders: policy.reminders ? { every: formatDuration(policy.reminders.every), first_at: nextReminderAt(policy, now, now)?.toISOString() ?? null } : null,
    escalations: escalationSchedule(policy, now).map(({ index, step, at }) => {
      const added = escalationAdditions(set, policy, index, request.requester, 1);
      return { after: formatDuration(step.after), at: at.toISOString(), to: [...added.users, ...added.roles] };
    }),
    break_glass: policy.break_glass
      ? { allowed: refsOf(set, policy.break_glass.allowed, request.requester), reviewers: refsOf(set, policy.break_glass.reviewers, request.requester) }
      : null,
    notifications: book ? book.channelsFor(policy.name) : null,
    reachable: problems.length === 0,
    problems,
    notes,
  };
}

/**
 * Why an approval under `policy` could never be decided as things stand: the problems of its levels from `fromLevel`
 * (1-based, the open one) on, judged as for a new request; empty when every quorum can be met.
 */
export function quorumWarnings(set: PolicySet, policy: Policy, request: Pick<DryRunRequest, 'requester' | 'owners'>, fromLevel = 1): string[] {
  return levelsOf(set, null, policy, request)
    .levels.slice(fromLevel - 1)
    .flatMap((level) => level.problems.map((problem) => `level "${level.name}": ${problem}`));
}

/** What the dry-run reads from Airflow, as the asking person (their token), so Airflow decides what they may see. */
export type DagReader = (token: string) => Pick<AirflowClient, 'getDag' | 'getTask'>;

export interface PersonDryRun {
  readonly dag_id: string;
  readonly task_id: string;
  readonly conf: Readonly<Record<string, unknown>>;
  readonly params: Readonly<Record<string, unknown>>;
  readonly options: readonly string[];
  /** Who would trigger the run; undefined: the asking person. */
  readonly requester?: string | null | undefined;
}

/** The dry-run as people ask for it: the DAG is one they may read, its tags and owners as Airflow has them now. */
export class PolicyDryRuns {
  constructor(
    private readonly policies: PolicySource,
    private readonly book: AddressBook | null,
    private readonly airflowAs: DagReader,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async forPerson(person: Person, scope: DagScope, token: string, ask: PersonDryRun): Promise<PolicyDryRun> {
    // A DAG the person may not read is not found, like its approvals: the preview tells nothing of it.
    if (!scope.mayRead(ask.dag_id)) throw new Refusal('not_found', 'not_found', `DAG ${ask.dag_id} not found`, 'dag_id');
    const airflow = this.airflowAs(token);
    const [dag] = await Promise.all([
      this.read(() => airflow.getDag(ask.dag_id), 'dag_id', `DAG ${ask.dag_id} not found`),
      this.read(() => airflow.getTask(ask.dag_id, ask.task_id), 'task_id', `DAG ${ask.dag_id} has no task ${ask.task_id}`),
    ]);
    const request: DryRunRequest = {
      dag_id: ask.dag_id,
      task_id: ask.task_id,
      tags: dag.tags.map((t) => t.name).sort(),
      owners: dag.owners ?? [],
      // As registration merges them: the run's conf, then the form's values.
      values: { ...ask.conf, ...ask.params },
      options: ask.options,
      requester: ask.requester === undefined ? person.user : ask.requester,
    };
    return dryRun(this.policies.current(), this.book, request, this.now());
  }

  /** Validates a policies file's text and dry-runs each approval against it (nothing is asked of Airflow). */
  check(person: Person, text: string, source: string, approvals: readonly CheckedApproval[]): PolicyCheckResult {
    let set: PolicySet;
    try {
      set = parsePolicies(text, source);
    } catch (err) {
      if (err instanceof PolicyError) return { valid: false, error: err.message, version: null, results: [] };
      throw err;
    }
    const now = this.now();
    const results = approvals.map((a) => ({
      dag_id: a.dag_id,
      task_id: a.task_id,
      ...dryRun(set, this.book, { ...a, values: { ...a.conf, ...a.params }, requester: a.requester === undefined ? person.user : a.requester }, now),
    }));
    return { valid: true, error: null, version: set.version, results };
  }

  private async read<T>(call: () => Promise<T>, field: string, missing: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (statusOf(err) === 404) throw new Refusal('not_found', 'not_found', missing, field);
      if (tokenRefused(err)) throw unauthenticated('Airflow no longer accepts this token (signed out or revoked); sign in again');
      throw unavailable('Airflow could not be asked about the DAG; try again', 'airflow_unavailable');
    }
  }
}

export interface CheckedApproval {
  readonly dag_id: string;
  readonly task_id: string;
  readonly tags: readonly string[];
  readonly owners: readonly string[];
  readonly conf: Readonly<Record<string, unknown>>;
  readonly params: Readonly<Record<string, unknown>>;
  readonly options: readonly string[];
  /** Who would trigger the run; undefined: the asking person. */
  readonly requester?: string | null | undefined;
}

export interface PolicyCheckResult {
  readonly valid: boolean;
  readonly error: string | null;
  readonly version: string | null;
  readonly results: (PolicyDryRun & { dag_id: string; task_id: string })[];
}
