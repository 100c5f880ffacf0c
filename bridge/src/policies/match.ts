import type { PolicySet } from './load.js';
import type { Policy, PolicyMatch } from './schema.js';

/** What a policy is chosen by: where the approval sits and the values it was asked with. */
export interface PolicyRequest {
  readonly dag_id: string;
  readonly task_id: string;
  /** The DAG's tags. */
  readonly tags: readonly string[];
  /** The run's conf merged with the HITL params' values; what `when` conditions read. */
  readonly values: Readonly<Record<string, unknown>>;
}

function matches(match: PolicyMatch | undefined, request: PolicyRequest): boolean {
  if (!match) return true;
  if (match.dag_id && !match.dag_id.test(request.dag_id)) return false;
  if (match.task_id && !match.task_id.test(request.task_id)) return false;
  if (match.tags && !match.tags.every((tag) => request.tags.includes(tag))) return false;
  return !match.when || match.when.test(request.values);
}

/** The first policy in the file that matches the request (first match wins), or null when none does. */
export function selectPolicy(set: PolicySet, request: PolicyRequest): Policy | null {
  return set.policies.find((policy) => matches(policy.match, request)) ?? null;
}
