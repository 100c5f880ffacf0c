import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { SignJWT } from 'jose';
import { inject } from 'vitest';
import { waitFor } from '../../support/clients.js';

export { waitFor };
export const fault = () => inject('fault');
export const DAG = 'fault_gates';
const seg = encodeURIComponent;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Reply {
  status: number;
  body: any;
}

/** One HTTP call; a connection the load balancer or a replica dropped is status 0, never an exception. */
export async function call(base: string, path: string, init: RequestInit & { token?: string } = {}): Promise<Reply> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  if (init.body) headers.set('Content-Type', 'application/json');
  try {
    const res = await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's page): kept as text so the assertion shows it.
    }
    return { status: res.status, body };
  } catch {
    return { status: 0, body: null };
  }
}

export const lb = (path: string, init: RequestInit & { token?: string } = {}) => call(fault().bridgeUrl, path, init);
export const airflow = (path: string, init: RequestInit & { token?: string } = {}) => call(fault().airflowUrl, path, init);

const tokens = new Map<string, string>();
/**
 * A person's token with the claims Airflow's `POST /auth/token` puts in one (api_fastapi/auth/tokens.py
 * JWTGenerator.generate: jti, aud, nbf, exp, iat, plus SimpleAuthManager.serialize_user's sub, role, teams), signed
 * HS512 with its jwt_secret. Airflow's validator requires exp, iat and nbf and reads the user from the token alone
 * (SimpleAuthManager.deserialize_user), so it treats these people as any signed-in `user`, as the bridge does.
 */
export async function tokenOf(user: string): Promise<string> {
  let token = tokens.get(user);
  if (!token) {
    token = await new SignJWT({ role: 'user', teams: null })
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
      .setJti(randomUUID().replaceAll('-', ''))
      .setSubject(user)
      .setAudience('apache-airflow')
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('3h')
      .sign(new TextEncoder().encode(fault().jwtSecret));
    tokens.set(user, token);
  }
  return token;
}

/** Airflow's own token for a dev login (admin reads task instances and HITL details). */
export async function airflowToken(user = 'admin'): Promise<string> {
  const res = await airflow('/auth/token', { method: 'POST', body: JSON.stringify({ username: user, password: fault().passwords[user] }) });
  if (res.status !== 201) throw new Error(`login as ${user} failed: ${res.status}`);
  return res.body.access_token as string;
}

export const voters = (n: number) => Array.from({ length: n }, (_, i) => `v${String(i + 1).padStart(2, '0')}`);

export interface ApprovalView {
  id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  state: string;
  votes: Array<{ user: string; option: string; level: number; replaced: boolean }>;
  outcome: { option: string } | null;
}

/** Triggers fault_gates with `count` mapped approval tasks and waits until the bridge lists all of them. */
export async function triggerGates(scenario: string, count: number): Promise<{ runId: string; approvals: ApprovalView[] }> {
  const admin = await airflowToken();
  const res = await airflow(`/api/v2/dags/${DAG}/dagRuns`, {
    method: 'POST',
    token: admin,
    body: JSON.stringify({ logical_date: null, conf: { scenario, count } }),
  });
  if (res.status !== 200) throw new Error(`trigger failed: ${res.status} ${JSON.stringify(res.body)}`);
  const runId = res.body.dag_run_id as string;
  const approvals = await waitFor(
    `the bridge to list ${count} approvals of ${runId}`,
    async () => {
      const pending = await approvalsOf(runId, 'pending');
      return pending.length === count ? pending : undefined;
    },
    // Each mapped task is started by a Celery worker before it parks: 5-13 s each on a loaded 2-core machine.
    120_000 + count * 15_000,
  );
  return { runId, approvals };
}

/** Every approval of a run in `state`, paging through the bridge's list. */
export async function approvalsOf(runId: string, state = 'all'): Promise<ApprovalView[]> {
  const token = await tokenOf('v01');
  const all: ApprovalView[] = [];
  for (let cursor: string | null = null; ; ) {
    const res = await lb(`/api/v1/approvals?state=${state}&dag_id=${DAG}&limit=500${cursor ? `&cursor=${seg(cursor)}` : ''}`, { token });
    if (res.status !== 200) throw new Error(`list approvals: ${res.status} ${JSON.stringify(res.body)}`);
    all.push(...(res.body.items as ApprovalView[]).filter((a) => a.run_id === runId));
    cursor = res.body.next_cursor as string | null;
    if (!cursor) return all;
  }
}

