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

type MatchResult = boolean | { readonly error: string };

function matches(match: PolicyMatch | undefined, request: PolicyRequest): MatchResult {
  if (!match) return true;
  if (match.dag_id && !match.dag_id.test(request.dag_id)) return false;
  if (match.task_id && !match.task_id.test(request.task_id)) return false;
  if (match.tags && !match.tags.every((tag) => request.tags.includes(tag))) return false;
  if (!match.when) return true;
  const result = match.when.evaluate(request.values);
  return result.ok ? result.match : { error: result.error };
}

/** First match wins; a condition error stops the search there, so it cannot select a laxer policy. */
export function resolvePolicy(set: PolicySet, request: PolicyRequest): PolicyResolution {
  if (request.review_of) {
    const bypassed = set.policies.find((p) => p.name === request.review_of!.policy);
    if (!bypassed?.break_glass) return { policy: null, policy_error: `policy "${request.review_of.policy}" no longer has break_glass reviewers to review this bypass` };
    return { policy: reviewPolicy({ ...bypassed, break_glass: bypassed.break_glass }), policy_error: null };
  }
  for (const policy of set.policies) {
    const result = matches(policy.match, request);
    if (result === false) continue;
    if (result !== true) return { policy: null, policy_error: `policy "${policy.name}": cannot evaluate ${result.error}` };
    const unknown = request.options.filter((option) => outcomeOf(set.options, policy, option) === null);
    if (unknown.length > 0) {
      const names = unknown.map((option) => `"${option}"`).join(', ');
      return { policy: null, policy_error: `policy "${policy.name}" gives no outcome (approve or reject) to ${names}: add it under options` };
    }
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
