import picomatch from 'picomatch';
import { z } from '../zod.js';
import { compileCondition } from './condition.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { compileFormField, type FormField } from './form.js';

/** The roles of Airflow's SimpleAuthManager; the token carries the user's role as configured. */
export const AIRFLOW_ROLES = ['admin', 'op', 'user', 'viewer'] as const;
export type AirflowRole = (typeof AIRFLOW_ROLES)[number];

/** Who an approver reference names; resolved to people only when someone votes (see approvers.ts). */
export type ApproverRef =
  | { readonly kind: 'user'; readonly name: string }
  | { readonly kind: 'group'; readonly name: string }
  | { readonly kind: 'role'; readonly name: AirflowRole }
  | { readonly kind: 'manager' };

const RULE_HINT = 'expected any | majority | unanimous | {n_of: N}';
export type Rule = 'any' | 'majority' | 'unanimous' | { readonly n_of: number };

/** Approvers and the rule their votes must meet: a whole level, or one of a level's parallel groups. */
export interface ApproverGroup {
  readonly name: string;
  readonly approvers: readonly ApproverRef[];
  readonly rule: Rule;
}

/** A level passes when every one of its groups passes. */
export interface ParallelLevel {
  readonly name: string;
  readonly parallel: readonly ApproverGroup[];
}

export type Level = ApproverGroup | ParallelLevel;

export const isParallel = (level: Level): level is ParallelLevel => 'parallel' in level;

/** A compiled picomatch glob, keeping its text for messages and the UI. */
export interface Glob {
  readonly source: string;
  test(text: string): boolean;
}

/** A transform whose thrown Error becomes a validation issue located at the value being compiled. */
function compiling<I, O>(compile: (input: I) => O) {
  return (input: I, ctx: z.RefinementCtx<I>): O => {
    try {
      return compile(input);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  };
}

const Name = z.string().min(1, 'must not be empty');

const Duration = z.string({ error: DURATION_HINT }).transform(
  compiling((text: string) => {
    const ms = parseDuration(text);
    if (ms === null) throw new Error(DURATION_HINT);
    return ms;
  }),
);

const Glob = Name.transform((source): Glob => ({ source, test: picomatch(source) }));

function parseApproverRef(text: string): ApproverRef {
  if (text === 'manager') return { kind: 'manager' };
  const [, kind, name] = /^(user|group|role):(.+)$/.exec(text) ?? [];
  if (kind === 'user' || kind === 'group') return { kind, name: name as string };
  if (kind === 'role') {
    const role = AIRFLOW_ROLES.find((known) => known === name?.toLowerCase());
    if (!role) throw new Error(`unknown role "${name}": expected one of ${AIRFLOW_ROLES.join(', ')}`);
    return { kind, name: role };
  }
  throw new Error('expected user:NAME, group:NAME, role:NAME or manager');
}

/** Who counts as requester of a run nobody triggered: the DAG's owners (as Airflow lists them), a user, a group. */
export type RequesterRef = { readonly kind: 'owners' } | { readonly kind: 'user' | 'group'; readonly name: string };

function parseRequesterRef(text: string): RequesterRef {
  if (text === 'owners') return { kind: 'owners' };
  const [, kind, name] = /^(user|group):(.+)$/.exec(text) ?? [];
  if (kind === 'user' || kind === 'group') return { kind, name: name as string };
  throw new Error('expected owners, user:NAME or group:NAME');
}

const people = (noun: string) => z.array(Name.transform(compiling(parseRequesterRef))).min(1, `name at least one ${noun}`);
const Requesters = people('requester');

const Approvers = z.array(Name.transform(compiling(parseApproverRef))).min(1, 'name at least one approver');

const Rule = z.union(
  [z.enum(['any', 'majority', 'unanimous']), z.strictObject({ n_of: z.int().min(1, 'n_of must be at least 1') })],
  { error: RULE_HINT },
);

/** Majority and unanimity count the people the file names; a list of roles alone names nobody to count. */
function roleOnlyQuorum(approvers: readonly ApproverRef[], rule: Rule): string | null {
  if ((rule === 'majority' || rule === 'unanimous') && approvers.every((ref) => ref.kind === 'role')) {
    return `${rule} counts the people named by user:, group: and manager; with only roles, use any or {n_of: N}`;
  }
  return null;
}

const Group = z
  .strictObject({ name: Name, approvers: Approvers, rule: Rule.default('any') })
  .superRefine((group, ctx) => {
    const problem = roleOnlyQuorum(group.approvers, group.rule);
    if (problem) ctx.addIssue({ code: 'custom', path: ['rule'], message: problem });
  });

function firstDuplicate(names: readonly string[]): number {
  return names.findIndex((name, i) => names.indexOf(name) !== i);
}

const LevelSchema = z
  .strictObject({
    name: Name,
    approvers: Approvers.optional(),
    rule: Rule.optional(),
    parallel: z.array(Group).min(1, 'list at least one group').optional(),
  })
  .transform((level, ctx): Level => {
    const { name, approvers, rule, parallel } = level;
    if (parallel) {
      if (approvers || rule) {
        ctx.addIssue({ code: 'custom', path: ['parallel'], message: 'a level has approvers (and rule) or parallel groups, not both' });
        return z.NEVER;
      }
      const duplicate = firstDuplicate(parallel.map((group) => group.name));
      if (duplicate >= 0) {
        ctx.addIssue({ code: 'custom', path: ['parallel', duplicate, 'name'], message: 'duplicate group name in this level' });
        return z.NEVER;
      }
      return { name, parallel };
    }
    if (!approvers) {
      ctx.addIssue({ code: 'custom', message: 'a level needs approvers (with a rule) or parallel groups' });
      return z.NEVER;
    }
    const problem = roleOnlyQuorum(approvers, rule ?? 'any');
    if (problem) {
      ctx.addIssue({ code: 'custom', path: ['rule'], message: problem });
      return z.NEVER;
    }
    return { name, approvers, rule: rule ?? 'any' };
  });

const Match = z.strictObject({
  dag_id: Glob.optional(),
  task_id: Glob.optional(),
  tags: z.array(Name).min(1, 'list at least one tag').optional(),
  when: Name.transform(compiling(compileCondition)).optional(),
});

const Form = z.record(Name, z.record(z.string(), z.unknown())).transform((fields, ctx): readonly FormField[] => {
  const form: FormField[] = [];
  for (const [name, schema] of Object.entries(fields)) {
    try {
      form.push(compileFormField(name, schema));
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: [name], message: `invalid field schema: ${(err as Error).message}` });
      return z.NEVER;
    }
  }
  return form;
});