export const approvalById = async (id: string) => (await lb(`/api/v1/approvals/${seg(id)}`, { token: await tokenOf('v01') })).body as ApprovalView;

/**
 * Votes as `user`, trying again (same Idempotency-Key) while the answer is not final: a dropped connection or a
 * 502/503 from a dying replica says nothing about whether the vote was stored, and the key makes the retry safe.
 * Returns every status seen, last one last.
 */
export async function vote(user: string, approvalId: string, option: string, key: string, tries = 30): Promise<number[]> {
  const statuses: number[] = [];
  for (let n = 0; n < tries; n++) {
    const res = await lb(`/api/v1/approvals/${seg(approvalId)}/votes`, {
      method: 'POST',
      token: await tokenOf(user),
      headers: { 'Idempotency-Key': key },
      body: JSON.stringify({ option }),
    });
    statuses.push(res.status);
    if (res.status !== 0 && res.status < 500) return statuses;
    await sleep(500);
  }
  return statuses;
}

/** A vote the bridge took: counted now (200), or kept until Airflow can say whether its voter may decide (202). */
export const acknowledged = (status: number) => status === 200 || status === 202;

/** Waits until no vote is kept waiting for Airflow any more (each counted or refused through the ordinary path). */
export const deferredVotesSettled = () =>
  // One at a time, each asking Airflow again: 185 kept votes took ~8 min to settle at a load average of 30.
  waitFor('every deferred vote to be settled', async () => ((await lb('/readyz')).body?.details?.deferred_votes === 0 ? true : undefined), 900_000);

export interface HitlDetail {
  task_instance: { map_index: number; note: string | null; state: string | null };
  response_received: boolean;
  chosen_options: string[] | null;
  responded_by_user: { id: string; name: string } | null;
}

/** Airflow's HITL details of a run's mapped gate tasks, by map index. */
export async function hitlDetails(runId: string): Promise<Map<number, HitlDetail>> {
  const res = await airflow(`/api/v2/dags/${DAG}/dagRuns/${seg(runId)}/hitlDetails?limit=1000`, { token: await airflowToken() });
  if (res.status !== 200) throw new Error(`hitlDetails: ${res.status} ${JSON.stringify(res.body)}`);
  return new Map((res.body.hitl_details as HitlDetail[]).map((d) => [d.task_instance.map_index, d]));
}

/** The gate task instances of a run (state and note), by map index. */
export async function gateTasks(runId: string): Promise<Map<number, { state: string | null; note: string | null }>> {
  const res = await airflow(`/api/v2/dags/${DAG}/dagRuns/${seg(runId)}/taskInstances?task_id=gate&limit=1000`, { token: await airflowToken() });
  if (res.status !== 200) throw new Error(`taskInstances: ${res.status} ${JSON.stringify(res.body)}`);
  const items = res.body.task_instances as Array<{ task_id: string; map_index: number; state: string | null; note: string | null }>;
  return new Map(items.filter((t) => t.task_id === 'gate').map((t) => [t.map_index, t]));
}

/** How often each effect of an approval was applied, from the audit trail (`effect.applied` entries). */
export async function appliedEffects(approvalId: string): Promise<Record<string, number>> {
  const res = await lb(`/api/v1/audit?approval_id=${seg(approvalId)}&limit=500`, { token: await tokenOf('v01') });
  if (res.status !== 200) throw new Error(`audit: ${res.status} ${JSON.stringify(res.body)}`);
  const counts: Record<string, number> = {};
  for (const entry of res.body.items as Array<{ action: string; details: { kind?: string } }>) {
    if (entry.action === 'effect.applied' && entry.details.kind) counts[entry.details.kind] = (counts[entry.details.kind] ?? 0) + 1;
  }
  return counts;
}

export interface SummaryRow {
  scenario: string;
  sent: number;
  acknowledged: number;
  applied: number;
  lost: number;
  duplicated: number;
}

/** Adds a scenario's row to the table the suite prints at the end (test-output/fault-summary.jsonl). */
export function report(row: SummaryRow) {
  const dir = resolve(import.meta.dirname, '..', '..', '..', 'test-output');
  mkdirSync(dir, { recursive: true });
  appendFileSync(resolve(dir, 'fault-summary.jsonl'), `${JSON.stringify(row)}\n`);
}
