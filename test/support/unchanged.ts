/**
 * "Nothing changed": what a refused request must leave as it was. A snapshot holds the approval as the bridge
 * shows it (state, level, votes, outcome), the count of its audit entries, and the task instance and HITL
 * answer as Airflow shows them. Security tests take one before the refused request and compare after it.
 */
import { expect } from 'vitest';
import { airflow, bridge, waitFor } from './clients.js';

const seg = encodeURIComponent;

export interface Snapshot {
  approval: { state: string; level: number; votes: unknown[]; outcome: unknown; decided_at: string | null };
  /** Entries of the approval's audit trail, except refusals' own records (`*.refused`), which a refusal may add. */
  auditCount: number;
  /** Airflow's task instance and HITL answer; null when the snapshot was taken without them. */
  task: { state: string | null; note: string | null; try_number: number; response_received: boolean; chosen_options: string[] | null } | null;
}

interface ApprovalKey {
  id: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
}

async function auditCount(approvalId: string, token: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page = await bridge(`/api/v1/audit?approval_id=${seg(approvalId)}&limit=500${cursor ? `&cursor=${cursor}` : ''}`, { token });
    if (page.status !== 200) throw new Error(`audit of ${approvalId}: ${page.status} ${JSON.stringify(page.body)}`);
    count += (page.body.items as Array<{ action: string }>).filter((e) => !e.action.endsWith('.refused')).length;
    cursor = page.body.next_cursor as string | null;
  } while (cursor);
  return count;
}

async function taskOf(a: ApprovalKey, token: string): Promise<NonNullable<Snapshot['task']>> {
  const ti = `/api/v2/dags/${seg(a.dag_id)}/dagRuns/${seg(a.run_id)}/taskInstances/${seg(a.task_id)}`;
  const [instance, hitl] = await Promise.all([
    airflow(a.map_index >= 0 ? `${ti}/${a.map_index}` : ti, { token }),
    airflow(`${ti}/${a.map_index}/hitlDetails`, { token }),
  ]);
  if (instance.status !== 200) throw new Error(`task instance of ${a.id}: ${instance.status}`);
  return {
    state: instance.body.state,
    note: instance.body.note,
    try_number: instance.body.try_number,
    // An external approval has no HITL request in Airflow (404): nothing there can change either.
    response_received: hitl.status === 200 ? Boolean(hitl.body.response_received) : false,
    chosen_options: hitl.status === 200 ? hitl.body.chosen_options : null,
  };
}

/**
 * Everything about approval `id` a refusal must not change, read with `token` (one that may read the approval's
 * DAG, e.g. an admin's). `withTask: false` leaves Airflow out, for approvals whose task moves on by itself
 * (an external approval's requesting task finishes after registering).
 */
export async function snapshot(id: string, token: string, options: { withTask?: boolean } = {}): Promise<Snapshot> {
  const res = await bridge(`/api/v1/approvals/${seg(id)}`, { token });
  if (res.status !== 200) throw new Error(`approval ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  const a = res.body as ApprovalKey & Snapshot['approval'];
  return {
    approval: { state: a.state, level: a.level, votes: a.votes, outcome: a.outcome, decided_at: a.decided_at },
    auditCount: await auditCount(id, token),
    task: options.withTask === false ? null : await taskOf(a, token),
  };
}

/** States a task passes through on its own (a HITL task runs, then parks in awaiting_input). */
const MOVING = new Set(['scheduled', 'queued', 'running']);

/**
 * A snapshot taken once the task has come to rest: the bridge may register an approval while its task is still
 * running on the way to awaiting_input, and that move is Airflow's, not the refused request's.
 */
async function settled(id: string, token: string, options: { withTask?: boolean }): Promise<Snapshot> {
  if (options.withTask === false) return snapshot(id, token, options);
  return waitFor(`approval ${id}'s task at rest`, async () => {
    const s = await snapshot(id, token, options);
    return s.task && MOVING.has(s.task.state ?? '') ? undefined : s;
  }, 120_000);
}

/**
 * Runs `attempt` and expects it refused with `status` (and the contract's error `code`, when given) and approval
 * `id` exactly as before. Returns the response for further checks.
 */
export async function expectRefusedAndUnchanged(
  id: string,
  token: string,
  attempt: () => Promise<{ status: number; body: any }>,
  expected: { status: number; code?: string; withTask?: boolean },
) {
  const before = await settled(id, token, expected);
  const res = await attempt();
  expect(res.status, JSON.stringify(res.body)).toBe(expected.status);
  if (expected.code) expect(res.body?.error?.code, JSON.stringify(res.body)).toBe(expected.code);
  expect(await snapshot(id, token, expected)).toEqual(before);
  return res;
}