const DeadlineAction = z.union(
  [z.enum(['reject', 'approve', 'fail', 'escalate']), z.strictObject({ option: Name })],
  { error: 'expected reject | approve | fail | escalate | {option: NAME}' },
);

const EscalationStep = z.strictObject({ after: Duration, to: Approvers });

/**
 * Break-glass: `allowed` may bypass a pending approval at once with a reason; `reviewers` then decide, after the
 * fact, whether the bypass stands (the review is an approval of its own, which the bypasser may not decide).
 */
const BreakGlass = z.strictObject({ allowed: Approvers, reviewers: Approvers });

/**
 * Segregation of duties beyond the requester: `across_levels` lets nobody decide at two levels of one approval;
 * `excluded` names people who never decide it (owners = the DAG's owners as Airflow lists them; user:, group:).
 */
const Segregation = z.strictObject({ across_levels: z.boolean().default(false), excluded: people('person to exclude').optional() });

/** What choosing an option means for counting: it approves (and must be agreed on) or it says no. */
export const OPTION_OUTCOMES = ['approve', 'reject'] as const;
export type OptionOutcome = (typeof OPTION_OUTCOMES)[number];

const OptionMeanings = z
  .record(Name, z.strictObject({ outcome: z.enum(OPTION_OUTCOMES, { error: 'expected approve | reject' }) }))
  .default({})
  .transform((options) => new Map(Object.entries(options).map(([option, meaning]) => [option, meaning.outcome])));

/**
 * How votes' form input is agreed: `agree` lists the fields voters must have filled alike for their votes to add up
 * (`all`, the default: every field); `winner: last_level` counts votes by option only and takes the input of the last
 * level's deciding vote.
 */
const InputRule = z.union(
  [
    z.strictObject({ agree: z.union([z.literal('all'), z.array(Name).min(1, 'list at least one field')]) }),
    z.strictObject({ winner: z.literal('last_level') }),
  ],
  { error: 'expected {agree: all | [FIELD, ...]} or {winner: last_level}' },
);
export type InputRule = z.output<typeof InputRule>;

