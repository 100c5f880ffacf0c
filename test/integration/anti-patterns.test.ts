/**
 * Scenarios of the anti-pattern DAGs of catalogue section 7 on the real Airflow and bridge: each shows the
 * failure its doc describes, boundedly, and the corrected pattern beside it succeeding.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, stack } from '../support/clients.js';
import { waitFor } from '../support/clients.js';
import { clickAndConfirm, mailedLink } from '../support/links.js';
import { approval, approvalOf, decide, deliveriesOf, scenario, signIn, states, tokens, vote, waitForTask, xcom } from '../support/scenarios.js';

beforeAll(signIn);

const seg = encodeURIComponent;
const messageKinds = async (approvalId: string) =>
  ((await bridge(`/api/v1/messages?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ kind: string; recipient: string }>).map(
    (m) => `${m.kind}:${m.recipient}`,
  );
/** The approvals the bridge has for one task of a run, in any state (an empty list: it never heard of the task). */
const bridgeApprovalsOf = async (dagId: string, runId: string, taskId: string) =>
  ((await bridge(`/api/v1/approvals?state=all&dag_id=${seg(dagId)}&limit=500`, { token: tokens.alice })).body.items as Array<{ run_id: string; task_id: string }>).filter(
    (a) => a.run_id === runId && a.task_id === taskId,
  );

