import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, stack, taskInstance, waitFor } from '../support/clients.js';
import { act, approval, approvalOf, signIn, tokens, triggerRun, vote, waitForTask, xcom } from '../support/scenarios.js';
import { expectRefusedAndUnchanged, snapshot } from '../support/unchanged.js';

// Decision integrity on the real Airflow + bridge (issue #10, points 1, 2, 4 and 13), shaped by run conf through the
// reference DAGs' policies (bridge/examples/reference-dags.policies.yaml): only the policy decides.
const seg = encodeURIComponent;
const CUSTOM_UI = '120_04_05_custom_ui';
const MULTI = '120_01_04_multi_level';
const BASICS = '120_01_01_approval_basics';

type Task = Awaited<ReturnType<typeof snapshot>>['task'];

describe('security: counting and ways around the gate', () => {
  beforeAll(signIn);

  it('1. a quorum agrees on one option: Ship and "Ship to canary" never add up; Airflow gets the agreed option', async () => {
    // custom-ui-two-person: two release managers (bob, carol) must choose the same option and form input.
    const runId = await triggerRun(CUSTOM_UI, tokens.alice, { two_person: true });
    const pending = await approvalOf(runId, 'release_decision');
    expect(pending).toMatchObject({ policy: 'custom-ui-two-person', progress: { needed: 2, approvals: 0 } });
    const shown = await approval(pending.id);
    expect((shown as unknown as { option_outcomes: unknown }).option_outcomes).toEqual([
      { option: 'Ship', outcome: 'approve' },
      { option: 'Ship to canary', outcome: 'approve' },
      { option: 'Hold', outcome: 'reject' },
    ]);
    // Airflow's response_timeout (4 h) is the deadline people see: the policy sets none.
    expect((shown as unknown as { timeout_at: string | null }).timeout_at).not.toBeNull();
    expect(shown.due_at).toBe((shown as unknown as { timeout_at: string }).timeout_at);

    const before = await snapshot(pending.id, tokens.admin);
    expect((await vote('bob', pending.id, { option: 'Ship' })).status).toBe(200);
    const split = await vote('carol', pending.id, { option: 'Ship to canary', params_input: { canary_percent: 10 } });
    expect(split.status).toBe(200);
    expect(split.body).toMatchObject({ state: 'pending', outcome: null, decided_at: null, progress: { needed: 2, approvals: 1 } });
    const after = await snapshot(pending.id, tokens.admin);
    // The two votes are recorded; nothing was decided, and Airflow's task is untouched.
    expect(after.approval).toMatchObject({ state: 'pending', outcome: null, decided_at: null });
    expect((after.approval.votes as Array<{ user: string; option: string }>).map((v) => [v.user, v.option])).toEqual([
      ['bob', 'Ship'],
      ['carol', 'Ship to canary'],
    ]);
    expect(after.task).toEqual(before.task);
    expect((after.task as NonNullable<Task>).state).toBe('awaiting_input');
    expect(after.auditCount).toBe(before.auditCount + 2);

    // carol changes her mind to bob's choice and input: now two agree, and that is what Airflow is answered with.
    const agreed = await vote('carol', pending.id, { option: 'Ship' });
    expect(agreed.body).toMatchObject({ state: 'approved', outcome: { option: 'Ship', params_input: { canary_percent: 5 } } });
    await waitForTask(CUSTOM_UI, runId, 'act_on_decision', ['success']);
    expect(await xcom(CUSTOM_UI, runId, 'release_decision')).toMatchObject({ chosen_options: ['Ship'] });
  }, 480_000);

  it('2. a condition that cannot be evaluated holds the approval with a policy_error; votes 409, nothing changes', async () => {
    // multi-level-high-risk: `exists(risk) and risk >= 5`; "high" is no number, so no laxer policy may decide.
    const runId = await triggerRun(MULTI, tokens.alice, { risk: 'high' });
    const gate = await approvalOf(runId, 'quorum_gate');
    // Parked first: "nothing changes" compares the task before and after each vote.
    await waitForTask(MULTI, runId, 'quorum_gate', ['awaiting_input']);
    const held = (await approval(gate.id)) as unknown as { policy: string | null; policy_error: string | null; progress: unknown };
    expect(held).toMatchObject({ policy: null, progress: null });
    expect(held.policy_error).toMatch(/^policy "multi-level-high-risk": cannot evaluate exists\(risk\) and risk >= 5: Expected a number/);
    const audit = await bridge(`/api/v1/audit?approval_id=${seg(gate.id)}`, { token: tokens.admin });
    expect(audit.body.items.find((e: { action: string }) => e.action === 'approval.registered')?.details).toMatchObject({ policy_error: held.policy_error });

    // bob and carol would decide it under the laxer multi-level-quorum, admin under the strict one: none may.
    for (const user of ['bob', 'carol', 'admin'] as const) {
      const res = await expectRefusedAndUnchanged(gate.id, tokens.admin, () => vote(user, gate.id, { option: 'Approve' }), { status: 409, code: 'policy_error' });
      expect(res.body.error.message).toContain('cannot evaluate');
    }
    expect((await taskInstance(MULTI, runId, 'quorum_gate', tokens.alice)).state).toBe('awaiting_input');
  }, 480_000);

  it('4. marking or clearing a waiting gate through the bridge is refused; marked in Airflow, it is closed as bypassed', async () => {
    const runId = await triggerRun(BASICS, tokens.alice);
    const gate = await approvalOf(runId, 'approve_load');
    await waitForTask(BASICS, runId, 'approve_load', ['awaiting_input']);
    const target = { dag_id: BASICS, run_id: runId, task_id: 'approve_load' };
    for (const body of [
      { kind: 'mark_task', ...target, state: 'success', reason: 'just ship it' },
      { kind: 'mark_task', ...target, state: 'failed', reason: 'stop it' },
      { kind: 'clear_task', ...target, reason: 'ask again' },
    ]) {
      const res = await expectRefusedAndUnchanged(gate.id, tokens.admin, () => act('admin', body), { status: 409, code: 'approval_pending' });
      expect(res.body.error.message).toContain(`waits for approval ${gate.id}: decide it in airgate`);
    }

    // Airflow itself cannot be stopped: an admin marks the waiting task success there, around the bridge.
    const ti = `/api/v2/dags/${BASICS}/dagRuns/${seg(runId)}/taskInstances/approve_load`;
    const marked = await airflow(ti, { method: 'PATCH', token: tokens.admin, body: JSON.stringify({ new_state: 'success', note: 'forced through' }) });
    expect(marked.status, JSON.stringify(marked.body)).toBe(200);
    const bypassed = await waitFor('the reconcile loop to close the approval as bypassed', async () => {
      const current = await approval(gate.id, 'admin');
      return current.state === 'bypassed' ? current : undefined;
    });
    expect(bypassed).toMatchObject({ state: 'bypassed', votes: [] });
    const audit = await bridge(`/api/v1/audit?approval_id=${seg(gate.id)}`, { token: tokens.admin });
    expect(audit.body.items.find((e: { action: string }) => e.action === 'approval.bypassed')).toMatchObject({
      actor: 'admin',
      details: { by_airflow: { kind: 'state_changed', state: 'success', by: 'admin', event: 'patch_task_instance' } },
    });
    const stats = await bridge('/api/v1/stats', { token: tokens.admin });
    expect(stats.body.bypassed).toBeGreaterThanOrEqual(1);
    expect(stats.body.recent_bypasses.map((b: { id: string }) => b.id)).toContain(gate.id);
    const metrics = await (await fetch(`${stack().bridgeUrl}/metrics`)).text();
    expect(Number(/^airgate_approvals_bypassed (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    // A vote now is too late: the approval is final.
    expect((await vote('bob', gate.id, { option: 'Approve' })).status).toBe(409);
  }, 480_000);
});
