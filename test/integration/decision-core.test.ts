import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  airflow,
  bridge,
  stack,
  taskInstance,
  triggerRun,
  waitFor,
  waitForApproval,
  waitForRunEnd,
} from '../support/clients.js';
import { recordKill } from '../support/kills.mjs';
import { type Person, signIn, tokens, vote as voteOn, xcom } from '../support/scenarios.js';

const MULTI = '120_01_04_multi_level';
const BASICS = '120_01_01_approval_basics';

type Approval = { id: string; run_id: string; task_id: string; state: string; level: number; policy: string | null; progress: { needed: number; approvals: number } };

const approvalsOf = (runId: string, token: string, count: number) =>
  waitFor(`${count} approvals of ${runId}`, async () => {
    const res = await bridge('/api/v1/approvals?state=pending&limit=500', { token });
    const mine = (res.body.items as Approval[]).filter((a) => a.run_id === runId);
    return mine.length === count ? Object.fromEntries(mine.map((a) => [a.task_id, a])) : undefined;
  });

describe('decision core on real Airflow: quorum, levels, parallel groups, self-approval, outages', () => {
  const vote = (user: Person, id: string, option = 'Approve', reason?: string) => voteOn(user, id, { option, ...(reason ? { reason } : {}) });

  beforeAll(signIn);

  it('2 of 3 with self-approval refused, a two-level chain, and parallel groups decide one run', async () => {
    const runId = await triggerRun(MULTI, tokens.alice!);
    const gates = await approvalsOf(runId, tokens.alice!, 3);
    const quorum = gates.quorum_gate!;
    const chain = gates.chain_gate!;
    const parallel = gates.parallel_gate!;

    const self = await vote('alice', quorum.id);
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('self_approval');
    expect((await vote('bob', quorum.id, 'Approve', 'schema checked')).body).toMatchObject({ state: 'pending', progress: { needed: 2, approvals: 1 } });
    expect((await vote('carol', quorum.id, 'Approve', 'counts match')).body.state).toBe('approved');

    const early = await vote('bob', chain.id);
    expect(early.status).toBe(403);
    expect(early.body.error.code).toBe('not_eligible');
    expect((await vote('carol', chain.id)).body).toMatchObject({ state: 'pending', level: 2 });
    expect((await vote('bob', chain.id)).body).toMatchObject({ state: 'pending', level: 2, progress: { needed: 2, approvals: 1 } });
    expect((await vote('carol', chain.id)).body.state).toBe('approved');

    expect((await vote('bob', parallel.id)).body.state).toBe('pending');
    expect((await vote('carol', parallel.id)).body.state).toBe('pending');
    expect((await vote('admin', parallel.id)).body.state).toBe('approved');

    expect(await waitForRunEnd(MULTI, runId, tokens.alice!)).toBe('success');
    const note = (await taskInstance(MULTI, runId, 'quorum_gate', tokens.alice!)).note ?? '';
    expect(note).toContain('Approve by bob via api: schema checked');
    expect(note).toContain('Approve by carol via api: counts match');
    expect(note).not.toContain('alice');
    expect((await taskInstance(MULTI, runId, 'publish', tokens.alice!)).state).toBe('success');
  });

  it('a rejected gate and an unanswered one (policy deadline) stop the release; report_progress says who did what', async () => {
    const [rejected, unanswered] = [await triggerRun(MULTI, tokens.alice!), await triggerRun(MULTI, tokens.alice!, { quick_deadline: true })];
    const gates = await approvalsOf(rejected, tokens.alice!, 3);
    expect((await vote('bob', gates.quorum_gate!.id, 'Reject', 'schema drift in orders')).body.state).toBe('rejected');
    expect((await vote('carol', gates.chain_gate!.id)).body).toMatchObject({ state: 'pending', level: 2 });
    await vote('bob', gates.parallel_gate!.id);
    await vote('carol', gates.parallel_gate!.id);
    expect((await vote('admin', gates.parallel_gate!.id)).body.state).toBe('approved');
    await vote('bob', gates.chain_gate!.id);
    expect((await vote('carol', gates.chain_gate!.id)).body.state).toBe('approved');
    // Nobody votes on the other run: its quick policy's 20 s deadline rejects every gate.
    expect((await approvalsOf(unanswered, tokens.alice!, 3)).quorum_gate!.policy).toBe('multi-level-quick-deadline');

    for (const run of [rejected, unanswered]) expect(await waitForRunEnd(MULTI, run, tokens.alice!)).toBe('success');
    expect((await taskInstance(MULTI, rejected, 'publish', tokens.alice!)).state).toBe('skipped');
    expect(await xcom(MULTI, rejected, 'report_progress')).toMatchObject({
      quorum_gate: { state: 'rejected', option: 'Reject', votes: ['Reject by bob'] },
      chain_gate: { state: 'approved', option: 'Approve', votes: ['Approve by carol', 'Approve by bob', 'Approve by carol'] },
      parallel_gate: { state: 'approved', votes: ['Approve by bob', 'Approve by carol', 'Approve by admin'] },
    });
    expect((await taskInstance(MULTI, unanswered, 'publish', tokens.alice!)).state).toBe('skipped');
    const timedOut = await xcom(MULTI, unanswered, 'report_progress');
    for (const gate of ['quorum_gate', 'chain_gate', 'parallel_gate']) expect(timedOut[gate]).toMatchObject({ state: 'expired', option: 'Reject', votes: [] });
  });

  it("nobody bypasses the bridge's quorum through Airflow's API, not even an admin", async () => {
    const runId = await triggerRun(MULTI, tokens.alice!);
    const gates = await approvalsOf(runId, tokens.alice!, 3);
    for (const user of ['bob', 'admin'] as const) {
      const res = await airflow(
        `/api/v2/dags/${MULTI}/dagRuns/${encodeURIComponent(runId)}/taskInstances/quorum_gate/-1/hitlDetails`,
        { method: 'PATCH', token: tokens[user], body: JSON.stringify({ chosen_options: ['Approve'], params_input: {} }) },
      );
      expect(res.status).toBe(403);
    }
    expect((await bridge(`/api/v1/approvals/${gates.quorum_gate!.id}`, { token: tokens.bob })).body.state).toBe('pending');
    await airflow(`/api/v2/dags/${MULTI}/dagRuns/${encodeURIComponent(runId)}`, {
      method: 'PATCH',
      token: tokens.admin,
      body: JSON.stringify({ state: 'failed' }),
    });
  });

  it('Airflow api-server killed while votes arrive: each vote is kept, counted with Airflow\'s permission once it is back, and applied once', async () => {
    const runs = [await triggerRun(BASICS, tokens.alice!), await triggerRun(BASICS, tokens.alice!)];
    const approvals = await Promise.all(runs.map((run) => waitForApproval(run, tokens.alice!)));
    // Parked first: a task still starting talks to the execution API, which the api-server serves, and fails without it.
    for (const approval of approvals) {
      await waitFor(`${approval.task_id} of ${approval.run_id} to wait for input`, async () =>
        (await taskInstance(BASICS, approval.run_id, approval.task_id, tokens.alice!)).state === 'awaiting_input' ? true : undefined,
      );
    }
    const pids = JSON.parse(readFileSync(resolve(stack().home, 'pids.json'), 'utf8')) as Record<string, number>;
    recordKill(stack().home, 'api-server');
    process.kill(-pids['api-server']!, 'SIGKILL');
    try {
      await waitFor('the api-server to go down', async () => (await fetch(`${stack().airflowUrl}/api/v2/monitor/health`).then(() => undefined, () => true)));

      // Airflow cannot say whether bob may decide: the votes are kept, not counted, and not refused.
      for (const approval of approvals) {
        const res = await vote('bob', approval.id, 'Approve', 'decided during the outage');
        expect(res.status).toBe(202);
        expect(res.body).toMatchObject({ approval_id: approval.id, user: 'bob', state: 'awaiting_airflow' });
      }
      const ready = await fetch(`${stack().bridgeUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'degraded', details: { store: true, airflow: false, deferred_votes: 2 } });
    } finally {
      // The stack's supervisor restarts the api-server; the suites after this one need it.
      await waitFor('the api-server to be back', async () => (await fetch(`${stack().airflowUrl}/api/v2/monitor/health`).then((r) => r.ok || undefined, () => undefined)), 180_000);
    }

    for (const run of runs) expect(await waitForRunEnd(BASICS, run, tokens.alice!)).toBe('success');
    for (const approval of approvals) {
      const trail = await bridge(`/api/v1/audit?approval_id=${approval.id}`, { token: tokens.bob });
      const items = trail.body.items as Array<{ action: string; actor: string; details: { kind?: string; received_at?: string } }>;
      expect(items.map((e) => e.action)).toEqual(expect.arrayContaining(['vote.deferred', 'vote.recorded', 'approval.decided']));
      expect(items.find((e) => e.action === 'vote.recorded')).toMatchObject({ actor: 'bob', details: { received_at: expect.any(String) } });
      const applied = items.filter((e) => e.action === 'effect.applied');
      expect(applied.map((e) => e.details.kind).sort()).toEqual(['answer_hitl', 'task_note']);
      expect(items.some((e) => e.action === 'effect.failed')).toBe(false);
    }
    expect((await bridge('/api/v1/audit/verify', { token: tokens.bob })).body.ok).toBe(true);
  });
});
