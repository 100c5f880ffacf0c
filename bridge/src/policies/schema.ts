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

const PolicySchema = z
  .strictObject({
    name: Name,
    match: Match.optional(),
    self_approval: z.boolean().default(false),
    reason: z.enum(['always', 'on_reject', 'never']).default('on_reject'),
    reject: z.enum(['any', 'quorum']).default('any'),
    form: Form.default(() => []),
    levels: z.array(LevelSchema).min(1, 'list at least one level'),
    deadline: z.strictObject({ after: Duration, action: DeadlineAction }).optional(),
    reminders: z.strictObject({ every: Duration }).optional(),
    escalation: z.array(EscalationStep).min(1, 'list at least one step').optional(),
    sla: z.strictObject({ warn_before: Duration }).optional(),
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
}

export const PolicyFileSchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected version: 1' }),
    groups: z.record(Name, z.array(Name)).default({}).transform((groups) => new Map(Object.entries(groups))),
    managers: z.record(Name, Name).default({}).transform((managers) => new Map(Object.entries(managers))),
    absent: z.array(Name).default([]).transform((absent) => new Set(absent)),
    policies: z.array(PolicySchema).min(1, 'list at least one policy'),
  })
  .superRefine((file, ctx) => {
    for (const person of file.managers.keys()) {
      const cycle = managerCycle(file.managers, person);
      if (cycle) {
        ctx.addIssue({ code: 'custom', path: ['managers', person], message: `manager cycle: ${cycle.join(' → ')}` });
        return;
      }
    }
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
      for (const [ref, at] of approverRefs(policy)) {
        if (ref.kind === 'group' && !file.groups.has(ref.name)) {
          ctx.addIssue({ code: 'custom', path: ['policies', p, ...at], message: `unknown group "${ref.name}"` });
        }
      }
    });
  });

export type PolicyFileData = z.output<typeof PolicyFileSchema>;

/** A policy without `match` (or with an empty one) matches every approval. */
export function matchesEverything(match: PolicyMatch | undefined): boolean {
  return !match || Object.values(match).every((criterion) => criterion === undefined);
}
