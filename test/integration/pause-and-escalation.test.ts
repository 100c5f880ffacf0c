/**
 * Scenarios of the reference DAGs of catalogue section 6 (pause/resume and escalation) on the real Airflow and
 * bridge: thresholds are the demo-sized ones of bridge/examples/reference-dags.policies.yaml, so each path waits
 * seconds, and every path runs concurrently.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, taskInstance, tokenFor, waitFor, waitForRunEnd } from '../support/clients.js';
import { opsHook } from '../support/hooks.js';
import { applyAction, approval, approvalOf, scenario, signIn, states, tokens, triggerRun, vote, waitForTask, xcom } from '../support/scenarios.js';

beforeAll(signIn);

interface Escalation {
  level: number;
  step: number;
  approver: string;
  reason: string;
}
const escalations = async (approvalId: string) =>
  (await bridge(`/api/v1/approvals/${approvalId}/escalations`, { token: tokens.alice })).body.items as Escalation[];
const escalatedTo = (approvalId: string, approver: string) =>
  waitFor(`${approver} to be added to ${approvalId}`, async () => ((await escalations(approvalId)).some((e) => e.approver === approver) ? true : undefined));
const messages = async (approvalId: string) =>
  ((await bridge(`/api/v1/messages?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ kind: string; recipient: string }>).map(
    (m) => `${m.kind}:${m.recipient}`,
  );

describe.concurrent('reference DAGs of section 6: pause, resume and escalation', () => {
  it('120_06_01_dag_pause: paused through the bridge, the running task finishes, the decided approval waits for the resume; the pause history is in the audit', async () => {
    const DAG = '120_06_01_dag_pause';
    const run = await scenario(DAG, {}, async (runId) => {
      await waitForTask(DAG, runId, 'load_batches', ['running']);
      const { id } = await approvalOf(runId, 'approve_publish');
      await applyAction('alice', { kind: 'pause_dag', dag_id: DAG, reason: 'warehouse maintenance' }, 'pauses');
      const loadWhenPaused = (await taskInstance(DAG, runId, 'load_batches', tokens.alice)).state;
      const voted = await vote('bob', id, { option: 'Approve' });
      // Answered, the approval task is handed back to the scheduler, which queues nothing of a paused DAG.
      await waitForTask(DAG, runId, 'approve_publish', ['scheduled']);
      await waitForTask(DAG, runId, 'load_batches', ['success']);
      const whilePaused = {
        paused: (await airflow(`/api/v2/dags/${DAG}`, { token: tokens.alice })).body.is_paused as boolean,
        tasks: await states(DAG, runId),
        approval: (await approval(id)).state,
      };
      await applyAction('alice', { kind: 'resume_dag', dag_id: DAG, reason: 'maintenance over' }, 'resumes');
      return { loadWhenPaused, voted: voted.status, whilePaused };
    });

    expect(run.steered.loadWhenPaused).toBe('running');
    expect(run.steered.voted).toBe(200);
    expect(run.steered.whilePaused).toEqual({
      paused: true,
      tasks: { extract: 'success', load_batches: 'success', approve_publish: 'scheduled', publish: null },
      approval: 'approved',
    });
    expect(run.state).toBe('success');
    expect(run.tasks).toEqual({ extract: 'success', load_batches: 'success', approve_publish: 'success', publish: 'success' });
    expect(await xcom(DAG, run.runId, 'publish')).toMatchObject({ published_rows: 1500, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), approved_by: [{ user: 'bob' }] });
    const history = await bridge(`/api/v1/audit?dag_id=${DAG}&action=action.applied&actor=alice&limit=500`, { token: tokens.alice });
    expect(history.status).toBe(200);
    const entries = history.body.items as Array<{ actor: string; reason: string; details: { request: { kind: string; dag_id: string } } }>;
    expect(entries.map((e) => [e.details.request.kind, e.reason])).toEqual([
      ['pause_dag', 'warehouse maintenance'],
      ['resume_dag', 'maintenance over'],
    ]);
    const refused = await bridge(`/api/v1/audit?dag_id=${DAG}&since=last-week`, { token: tokens.alice });
    expect(refused.status).toBe(400);
    expect(refused.body.error.field).toBe('since');
  });

  it('120_06_02_task_pause: the pause lives in the bridge; a signed signal resumes it, a change manager aborts it, unended it times out', async () => {
    const DAG = '120_06_02_task_pause';
    const [resumed, aborted, timedOut] = await Promise.all([
      scenario(DAG, {}, async (runId) => {
        const { id } = await approvalOf(runId, 'pause_for_window');
        // Paused without a slot: the sensor is rescheduled between pokes, the pause itself is the bridge's record.
        await waitForTask(DAG, runId, 'wait_for_resume', ['up_for_reschedule']);
        const byRequester = await vote('alice', id, { option: 'Resume' });
        const stillPaused = (await approval(id)).state;
        const signal = await opsHook({ approval_id: id, user: 'carol', option: 'Resume' });
        return { byRequester: byRequester.status, stillPaused, signal: signal.status };
      }),
      scenario(DAG, {}, async (runId) => {
        const { id } = await approvalOf(runId, 'pause_for_window');
        const bare = await vote('bob', id, { option: 'Abort' });
        const given = await vote('bob', id, { option: 'Abort', reason: 'maintenance overran; load tomorrow' });
        return { bare: bare.body.error?.code as string, given: given.status };
      }),
      scenario(DAG, {}, async (runId) => (await approvalOf(runId, 'pause_for_window')).id),
    ]);

    expect(resumed.steered).toEqual({ byRequester: 403, stillPaused: 'pending', signal: 200 });
    expect(resumed.state).toBe('success');
    expect(resumed.tasks).toEqual({ stage_batch: 'success', pause_for_window: 'success', wait_for_resume: 'success', load_batch: 'success', report_pause: 'success' });
    const staged = (await xcom(DAG, resumed.runId, 'stage_batch')) as { rows: number };
    expect(staged.rows).toBe(400);
    expect(await xcom(DAG, resumed.runId, 'report_pause')).toMatchObject({ outcome: 'resumed', ended_by: 'carol', channel: 'webhook:ops', released_rows: 0 });

    expect(aborted.steered).toEqual({ bare: 'reason_required', given: 200 });
    expect(aborted.tasks).toMatchObject({ wait_for_resume: 'skipped', load_batch: 'skipped', report_pause: 'success' });
    expect(await xcom(DAG, aborted.runId, 'report_pause')).toMatchObject({ outcome: 'aborted', ended_by: 'bob', reason: 'maintenance overran; load tomorrow', released_rows: 400 });

    // Nobody ends it: the policy's 30 s deadline expires the pause in the bridge, and the sensor sees that.
    expect(timedOut.tasks).toMatchObject({ wait_for_resume: 'skipped', load_batch: 'skipped', report_pause: 'success' });
    // The policy's deadline ended it: closed exactly at its due time, with nobody as decider.
    const expired = (await approval(timedOut.steered)) as unknown as { state: string; decided_at: string; due_at: string };
    expect(expired.state).toBe('expired');
    expect(expired.decided_at).toBe(expired.due_at);
    const report = (await xcom(DAG, timedOut.runId, 'report_pause')) as { outcome: string; ended_by: string | null; paused_s: number; released_rows: number };
    expect(report).toMatchObject({ outcome: 'timed_out', ended_by: null, released_rows: 400 });
    expect(report.paused_s).toBeGreaterThan(0);
  });

  it('120_06_03_escalation: a stalled request goes to the secondary approver, who decides; unanswered it climbs to admin and expires', async () => {
    const DAG = '120_06_03_escalation';
    const [secondary, unanswered] = await Promise.all([
      scenario(DAG, {}, async (runId) => {
        const { id } = await approvalOf(runId, 'approve_refund');
        // Before the 8 s threshold carol is no approver of this request.
        const early = await vote('carol', id, { option: 'Approve' });
        await escalatedTo(id, 'carol');
        const decided = await vote('carol', id, { option: 'Approve' });
        expect(decided.status, JSON.stringify(decided.body)).toBe(200);
        return { id, early };
      }),
      scenario(DAG, {}, async (runId) => (await approvalOf(runId, 'approve_refund')).id),
    ]);

    expect(secondary.steered.early.status).toBe(403);
    expect(secondary.state).toBe('success');
    expect(secondary.tasks).toEqual({ plan_refund: 'success', approve_refund: 'success', issue_refund: 'success', record_escalation_chain: 'success' });
    expect(await xcom(DAG, secondary.runId, 'issue_refund')).toBe('refunded 455 EUR over 5 orders');
    const kept = await xcom(DAG, secondary.runId, 'record_escalation_chain');
    expect(kept.decision).toMatchObject({ state: 'approved', policy: 'escalation-no-response', option: 'Approve', deciders: [{ user: 'carol' }] });
    expect(kept.escalations).toMatchObject([{ level: 1, step: 0, approver: 'carol', reason: 'escalation step 1: undecided 8s after the request' }]);
    expect(kept.stalled_s_before_first_escalation).toEqual(expect.any(Number));
    expect(await messages(secondary.steered.id)).toEqual(expect.arrayContaining(['request:bob', 'escalation:carol']));

    expect(unanswered.state).toBe('success');
    expect(unanswered.tasks).toMatchObject({ approve_refund: 'success', issue_refund: 'skipped', record_escalation_chain: 'success' });
    const chain = await xcom(DAG, unanswered.runId, 'record_escalation_chain');
    expect(chain.decision).toMatchObject({ state: 'expired', option: 'Reject', deciders: [] });
    expect(chain.escalations.map((e: Escalation) => [e.step, e.approver])).toEqual([
      [0, 'carol'],
      [1, 'admin'],
    ]);
    expect(await escalations(unanswered.steered)).toEqual(chain.escalations);
  });

  it('120_06_04_manager_escalation: the absent manager is skipped, the chain climbs, and the skip-level manager decides alone', async () => {
    const DAG = '120_06_04_manager_escalation';
    const dave = await tokenFor('dave');
    const asDave = async (steer: (approvalId: string) => Promise<void>) => {
      const runId = await triggerRun(DAG, dave);
      const { id } = await approvalOf(runId, 'approve_purchase');
      await steer(id);
      return { runId, id, state: await waitForRunEnd(DAG, runId, tokens.alice), tasks: await states(DAG, runId) };
    };
    const [skipLevel, direct] = await Promise.all([
      asDave(async (id) => {
        await escalatedTo(id, 'admin');
        const res = await vote('admin', id, { option: 'Approve' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }),
      asDave(async (id) => {
        const res = await vote('bob', id, { option: 'Approve' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }),
    ]);

    expect(skipLevel.state).toBe('success');
    expect(skipLevel.tasks).toEqual({ prepare_purchase: 'success', approve_purchase: 'success', place_order: 'success', record_chain: 'success' });
    expect(await xcom(DAG, skipLevel.runId, 'place_order')).toBe('ordered 3570 EUR for dave');
    const kept = await xcom(DAG, skipLevel.runId, 'record_chain');
    expect(kept.decision).toMatchObject({ state: 'approved', policy: 'manager-escalation', deciders: [{ user: 'admin', option: 'Approve' }] });
    expect(kept.escalations.map((e: Escalation) => [e.step, e.approver])).toEqual([
      [0, 'carol'],
      [1, 'admin'],
    ]);
    // erin is on leave: never asked, never told.
    const told = await messages(skipLevel.id);
    expect(told).toEqual(expect.arrayContaining(['request:bob', 'escalation:carol', 'escalation:admin']));
    expect(told.filter((m) => m.endsWith(':erin'))).toEqual([]);

    expect(direct.state).toBe('success');
    const directly = await xcom(DAG, direct.runId, 'record_chain');
    expect(directly).toMatchObject({ decision: { state: 'approved', deciders: [{ user: 'bob' }] }, escalations: [] });
  });

  it('120_06_05_sla_escalation: decided in time it is met; unanswered it is warned, breached, escalated to the manager who decides; stats count both', async () => {
    const DAG = '120_06_05_sla_escalation';
    const [inTime, breached] = await Promise.all([
      scenario(DAG, {}, async (runId) => {
        const { id } = await approvalOf(runId, 'approve_payment_run');
        const res = await vote('bob', id, { option: 'Approve' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return id;
      }),
      scenario(DAG, {}, async (runId) => {
        const { id } = await approvalOf(runId, 'approve_payment_run');
        await escalatedTo(id, 'carol');
        const res = await vote('carol', id, { option: 'Approve' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return id;
      }),
    ]);

    expect(inTime.state).toBe('success');
    expect(inTime.tasks).toEqual({ prepare_payment_run: 'success', approve_payment_run: 'success', pay_invoices: 'success', record_sla: 'success' });
    expect(await xcom(DAG, inTime.runId, 'pay_invoices')).toBe('paid 8 invoices, 9000 EUR');
    const met = await xcom(DAG, inTime.runId, 'record_sla');
    expect(met).toMatchObject({ sla: { task_id: 'approve_payment_run', sla: 'met', due_at: expect.any(String) }, escalations: [] });
    expect(met.sla.margin_seconds).toBeGreaterThan(0);
    const told = await messages(inTime.steered);
    expect(told).toContain('request:bob');
    expect(told.filter((m) => m.startsWith('sla_') || m.startsWith('escalation'))).toEqual([]);

    expect(breached.state).toBe('success');
    expect(breached.tasks).toMatchObject({ approve_payment_run: 'success', pay_invoices: 'success', record_sla: 'success' });
    const late = await xcom(DAG, breached.runId, 'record_sla');
    expect(late.sla.sla).toBe('breached');
    expect(late.sla.margin_seconds).toBeLessThanOrEqual(0);
    expect(late.escalations).toMatchObject([{ step: -1, approver: 'carol', reason: 'deadline passed' }]);
    expect(await messages(breached.steered)).toEqual(
      expect.arrayContaining(['request:bob', 'sla_warning:bob', 'sla_breach:bob', 'sla_breach:alice', 'escalation:carol']),
    );

    const stats = await bridge('/api/v1/stats?days=1', { token: tokens.alice });
    expect(stats.body.sla_by_dag).toContainEqual({ dag_id: DAG, met: 1, breached: 1, warned: 1, escalated: 1, compliance: 0.5 });
  });
});