const PolicySchema = z
  .strictObject({
    name: Name,
    match: Match.optional(),
    self_approval: z.boolean().default(false),
    unattended_requester: Requesters.optional(),
    reason: z.enum(['always', 'on_reject', 'never']).default('on_reject'),
    reject: z.enum(['any', 'quorum']).default('any'),
    form: Form.default(() => []),
    options: OptionMeanings,
    input: InputRule.default({ agree: 'all' }),
    levels: z.array(LevelSchema).min(1, 'list at least one level'),
    deadline: z.strictObject({ after: Duration, action: DeadlineAction }).optional(),
    reminders: z.strictObject({ every: Duration }).optional(),
    escalation: z.array(EscalationStep).min(1, 'list at least one step').optional(),
    sla: z.strictObject({ warn_before: Duration }).optional(),
    break_glass: BreakGlass.optional(),
    segregation: Segregation.optional(),
  })
  .superRefine((policy, ctx) => {
    const duplicate = firstDuplicate(policy.levels.map((level) => level.name));
    if (duplicate >= 0) {
      ctx.addIssue({ code: 'custom', path: ['levels', duplicate, 'name'], message: 'duplicate level name in this policy' });
    }
    if (policy.sla && !policy.deadline) {
      ctx.addIssue({ code: 'custom', path: ['sla'], message: 'an SLA warning needs a deadline to warn before' });
    } else if (policy.sla && policy.deadline && policy.sla.warn_before >= policy.deadline.after) {
      ctx.addIssue({ code: 'custom', path: ['sla', 'warn_before'], message: 'must be shorter than deadline.after' });
    }
    policy.escalation?.forEach((step, i, steps) => {
      const previous = steps[i - 1];
      if (previous && step.after <= previous.after) {
        ctx.addIssue({ code: 'custom', path: ['escalation', i, 'after'], message: 'must be later than the previous step' });
      }
    });
  });

export type Policy = z.output<typeof PolicySchema>;
export type PolicyMatch = NonNullable<Policy['match']>;
export type EscalationStep = z.output<typeof EscalationStep>;
export type DeadlineAction = z.output<typeof DeadlineAction>;
export type BreakGlass = z.output<typeof BreakGlass>;

/** The options of a break-glass review: the bypass stands, or it is disputed (a dispute needs a reason). */
export const REVIEW_OPTIONS = ['Confirm', 'Dispute'] as const;

/**
 * The policy a break-glass review of `bypassed`'s approvals is decided by: any one of its reviewers, never the
 * bypasser (who is the review's requester), with a reason on a dispute.
 */
export function reviewPolicy(bypassed: Policy & { break_glass: BreakGlass }): Policy {
  return {
    name: `${bypassed.name} (break-glass review)`,
    self_approval: false,
    reason: 'on_reject',
    reject: 'any',
    form: [],
    options: new Map([
      ['Confirm', 'approve'],
      ['Dispute', 'reject'],
    ]),
    input: { agree: 'all' },
    levels: [{ name: 'reviewers', approvers: bypassed.break_glass.reviewers, rule: 'any' }],
  };
}
export type RejectMode = Policy['reject'];

/** Walks up from `person`; returns the chain when it comes back to them (a cycle), else null. */
function managerCycle(managers: ReadonlyMap<string, string>, person: string): string[] | null {
  const chain = [person];
  for (let next = managers.get(person); next !== undefined; next = managers.get(next)) {
    chain.push(next);
    if (next === person) return chain;
    if (chain.indexOf(next) < chain.length - 1) return null; // a cycle above, reported from its own members
  }
  return null;
}

/** Every approver reference in a policy, with its path inside the policy (for error locations). */
function* approverRefs(policy: Policy): Generator<[ApproverRef, (string | number)[]]> {
  for (const [l, level] of policy.levels.entries()) {
    const groups = isParallel(level) ? level.parallel.map((group, g) => [group, ['parallel', g]] as const) : [[level, []] as const];
    for (const [group, at] of groups) {
      for (const [a, ref] of group.approvers.entries()) yield [ref, ['levels', l, ...at, 'approvers', a]];
    }
  }
  for (const [s, step] of (policy.escalation ?? []).entries()) {
    for (const [a, ref] of step.to.entries()) yield [ref, ['escalation', s, 'to', a]];
  }
  for (const key of ['allowed', 'reviewers'] as const) {
    for (const [a, ref] of (policy.break_glass?.[key] ?? []).entries()) yield [ref, ['break_glass', key, a]];
  }
}

const Moment = z.iso
  .datetime({ offset: true, error: 'expected an ISO 8601 date-time with a zone, e.g. 2026-12-01T00:00:00Z' })
  .transform((text) => new Date(text).toISOString());

/**
 * A person's vote handed to a deputy from `starts_at` (when the file is loaded, if omitted) until `ends_at`, for
 * every policy or the listed ones; the API adds delegations of its own (bridge/src/delegations/).
 */
