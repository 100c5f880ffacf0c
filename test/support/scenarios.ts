/**
 * Helpers for scenarios of the reference DAGs: runs triggered as people, votes through the bridge, and the
 * run's task states and XComs read back from Airflow's REST API.
 */
import { expect } from 'vitest';
import { airflow, bridge, taskInstance, tokenFor, triggerRun as trigger, waitFor, waitForRunEnd } from './clients.js';

export type Person = 'alice' | 'bob' | 'carol' | 'admin';
export const tokens = {} as Record<Person, string>;
const seg = encodeURIComponent;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Signs in every person once; call from beforeAll. */
export async function signIn() {
  for (const user of ['alice', 'bob', 'carol', 'admin'] as const) tokens[user] = await tokenFor(user);
}

let writes: Promise<unknown> = Promise.resolve();
/**
 * The test stack's Airflow runs on SQLite, which refuses a write while another holds the lock ("database is
 * locked": Airflow answers 500, nothing is changed). Scenarios run concurrently, but the runs they trigger are
 * created one at a time, and one refused for the lock is tried again.
 */
export function triggerRun(dagId: string, token: string, conf: Record<string, unknown> = {}): Promise<string> {
  const attempt = async () => {
    for (let tries = 1; ; tries++) {
      try {
        return await trigger(dagId, token, conf);
      } catch (err) {
        if (!String(err).includes('Database error') || tries === 5) throw err;
        await sleep(1000 * tries);
      }
    }
  };
  const done = writes.then(attempt, attempt);
  writes = done.then(() => sleep(200), () => sleep(200));
  return done;
}

export interface ApprovalView {
  id: string;
  run_id: string;
  task_id: string;
  state: string;
  policy: string | null;
  level: number;
  votes: Array<{ user: string; option: string; reason: string | null; channel: string; at: string; level: number }>;
  progress: { levels: number; level_name: string; needed: number; approvals: number } | null;
  due_at: string | null;
  decided_at: string | null;
}

/** Waits until the bridge lists the pending approval of `taskId` in `runId`. */
export const approvalOf = (runId: string, taskId: string) =>
  waitFor(`the bridge to list ${taskId} of ${runId}`, async () => {
    const res = await bridge('/api/v1/approvals?state=pending&limit=500', { token: tokens.alice });
    return (res.body.items as ApprovalView[]).find((a) => a.run_id === runId && a.task_id === taskId);
  });

export const approval = async (id: string, as: Person = 'alice') => (await bridge(`/api/v1/approvals/${seg(id)}`, { token: tokens[as] })).body as ApprovalView;

export const vote = (user: Person, id: string, body: { option: string; reason?: string; params_input?: Record<string, unknown> }) =>
  bridge(`/api/v1/approvals/${seg(id)}/votes`, { method: 'POST', token: tokens[user], body: JSON.stringify(body) });

/** Waits for the approval of `taskId`, votes, and expects the vote to be accepted. */
export async function decide(runId: string, taskId: string, user: Person, body: Parameters<typeof vote>[2]) {
  const pending = await approvalOf(runId, taskId);
  const res = await vote(user, pending.id, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return pending.id;
}

export async function states(dagId: string, runId: string): Promise<Record<string, string | null>> {
  const res = await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances?limit=100`, { token: tokens.alice });
  return Object.fromEntries((res.body.task_instances as Array<{ task_id: string; state: string | null }>).map((t) => [t.task_id, t.state]));
}

export async function xcom(dagId: string, runId: string, taskId: string, key = 'return_value') {
  const res = await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances/${seg(taskId)}/xcomEntries/${key}`, {
    token: tokens.alice,
  });
  expect(res.status, `xcom ${key} of ${taskId}`).toBe(200);
  return res.body.value;
}

export const waitForTask = (dagId: string, runId: string, taskId: string, wanted: string[]) =>
  waitFor(`${taskId} of ${runId} to be ${wanted.join('/')}`, async () => {
    const { state } = await taskInstance(dagId, runId, taskId, tokens.alice);
    return wanted.includes(state) ? state : undefined;
  });

export const note = async (dagId: string, runId: string, taskId: string) => (await taskInstance(dagId, runId, taskId, tokens.alice)).note ?? '';

/** Triggers a run as alice, lets `steer` decide, and returns the run's final state and task states. */
export async function scenario(dagId: string, conf: Record<string, unknown>, steer: (runId: string) => Promise<unknown>) {
  const runId = await triggerRun(dagId, tokens.alice, conf);
  await steer(runId);
  const state = await waitForRunEnd(dagId, runId, tokens.alice);
  return { runId, state, tasks: await states(dagId, runId) };
}
