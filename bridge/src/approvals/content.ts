import { canonicalJson, sha256Hex, toJsonValue } from '../audit/canonical.js';
import type { ApprovalRequest } from './store.js';

/** What a person is shown when asked: the request's words, choices and form, and the task try it is for. */
export type ReviewedContent = Pick<ApprovalRequest, 'dag_id' | 'run_id' | 'task_id' | 'map_index' | 'try_number' | 'subject' | 'body' | 'options' | 'params'>;

/**
 * The SHA-256 of what a person reviewed, as `sha256:<hex>` over its canonical JSON: the same content always gives
 * the same digest whatever order its keys came in, and any change to it (a word of the body, a form default, another
 * try) gives another. Votes and receipts carry it, so a decision names exactly what was decided on.
 */
export function contentDigest(content: ReviewedContent): string {
  const { dag_id, run_id, task_id, map_index, try_number, subject, body, options, params } = content;
  const reviewed = { dag_id, run_id, task_id, map_index, try_number, subject, body, options, params };
  return `sha256:${sha256Hex(canonicalJson(toJsonValue(reviewed)))}`;
}
