import { inject } from 'vitest';

export const stack = () => inject('stack');

/** One delivery as `GET /api/v1/deliveries` lists it (the fields the suites read). */
export interface Delivery {
  id: number;
  recipient: string;
  channel: string;
  state: string;
  attempts: number;
  last_error: string | null;
  fallback_of: number | null;
}

/** Polls `probe` until it returns a value other than undefined, or fails naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

async function call(base: string, path: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  if (init.body) headers.set('Content-Type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

export async function tokenFor(user: string): Promise<string> {
  const { airflowUrl, passwords } = stack();
  const res = await call(airflowUrl, '/auth/token', {
    method: 'POST',
    body: JSON.stringify({ username: user, password: passwords[user] }),
  });
  if (res.status !== 201) throw new Error(`login as ${user} failed: ${res.status}`);
  return res.body.access_token as string;
}

export const airflow = (path: string, init: RequestInit & { token?: string } = {}) => call(stack().airflowUrl, path, init);
export const bridge = (path: string, init: RequestInit & { token?: string } = {}) => call(stack().bridgeUrl, path, init);

const seg = encodeURIComponent;

export async function triggerRun(dagId: string, token: string, conf: Record<string, unknown> = {}): Promise<string> {
  const res = await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns`, {
    method: 'POST',
    token,
    body: JSON.stringify({ logical_date: null, conf }),
  });
  if (res.status !== 200) throw new Error(`trigger ${dagId} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.dag_run_id as string;
}

export async function runState(dagId: string, runId: string, token: string): Promise<string> {
  return (await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}`, { token })).body.state as string;
}

export async function taskInstance(dagId: string, runId: string, taskId: string, token: string) {
  return (await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances/${seg(taskId)}`, { token }))
    .body as { state: string; note: string | null };
}

export const waitForRunEnd = (dagId: string, runId: string, token: string, timeoutMs?: number) =>
  waitFor(
    `run ${runId} of ${dagId} to end`,
    async () => {
      const state = await runState(dagId, runId, token);
      return ['success', 'failed'].includes(state) ? state : undefined;
    },
    timeoutMs,
  );

/** Waits until the bridge lists the approval of `runId` and returns it. */
export const waitForApproval = (runId: string, token: string) =>
  waitFor(`the bridge to list an approval for ${runId}`, async () => {
    const res = await bridge('/api/v1/approvals?state=pending&limit=500', { token });
    return (res.body.items as Array<{ id: string; run_id: string; task_id: string; options: string[] }>).find((a) => a.run_id === runId);
  });