const FileDelegation = z
  .strictObject({
    from: Name,
    to: Name,
    starts_at: Moment.optional(),
    ends_at: Moment,
    policies: z.array(Name).min(1, 'list at least one policy, or leave policies out for all').optional(),
    reason: z.string().optional(),
  })
  .superRefine((d, ctx) => {
    if (d.from === d.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'a person cannot delegate to themselves' });
    if (d.starts_at && d.ends_at <= d.starts_at) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'must be after starts_at' });
  });
export type FileDelegation = z.output<typeof FileDelegation>;

export const PolicyFileSchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected version: 1' }),
    options: OptionMeanings,
    groups: z.record(Name, z.array(Name)).default({}).transform((groups) => new Map(Object.entries(groups))),
    managers: z.record(Name, Name).default({}).transform((managers) => new Map(Object.entries(managers))),
    absent: z.array(Name).default([]).transform((absent) => new Set(absent)),
    policies: z.array(PolicySchema).min(1, 'list at least one policy'),
    delegations: z.array(FileDelegation).default([]),
  })
  .superRefine((file, ctx) => {
    for (const person of file.managers.keys()) {
      const cycle = managerCycle(file.managers, person);
      if (cycle) {
        ctx.addIssue({ code: 'custom', path: ['managers', person], message: `manager cycle: ${cycle.join(' → ')}` });
        return;
      }
    }
    const names = new Set(file.policies.map((policy) => policy.name));
    file.delegations.forEach((d, i) => {
      d.policies?.forEach((name, n) => {
        if (!names.has(name)) ctx.addIssue({ code: 'custom', path: ['delegations', i, 'policies', n], message: `unknown policy "${name}"` });
      });
    });
    const catchAll = file.policies.findIndex((policy) => matchesEverything(policy.match));
    file.policies.forEach((policy, p) => {
      const first = file.policies.findIndex((other) => other.name === policy.name);
      if (first !== p) {
        ctx.addIssue({ code: 'custom', path: ['policies', p, 'name'], message: `duplicate policy name (policies[${first}] has it)` });
      }
      if (catchAll >= 0 && catchAll < p) {
        ctx.addIssue({
          code: 'custom',
          path: ['policies', p, 'name'],
          message: `never used: policies[${catchAll}] before it has no match and takes every approval (first match wins)`,
        });
      }
      const deadlineOption = policy.deadline && typeof policy.deadline.action === 'object' ? policy.deadline.action.option : null;
      if (deadlineOption !== null && outcomeOf(file.options, policy, deadlineOption) === null) {
        ctx.addIssue({
          code: 'custom',
          path: ['policies', p, 'deadline', 'action', 'option'],
          message: `"${deadlineOption}" is neither approve nor reject: give it an outcome under options`,
        });
      }
      for (const [ref, at] of approverRefs(policy)) {
        if (ref.kind === 'group' && !file.groups.has(ref.name)) {
          ctx.addIssue({ code: 'custom', path: ['policies', p, ...at], message: `unknown group "${ref.name}"` });
        }
      }
      const people = [
        ...(policy.unattended_requester ?? []).map((ref, r) => [ref, ['unattended_requester', r]] as const),
        ...(policy.segregation?.excluded ?? []).map((ref, r) => [ref, ['segregation', 'excluded', r]] as const),
      ];
      for (const [ref, at] of people) {
        if (ref.kind === 'group' && !file.groups.has(ref.name)) {
          ctx.addIssue({ code: 'custom', path: ['policies', p, ...at], message: `unknown group "${ref.name}"` });
        }
      }
    });
  });

export type PolicyFileData = z.output<typeof PolicyFileSchema>;

const APPROVING = /^(approve|approved|accept|yes|ok|confirm)$/i;
const REJECTING = /^(reject|deny|decline|no)$/i;

/** An option's meaning from its word alone: approve and reject words are unambiguous, anything else has none. */
export function defaultOutcome(option: string): OptionOutcome | null {
  if (REJECTING.test(option)) return 'reject';
  return APPROVING.test(option) ? 'approve' : null;
}

/** What `option` means under `policy`: its own options, then the file's, then the word; null when none says. */
export function outcomeOf(fileOptions: ReadonlyMap<string, OptionOutcome>, policy: Policy, option: string): OptionOutcome | null {
  return policy.options.get(option) ?? fileOptions.get(option) ?? defaultOutcome(option);
}

/** A policy without `match` (or with an empty one) matches every approval. */
export function matchesEverything(match: PolicyMatch | undefined): boolean {
  return !match || Object.values(match).every((criterion) => criterion === undefined);
}
