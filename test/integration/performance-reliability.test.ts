/**
 * Scenarios of the performance and reliability DAGs of catalogue section 9 on the real Airflow and bridge: each path
 * the DAG teaches, with the figures the run computed checked against Airflow's and the bridge's own records.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, stack, taskInstance, waitFor, waitForRunEnd } from '../support/clients.js';
import { recordKill } from '../support/kills.mjs';
import {
  type ApprovalView,
  applyAction,
  approval,
  approvalOf,
  decide,
  deliveriesOf,
  scenario,
  signIn,
  states,
  tokens,
  triggerRun,
  waitForTask,
  xcom,
} from '../support/scenarios.js';

beforeAll(signIn);

const seg = encodeURIComponent;

interface TaskInstance {
  task_id: string;
  map_index: number;
  state: string | null;
  start_date: string | null;
  end_date: string | null;
}

/** The task instances of a run as Airflow lists them. */
async function taskInstances(dagId: string, runId: string) {
  const res = await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances?limit=100`, { token: tokens.alice });
  return res.body.task_instances as TaskInstance[];
}

const bridgeAnswers = () => fetch(`${stack().bridgeUrl}/healthz`).then((r) => r.ok, () => false);

describe.concurrent('reference DAGs of section 9', () => {
  // On its own, before the others: it stops the bridge they would be talking to.
  it.sequential(
    '120_09_02_high_availability: Slack fails over to email, a request made while the bridge is down is registered by its reconcile loop, and a cleared check finds the same approval',
    async () => {
      const DAG = '120_09_02_high_availability';
      const reached = await triggerRun(DAG, tokens.alice);
      const gate = await approvalOf(reached, 'approve_payout');
      expect(gate.policy).toBe('high-availability');
      // The suite's Slack stand-in is down for bob and carol: after its retries, email takes over for each.
      await waitFor('email to take over from Slack for bob and carol', async () => {
        const fallbacks = (await deliveriesOf(gate.id)).filter((d) => d.channel === 'email' && d.fallback_of !== null && d.state === 'sent');
        return new Set(fallbacks.map((d) => d.recipient)).size === 2 ? true : undefined;
      });
      // Decided, and answered in Airflow by the bridge's effects whenever it can: the outage below may come first.
      await decide(reached, 'approve_payout', 'bob', { option: 'Approve' });

      // The bridge stopped: the push of the next request gets no answer (the notifier gives up after its timeout and
      // the task parks anyway), then killed before it could take that request late, and restarted by the stack.
      const pids = JSON.parse(readFileSync(resolve(stack().home, 'pids.json'), 'utf8')) as Record<string, number>;
      const outage = await triggerRun(DAG, tokens.alice);
      process.kill(-pids.bridge!, 'SIGSTOP');
      try {
        await waitForTask(DAG, outage, 'approve_payout', ['awaiting_input']);
      } finally {
        recordKill(stack().home, 'bridge');
        process.kill(-pids.bridge!, 'SIGKILL');
      }
      await waitFor('the bridge to be back', async () => ((await bridgeAnswers()) ? true : undefined));
      const found = await approvalOf(outage, 'approve_payout');
      const trail = await bridge(`/api/v1/audit?approval_id=${seg(found.id)}`, { token: tokens.alice });
      expect((trail.body.items as Array<{ action: string; channel: string | null }>).filter((e) => e.action === 'approval.registered')).toMatchObject([
        { channel: 'reconcile' },
      ]);
      await decide(outage, 'approve_payout', 'carol', { option: 'Reject', reason: 'payee list changed during the outage' });

      expect(await waitForRunEnd(DAG, reached, tokens.alice)).toBe('success');
      expect(await states(DAG, reached)).toMatchObject({ approve_payout: 'success', release_payout: 'success', verify_state: 'success' });
      const verified = await xcom(DAG, reached, 'verify_state');
      expect(verified).toMatchObject({
        approval_id: gate.id,
        registered_by: 'push',
        agreed: { state: 'approved', option: 'Approve' },
        deciders: ['bob'],
      });
      for (const person of ['bob', 'carol']) {
        expect(verified.notification_paths[person]).toEqual({ messages: 'sent', slack: 'failed', email: 'sent' });
        expect(verified.failovers).toContainEqual({ recipient: person, from: 'slack', to: 'email', attempts: 3, error: expect.any(String), delivered: true });
      }

      expect(await waitForRunEnd(DAG, outage, tokens.alice)).toBe('success');
      expect(await states(DAG, outage)).toMatchObject({ approve_payout: 'success', release_payout: 'skipped', verify_state: 'success' });
      expect(await xcom(DAG, outage, 'verify_state')).toMatchObject({
        approval_id: found.id,
        registered_by: 'reconcile',
        agreed: { state: 'rejected', option: 'Reject' },
        deciders: ['carol'],
      });

      // State persistence: the check, run again, reads the same stored approval in both stores.
      await applyAction('alice', { kind: 'clear_task', dag_id: DAG, run_id: reached, task_id: 'verify_state', reason: 'verify again' }, 'clears 1 task: verify_state');
      // Its first run may have needed retries: the bridge was down when the decision resumed the run.
      await waitFor('verify_state to run again', async () => ((await xcom(DAG, reached, 'verify_state')).verified_by_try > verified.verified_by_try ? true : undefined));
      expect(await waitForRunEnd(DAG, reached, tokens.alice)).toBe('success');
      expect(await xcom(DAG, reached, 'verify_state')).toMatchObject({ approval_id: gate.id, agreed: { state: 'approved', option: 'Approve' } });
    },
  );

  it('120_09_01_minimize_latency: one approval answered by push, one polled for, each delay computed from the stores', async () => {
    const DAG = '120_09_01_minimize_latency';
    const run = await scenario(DAG, {}, async (runId) => {
      const [push, poll] = await Promise.all([approvalOf(runId, 'push_approval'), approvalOf(runId, 'request_polled')]);
      expect([push.policy, poll.policy]).toEqual(['minimize-latency', 'minimize-latency']);
      expect(push.subject).toMatch(/^Roll out build 2\.4\.1 to eu \(\d+ hosts, canary errors \d+\.\d+%\)\?$/);
      await Promise.all([
        decide(runId, 'push_approval', 'bob', { option: 'Approve' }),
        decide(runId, 'request_polled', 'carol', { option: 'Approve' }),
      ]);
      return { push, poll };
    });

    expect(run.state).toBe('success');
    expect(run.tasks).toMatchObject({ push_approval: 'success', roll_out_push: 'success', poll_approval: 'success', roll_out_poll: 'success', latency_report: 'success' });
    const report = await xcom(DAG, run.runId, 'latency_report');
    const ran = Object.fromEntries((await taskInstances(DAG, run.runId)).map((t) => [t.task_id, t]));
    for (const [path, asked, resumedBy] of [
      ['push', run.steered.push, 'roll_out_push'],
      ['poll', run.steered.poll, 'roll_out_poll'],
    ] as const) {
      const figures = report[path];
      const decided = (await approval(asked.id)) as ApprovalView & { decided_at: string };
      // The figures come from the stores: the bridge's decision time and Airflow's start of the next task.
      expect(figures).toMatchObject({ approval_id: asked.id, state: 'approved', registered_by: 'push', decided_at: decided.decided_at });
      // The task's own start, as Airflow gave it to the task: within the run Airflow records for it.
      const resumed = Date.parse(figures.resumed_at);
      expect(resumed).toBeGreaterThanOrEqual(Date.parse(ran[resumedBy]!.start_date!));
      expect(resumed).toBeLessThanOrEqual(Date.parse(ran[resumedBy]!.end_date!));
      // Every channel that delivered is measured: the inbox, and the suite's email.
      const sent = new Set((await deliveriesOf(asked.id)).filter((d) => d.state === 'sent').map((d) => d.channel));
      expect(new Set(Object.keys(figures.notified_s))).toEqual(sent);
      expect(sent).toEqual(new Set(['messages', 'email']));
      expect(figures.notified_s.messages).toBe(0);
      for (const seconds of [...Object.values(figures.notified_s), figures.decided_after_notice_s, figures.decision_to_resume_s]) {
        expect(seconds).toBeGreaterThanOrEqual(0);
      }
    }
    expect(report.push.decision_to_resume_s).toBeCloseTo(report.push.decision_to_answer_s + report.push.answer_to_resume_s, 2);
    expect(report.poll.poke_interval_s).toBe(15);
    expect(['push', 'poll']).toContain(report.resumed_first);
  });

  it('120_09_03_scaling_approvals: six batch approvals pending at once in two queues, approved and rejected one by one', async () => {
    const DAG = '120_09_03_scaling_approvals';
    // Seed 3: urgent batches 0-3 and routine batches 0-1 (as the DAG's kit test names them).
    const decisions = [
      { task: 'approve_urgent', index: 0, user: 'bob', option: 'Approve' },
      { task: 'approve_urgent', index: 1, user: 'carol', option: 'Reject', reason: 'duplicate invoice' },
      { task: 'approve_urgent', index: 2, user: 'bob', option: 'Approve' },
      { task: 'approve_urgent', index: 3, user: 'carol', option: 'Approve' },
      { task: 'approve_routine', index: 0, user: 'bob', option: 'Approve' },
      { task: 'approve_routine', index: 1, user: 'bob', option: 'Reject', reason: 'supplier on hold' },
    ] as const;
    const run = await scenario(DAG, { requests: 6, seed: 3 }, async (runId) => {
      const pending = await waitFor('six batch approvals pending at once', async () => {
        const res = await bridge(`/api/v1/approvals?state=pending&run_id=${seg(runId)}&limit=100`, { token: tokens.alice });
        const items = res.body.items as Array<ApprovalView & { map_index: number }>;
        return items.length === decisions.length ? items : undefined;
      });
      const policyOf = { approve_urgent: 'scaling-urgent', approve_routine: 'scaling-routine' } as const;
      for (const a of pending) expect(a.policy).toBe(policyOf[a.task_id as keyof typeof policyOf]);
      expect(pending.filter((a) => a.task_id === 'approve_urgent').every((a) => a.subject.startsWith('URGENT '))).toBe(true);
      await Promise.all(
        decisions.map(async ({ task, index, user, option, ...rest }) => {
          const target = pending.find((a) => a.task_id === task && a.map_index === index)!;
          const res = await bridge(`/api/v1/approvals/${seg(target.id)}/votes`, {
            method: 'POST',
            token: tokens[user],
            body: JSON.stringify({ option, ...rest }),
          });
          expect(res.status, JSON.stringify(res.body)).toBe(200);
        }),
      );
    });

    expect(run.state).toBe('success');
    const tis = await taskInstances(DAG, run.runId);
    const byIndex = (task: string) => tis.filter((t) => t.task_id === task).sort((a, b) => a.map_index - b.map_index).map((t) => t.state);
    expect(byIndex('approve_urgent')).toEqual(['success', 'success', 'success', 'success']);
    // One processing per batch, under its own decision.
    expect(byIndex('process_urgent')).toEqual(['success', 'skipped', 'success', 'success']);
    expect(byIndex('process_routine')).toEqual(['success', 'skipped']);
    const [urgent, routine] = [await xcom(DAG, run.runId, 'urgent_queue'), await xcom(DAG, run.runId, 'routine_queue')];
    const paid = [urgent[0], urgent[2], urgent[3], routine[0]].flatMap((b: { amounts: number[] }) => b.amounts).reduce((sum: number, x: number) => sum + x, 0);
    const report = await xcom(DAG, run.runId, 'capacity_report');
    expect(report).toMatchObject({ requested: 6, urgent: 4, routine: 2, approved: 4, rejected: 2 });
    expect(report.paid).toBeCloseTo(paid, 2);
  });
});
