/**
 * Helpers for scenarios of the reference DAGs: runs triggered as people, votes through the bridge, and the
 * run's task states and XComs read back from Airflow's REST API.
 */
import { expect } from 'vitest';
import { type Delivery, airflow, bridge, taskInstance, tokenFor, triggerRun as trigger, waitFor, waitForRunEnd } from './clients.js';

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
 * Airflow on SQLite (`AIRGATE_TEST_AIRFLOW_DB=sqlite`) refuses a write while another holds the lock ("database is
 * locked": Airflow answers 500, nothing is changed). Scenarios run concurrently, but the writes they start
 * (triggers, UI actions) go one at a time, and a write refused for the lock — and only for it — is tried again.
 */
export function serially<T>(write: () => Promise<T>, lockedOut: (result: T) => boolean): Promise<T> {
  const attempt = async () => {
    for (let tries = 1; ; tries++) {
      const result = await write();
      if (!lockedOut(result) || tries === 5) return result;
      await sleep(1000 * tries);
    }
  };
  const done = writes.then(attempt, attempt);
  writes = done.then(() => sleep(200), () => sleep(200));
  return done;
}

/** The words of SQLite's lock error, which the test stack's Airflow reports (`[api] expose_stacktrace` is on). */
const LOCKED = 'database is locked';

/** Triggers a run as the holder of `token`, retrying only a trigger Airflow refused for its SQLite lock. */
export async function triggerRun(dagId: string, token: string, conf: Record<string, unknown> = {}): Promise<string> {
  const result = await serially(
    () => trigger(dagId, token, conf).catch((err: Error) => err),
    (outcome) => outcome instanceof Error && outcome.message.includes(LOCKED),
  );
  if (result instanceof Error) throw result;
  return result;
}

type BridgeAnswer = Awaited<ReturnType<typeof bridge>>;
/** The bridge's 503 when Airflow refused the action for its lock (it names Airflow's reason); nothing was changed. */
const airflowLocked = (res: BridgeAnswer) => res.status === 503 && String(res.body?.error?.message).includes(LOCKED);

export const act = (user: Person, body: Record<string, unknown>) =>
  serially(() => bridge('/api/v1/actions', { method: 'POST', token: tokens[user], body: JSON.stringify(body) }), airflowLocked);
export const confirm = (user: Person, token: string) =>
  serially(() => bridge('/api/v1/actions/confirm', { method: 'POST', token: tokens[user], body: JSON.stringify({ token }) }), airflowLocked);

/** Prepares an action as `user`, checks the effect the bridge names, and confirms it. */
export async function applyAction(user: Person, body: Record<string, unknown>, effect: string) {
  const prepared = await act(user, body);
  expect(prepared.status, JSON.stringify(prepared.body)).toBe(201);
  expect(prepared.body.confirmation.effect).toContain(effect);
  const applied = await confirm(user, prepared.body.confirmation.token);
  expect(applied.status, JSON.stringify(applied.body)).toBe(200);
  return applied.body.result as Record<string, unknown>;
}

export interface ApprovalView {
  id: string;
  run_id: string;
  task_id: string;
  subject: string;
  body: string | null;
  state: string;
  external: boolean;
  policy: string | null;
  level: number;
  votes: Array<{ user: string; option: string; reason: string | null; channel: string; at: string; level: number }>;
  progress: { levels: number; level_name: string; needed: number; approvals: number } | null;
  due_at: string | null;
  decided_at: string | null;
}

/**
 * Waits until the bridge lists the pending approval of `taskId` in `runId` (or the run's only one, without
 * `taskId`), asked with the list's own run and task filters as `token`'s holder (alice by default).
 */
export const approvalOf = (runId: string, taskId?: string, token = tokens.alice) =>
  waitFor(`the bridge to list ${taskId ?? 'the approval'} of ${runId}`, async () => {
    const filter = new URLSearchParams({ state: 'pending', run_id: runId, ...(taskId === undefined ? {} : { task_id: taskId }), limit: '100' });
    const res = await bridge(`/api/v1/approvals?${filter}`, { token });
    return (res.body.items as ApprovalView[]).find((a) => a.run_id === runId && (taskId === undefined || a.task_id === taskId));
  });

export const approval = async (id: string, as: Person = 'alice') => (await bridge(`/api/v1/approvals/${seg(id)}`, { token: tokens[as] })).body as ApprovalView;

export type VoteBody = { option: string; reason?: string; params_input?: Record<string, unknown>; on_behalf_of?: string };

/** Votes with any token: a person's who is not among `tokens` (a viewer, a revoked or a foreign token). */
export const voteAs = (token: string, id: string, body: VoteBody) =>
  bridge(`/api/v1/approvals/${seg(id)}/votes`, { method: 'POST', token, body: JSON.stringify(body) });

export const vote = (user: Person, id: string, body: VoteBody) => voteAs(tokens[user], id, body);

/** Waits for the approval of `taskId`, votes, and expects the vote to be accepted. */
export async function decide(runId: string, taskId: string, user: Person, body: Parameters<typeof vote>[2]) {
  const pending = await approvalOf(runId, taskId);
  const res = await vote(user, pending.id, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return pending.id;
}

/** Every delivery of an approval's messages, newest first. */
export const deliveriesOf = async (approvalId: string) =>
  (await bridge(`/api/v1/deliveries?approval_id=${seg(approvalId)}&limit=100`, { token: tokens.alice })).body.items as Delivery[];

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

/**
 * Triggers a run as alice, lets `steer` decide, and returns the run's final state, task states and what `steer`
 * returned; `runEndMs` is how long the run may take to end once steered (waitFor's default otherwise).
 */
export async function scenario<T>(dagId: string, conf: Record<string, unknown>, steer: (runId: string) => Promise<T>, runEndMs?: number) {
  const runId = await triggerRun(dagId, tokens.alice, conf);
  const steered = await steer(runId);
  const state = await waitForRunEnd(dagId, runId, tokens.alice, runEndMs);
  return { runId, state, tasks: await states(dagId, runId), steered };
}
