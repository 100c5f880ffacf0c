import type { PolicySet } from './load.js';
import { type OptionOutcome, type Policy, type PolicyMatch, defaultOutcome, outcomeOf, reviewPolicy } from './schema.js';

/** What a policy is chosen by: where the approval sits and the values it was asked with. */
export interface PolicyRequest {
  readonly dag_id: string;
  readonly task_id: string;
  /** The DAG's tags. */
  readonly tags: readonly string[];
  /** The run's conf merged with the HITL params' values; what `when` conditions read. */
  readonly values: Readonly<Record<string, unknown>>;
  /** The options people choose from; each needs a meaning under the chosen policy. */
  readonly options: readonly string[];
  /** Set on a break-glass review: the bypassed approval's policy, whose `break_glass.reviewers` decide it. */
  readonly review_of?: { readonly policy: string } | null;
}

/**
 * The policy in force for a request, or why none may decide it. `policy_error` holds the approval: a condition that
 * could not be evaluated, or an option the policy gives no outcome. Neither ever falls through to a later, laxer policy.
 */
export type PolicyResolution =
  | { readonly policy: Policy; readonly policy_error: null }
  | { readonly policy: null; readonly policy_error: string | null };

/** How one policy's `match` meets a request: it matches, which criterion it misses, or why its condition cannot be evaluated. */
export type PolicyMatchResult =
  | { readonly kind: 'match' }
  | { readonly kind: 'mismatch'; readonly on: 'dag_id' | 'task_id' | 'tags' | 'when' }
  | { readonly kind: 'error'; readonly error: string };

export function matchOf(match: PolicyMatch | undefined, request: PolicyRequest): PolicyMatchResult {
  if (!match) return { kind: 'match' };
  if (match.dag_id && !match.dag_id.test(request.dag_id)) return { kind: 'mismatch', on: 'dag_id' };
  if (match.task_id && !match.task_id.test(request.task_id)) return { kind: 'mismatch', on: 'task_id' };
  if (match.tags && !match.tags.every((tag) => request.tags.includes(tag))) return { kind: 'mismatch', on: 'tags' };
  if (!match.when) return { kind: 'match' };
  const result = match.when.evaluate(request.values);
  if (!result.ok) return { kind: 'error', error: result.error };
  return result.match ? { kind: 'match' } : { kind: 'mismatch', on: 'when' };
}

/** Why `policy` matched but may not decide the request: an option it gives no outcome; null when it may. */
export function unknownOptionsError(set: PolicySet, policy: Policy, options: readonly string[]): string | null {
  const unknown = options.filter((option) => outcomeOf(set.options, policy, option) === null);
  if (unknown.length === 0) return null;
  const names = unknown.map((option) => `"${option}"`).join(', ');
  return `policy "${policy.name}" gives no outcome (approve or reject) to ${names}: add it under options`;
}

/** The error that holds an approval when `policy`'s condition cannot be evaluated. */
export const conditionError = (policy: Policy, error: string): string => `policy "${policy.name}": cannot evaluate ${error}`;

/** First match wins; a condition error stops the search there, so it cannot select a laxer policy. */
export function resolvePolicy(set: PolicySet, request: PolicyRequest): PolicyResolution {
  if (request.review_of) {
    const bypassed = set.policies.find((p) => p.name === request.review_of!.policy);
    if (!bypassed?.break_glass) return { policy: null, policy_error: `policy "${request.review_of.policy}" no longer has break_glass reviewers to review this bypass` };
    return { policy: reviewPolicy({ ...bypassed, break_glass: bypassed.break_glass }), policy_error: null };
  }
  for (const policy of set.policies) {
    const result = matchOf(policy.match, request);
    if (result.kind === 'mismatch') continue;
    if (result.kind === 'error') return { policy: null, policy_error: conditionError(policy, result.error) };
    const unknown = unknownOptionsError(set, policy, request.options);
    if (unknown) return { policy: null, policy_error: unknown };
    return { policy, policy_error: null };
  }
  return { policy: null, policy_error: null };
}

/** The policy in force, or null when none may decide (no match, or a policy error). */
export function selectPolicy(set: PolicySet, request: PolicyRequest): Policy | null {
  return resolvePolicy(set, request).policy;
}

/** What choosing `option` means: under the policy, or without one by the file's options and the word alone. */
export function meaningOf(set: PolicySet, policy: Policy | null, option: string): OptionOutcome | null {
  return policy ? outcomeOf(set.options, policy, option) : (set.options.get(option) ?? defaultOutcome(option));
}

/** Each option with its meaning, in the request's order; what the UI colours buttons and votes by. */
export function optionOutcomes(set: PolicySet, policy: Policy | null, options: readonly string[]): { option: string; outcome: OptionOutcome | null }[] {
  return options.map((option) => ({ option, outcome: meaningOf(set, policy, option) }));
}