describe.concurrent('reference DAGs of section 7', () => {
  it('120_07_04_hardcoded_approvers_antipattern: the named approver is gone, the policy-routed gate decides', async () => {
    const DAG = '120_07_04_hardcoded_approvers_antipattern';
    let refused: { status: number; body: any } | undefined;
    let listed: unknown[] = [];
    const run = await scenario(DAG, {}, async (runId) => {
      await waitForTask(DAG, runId, 'hardcoded_gate', ['awaiting_input']);
      // bob owns releases now, but the DAG names dave: Airflow refuses bob's answer.
      // (The suite's Airflow runs on SQLite: a write that meets the lock answers 500 and changes nothing.)
      refused = await waitFor('Airflow to answer bob', async () => {
        const res = await airflow(`/api/v2/dags/${seg(DAG)}/dagRuns/${seg(runId)}/taskInstances/hardcoded_gate/-1/hitlDetails`, {
          method: 'PATCH',
          token: tokens.bob,
          body: JSON.stringify({ chosen_options: ['Approve'], params_input: {} }),
        });
        return res.status === 500 ? undefined : res;
      });
      await decide(runId, 'routed_gate', 'bob', { option: 'Approve' });
      const inbox = await bridge(`/api/v1/approvals?state=all&dag_id=${seg(DAG)}&limit=500`, { token: tokens.bob });
      listed = (inbox.body.items as Array<{ run_id: string; task_id: string }>).filter((a) => a.run_id === runId && a.task_id === 'hardcoded_gate');
    });

    expect(refused?.status).toBe(403);
    expect(JSON.stringify(refused?.body)).toContain('is not a respondent');
    expect(listed).toEqual([]);
    expect(run.state).toBe('failed');
    expect(run.tasks).toMatchObject({ hardcoded_gate: 'failed', ship_hardcoded: 'upstream_failed', routed_gate: 'success', ship_routed: 'success', report: 'success' });
    const record = await xcom(DAG, run.runId, 'report');
    expect(record).toMatchObject({ state: 'approved', policy: 'hardcoded-approvers-fix', option: 'Approve' });
    expect(record.deciders.map((d: { user: string }) => d.user)).toEqual(['bob']);
  });

  it('120_07_02_blocking_antipattern: the poking sensor holds a pool slot, reschedule and awaiting_input hold none', async () => {
    const DAG = '120_07_02_blocking_antipattern';
    const POOL = 'hitl_waits';
    const created = await airflow('/api/v2/pools', { method: 'POST', token: tokens.admin, body: JSON.stringify({ name: POOL, slots: 4 }) });
    expect([201, 409]).toContain(created.status);
    let held: { running_slots: number; occupied_slots: number } | undefined;
    const run = await scenario(DAG, {}, async (runId) => {
      // All three wait at once: read the pool between two identical readings of the waits' states.
      held = await waitFor('the three waits, and the pool while they wait', async () => {
        const before = await states(DAG, runId);
        const waiting = before.blocking_wait === 'running' && before.rescheduled_wait === 'up_for_reschedule' && before.native_gate === 'awaiting_input';
        if (!waiting) return undefined;
        const pool = (await airflow(`/api/v2/pools/${POOL}`, { token: tokens.admin })).body;
        const after = await states(DAG, runId);
        return JSON.stringify(after) === JSON.stringify(before) ? pool : undefined;
      });
      await decide(runId, 'request_blocking', 'bob', { option: 'Approve' });
      await decide(runId, 'request_rescheduled', 'bob', { option: 'Approve' });
      await decide(runId, 'native_gate', 'bob', { option: 'Approve' });
    });

    // The figure the DAG's doc states: one slot for the blocking wait, none for the other two.
    expect(held).toMatchObject({ running_slots: 1, occupied_slots: 1 });
    expect(run.state).toBe('success');
    expect(run.tasks).toMatchObject({ blocking_wait: 'success', rescheduled_wait: 'success', native_gate: 'success', load_a: 'success', load_b: 'success', load_c: 'success' });
    expect(await xcom(DAG, run.runId, 'load_c')).toBe('loaded batch C');
  });

  it('120_07_01_no_timeout_antipattern: the unbounded request gets nothing until the guard fails the run; the bounded one reminds, escalates, expires', async () => {
    const DAG = '120_07_01_no_timeout_antipattern';
    const ids = { unbounded: '', bounded: '' };
    const run = await scenario(DAG, {}, async (runId) => {
      ids.unbounded = (await approvalOf(runId, 'unbounded_gate')).id;
      ids.bounded = (await approvalOf(runId, 'bounded_gate')).id;
    });

    expect(run.state).toBe('failed');
    expect(run.tasks).toMatchObject({ unbounded_gate: 'skipped', purge_unbounded: 'skipped', bounded_gate: 'success', purge_bounded: 'skipped', report: 'success' });
    // The failure, measured: nobody reminded, nobody else asked, nothing decided.
    expect(await messageKinds(ids.unbounded)).toEqual(['request:bob']);
    expect((await bridge(`/api/v1/approvals/${ids.unbounded}/escalations`, { token: tokens.alice })).body.items).toEqual([]);
    expect((await approval(ids.unbounded)).votes).toEqual([]);
    // The fix: reminded, escalated to alice's manager, rejected by the deadline.
    expect(await messageKinds(ids.bounded)).toEqual(expect.arrayContaining(['request:bob', 'reminder:bob', 'escalation:carol']));
    expect((await approval(ids.bounded)).state).toBe('expired');
    expect(await xcom(DAG, run.runId, 'report')).toMatchObject({ state: 'expired', option: 'Reject', deciders: [] });
  });

  it('120_07_03_no_audit_antipattern: the conf flag passes with nothing on record; the audited gate records every vote, refused or counted, in a verified chain', async () => {
    const DAG = '120_07_03_no_audit_antipattern';
    let approvalId = '';
    const refused: Record<string, number> = {};
    const run = await scenario(DAG, { approved: true }, async (runId) => {
      approvalId = (await approvalOf(runId, 'audited_gate')).id;
      // alice asked for the change: she may not approve it; bob must say why.
      refused.self = (await vote('alice', approvalId, { option: 'Approve', reason: 'my own change' })).status;
      refused.noReason = (await vote('bob', approvalId, { option: 'Approve' })).status;
      await decide(runId, 'audited_gate', 'bob', { option: 'Approve', reason: 'quarterly rotation' });
    });

    expect(refused).toEqual({ self: 403, noReason: 422 });
    expect(run.state).toBe('success');
    expect(run.tasks).toMatchObject({ check_flag: 'success', apply_unaudited: 'success', audited_gate: 'success', apply_audited: 'success', accountability: 'success' });
    // The failure, measured: the flag's approval left the bridge nothing, and answers none of an auditor's questions.
    expect(await bridgeApprovalsOf(DAG, run.runId, 'check_flag')).toEqual([]);
    const answers = await xcom(DAG, run.runId, 'accountability');
    expect(answers.check_flag).toMatchObject({ answered: 0, of: 5 });
    expect(answers.audited_gate).toEqual({ answered: 5, of: 5, who: true, when: true, why: true, not_the_requester: true, system_of_record: true });
    // The fix: every step in the audit trail, with its actor and reason, and the chain verifies.
    const trail = (await bridge(`/api/v1/audit?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ action: string; actor: string; reason: string | null }>;
    const steps = trail.map((e) => [e.action, e.actor, e.reason]);
    expect(steps).toEqual(
      expect.arrayContaining([
        ['vote.refused', 'alice', 'my own change'],
        ['vote.refused', 'bob', null],
        ['vote.recorded', 'bob', 'quarterly rotation'],
      ]),
    );
    const actions = trail.map((e) => e.action);
    expect(actions[0]).toBe('approval.registered');
    expect(actions.indexOf('vote.recorded')).toBeLessThan(actions.indexOf('approval.decided'));
    expect((await bridge('/api/v1/audit/verify', { token: tokens.alice })).body).toMatchObject({ ok: true });
  });

  it('120_07_05_no_tracking_antipattern: the hand-sent notice goes nowhere unrecorded and its request fails unanswered; the tracked one fails over, reminds and is approved from the mail', async () => {
    const DAG = '120_07_05_no_tracking_antipattern';
    let approvalId = '';
    const run = await scenario(DAG, {}, async (runId) => {
      approvalId = (await approvalOf(runId, 'tracked_gate')).id;
      await waitFor('a reminder to bob', async () => ((await messageKinds(approvalId)).includes('reminder:bob') ? true : undefined));
      expect(await clickAndConfirm(await mailedLink(runId, 'bob@airgate.test', 'Approve'))).toBe(200);
    });

    expect(run.state).toBe('failed');
    expect(run.tasks).toMatchObject({
      notify_by_hand: 'success',
      untracked_gate: 'failed',
      ship_untracked: 'upstream_failed',
      tracked_gate: 'success',
      ship_tracked: 'success',
      report: 'success',
    });
    // The failure, measured: the task says it notified; nothing was delivered, and nothing anywhere records that.
    expect(await xcom(DAG, run.runId, 'notify_by_hand')).toBe('notified');
    expect(await bridgeApprovalsOf(DAG, run.runId, 'untracked_gate')).toEqual([]);
    // The fix: each delivery on record. Slack (unreachable from the suite) failed after its retries; email took over.
    const deliveries = await deliveriesOf(approvalId);
    const slack = deliveries.filter((d) => d.channel === 'slack' && d.recipient === 'bob' && d.state === 'failed');
    expect(slack.length).toBeGreaterThanOrEqual(1);
    expect(slack[0]).toMatchObject({ attempts: 3, last_error: expect.any(String) });
    const fallbacks = deliveries.filter((d) => d.channel === 'email' && d.state === 'sent' && slack.some((s) => s.id === d.fallback_of));
    expect(fallbacks.map((d) => d.recipient)).toContain('bob');
    expect(await messageKinds(approvalId)).toEqual(expect.arrayContaining(['request:bob', 'reminder:bob']));
    const metrics = await (await fetch(`${stack().bridgeUrl}/metrics`)).text();
    expect(Number(/^airgate_deliveries\{state="failed"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(await xcom(DAG, run.runId, 'report')).toMatchObject({ state: 'approved', policy: 'no-tracking-fix', deciders: [{ user: 'bob', channel: 'email' }] });
  });
});
