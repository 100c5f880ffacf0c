/**
 * Scenarios of the reference DAGs of catalogue section 2 (sensors waiting for an external approval) on the real
 * Airflow and bridge: runs are triggered as alice through Airflow's REST API, decisions are votes through the
 * bridge by bob, and the bridge publishes each decision as the signal the DAG's sensor waits for (a DAG run, a
 * file, a store record, its status API, an asset event). Every path of every DAG runs concurrently.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, stack, tokenFor, triggerRun as trigger, waitFor, waitForRunEnd } from '../support/clients.js';

type Person = 'alice' | 'bob';
const tokens = {} as Record<Person, string>;
const seg = encodeURIComponent;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let writes: Promise<unknown> = Promise.resolve();
/** Triggers one at a time, retrying a trigger refused for Airflow's SQLite lock (see reference-dags.test.ts). */
function triggerRun(dagId: string): Promise<string> {
  const attempt = async () => {
    for (let tries = 1; ; tries++) {
      try {
        return await trigger(dagId, tokens.alice);
      } catch (err) {
        if (tries === 5 || !String(err).includes('Database error')) throw err;
        await sleep(1000 * tries);
      }
    }
  };
  const done = writes.then(attempt, attempt);
  writes = done.then(() => sleep(200), () => sleep(200));
  return done;
}

const approvalOf = (runId: string) =>
  waitFor(`the bridge to list the approval of ${runId}`, async () => {
    const res = await bridge('/api/v1/approvals?state=pending&limit=500', { token: tokens.alice });
    return (res.body.items as Array<{ id: string; run_id: string; external: boolean }>).find((a) => a.run_id === runId);
  });

/** Waits for the run's external approval and has bob decide it. */
async function decide(runId: string, option: 'Approve' | 'Reject', reason?: string) {
  const approval = await approvalOf(runId);
  expect(approval.external).toBe(true);
  const res = await bridge(`/api/v1/approvals/${approval.id}/votes`, {
    method: 'POST',
    token: tokens.bob,
    body: JSON.stringify({ option, reason }),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return approval.id;
}

async function states(dagId: string, runId: string): Promise<Record<string, string | null>> {
  const res = await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances?limit=100`, { token: tokens.alice });
  return Object.fromEntries((res.body.task_instances as Array<{ task_id: string; state: string | null }>).map((t) => [t.task_id, t.state]));
}

async function xcom(dagId: string, runId: string, taskId: string) {
  const res = await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances/${seg(taskId)}/xcomEntries/return_value`, {
    token: tokens.alice,
  });
  expect(res.status, `xcom of ${taskId}`).toBe(200);
  return res.body.value;
}

/** Triggers a run, lets `decision` decide it, and returns the run's final state and task states. */
async function scenario(dagId: string, decision: (runId: string) => Promise<unknown>) {
  const runId = await triggerRun(dagId);
  const approvalId = (await decision(runId)) as string;
  const state = await waitForRunEnd(dagId, runId, tokens.alice);
  return { runId, approvalId, state, tasks: await states(dagId, runId) };
}

const auditActions = async (approvalId: string) =>
  ((await bridge(`/api/v1/audit?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ action: string; details: { kind?: string } }>)
    .filter((e) => e.action === 'effect.applied')
    .map((e) => e.details.kind);

beforeAll(async () => {
  for (const user of ['alice', 'bob'] as const) tokens[user] = await tokenFor(user);
});

describe.concurrent('reference DAGs of section 2: sensors for external approvals', () => {
  it('120_02_01_external_signal: the bridge triggers the signal run the ExternalTaskSensor waits for; a rejection skips', async () => {
    const DAG = '120_02_01_external_signal';
    const [approved, rejected] = await Promise.all([
      scenario(DAG, (run) => decide(run, 'Approve')),
      scenario(DAG, (run) => decide(run, 'Reject', 'tests are flaky')),
    ]);
    expect(approved.state).toBe('success');
    expect(approved.tasks).toEqual({ request_approval: 'success', wait_for_approval: 'success', deploy: 'success' });
    expect(await xcom(DAG, approved.runId, 'deploy')).toContain('approved by bob');
    const signalRun = await airflow(`/api/v2/dags/airgate_approval_signal/dagRuns/airgate__${approved.approvalId}`, { token: tokens.alice });
    expect(signalRun.body).toMatchObject({ state: 'success', conf: { airgate_approval: { state: 'approved', approval_id: approved.approvalId } } });
    expect(await auditActions(approved.approvalId)).toEqual(['trigger_dag']);

    expect(rejected.state).toBe('success');
    expect(rejected.tasks).toEqual({ request_approval: 'success', wait_for_approval: 'skipped', deploy: 'skipped' });
  });

  it('120_02_02_file_approval: the FileSensor finds the file the bridge wrote, the DAG parses it and cleans it up', async () => {
    const DAG = '120_02_02_file_approval';
    const [approved, rejected] = await Promise.all([
      scenario(DAG, (run) => decide(run, 'Approve')),
      scenario(DAG, (run) => decide(run, 'Reject', 'export is incomplete')),
    ]);
    expect(approved.state).toBe('success');
    expect(approved.tasks).toEqual({
      request_approval: 'success',
      wait_for_approval_file: 'success',
      parse_approval: 'success',
      load: 'success',
      record_rejection: 'skipped',
      cleanup_approval_file: 'success',
    });
    expect(await xcom(DAG, approved.runId, 'load')).toMatch(/^loaded, approved by bob at /);
    expect(await auditActions(approved.approvalId)).toEqual(['signal_file']);

    expect(rejected.tasks).toMatchObject({ load: 'skipped', record_rejection: 'success', cleanup_approval_file: 'success' });
    expect(await xcom(DAG, rejected.runId, 'record_rejection')).toBe('rejected: bob: export is incomplete');
    for (const run of [approved.runId, rejected.runId]) {
      expect(existsSync(resolve(stack().home, 'signals', DAG, run))).toBe(false);
    }
  });

  it('120_02_03_db_approval: the SQL sensor polls the record in the store; a rejection skips; polling is reported', async () => {
    const DAG = '120_02_03_db_approval';
    const [approved, rejected] = await Promise.all([
      scenario(DAG, (run) => decide(run, 'Approve')),
      scenario(DAG, (run) => decide(run, 'Reject', 'wrong table')),
    ]);
    expect(approved.state).toBe('success');
    expect(approved.tasks).toEqual({ request_approval: 'success', wait_for_approval_record: 'success', read_record: 'success', load: 'success', report_polling: 'success' });
    const polling = await xcom(DAG, approved.runId, 'report_polling');
    expect(polling).toMatchObject({ outcome: 'approved' });
    expect(polling.waited_seconds).toBeGreaterThan(0);
    expect(polling.detection_lag_seconds).toBeGreaterThanOrEqual(0);
    expect(polling.detection_lag_seconds).toBeLessThan(60);

    expect(rejected.tasks).toEqual({ request_approval: 'success', wait_for_approval_record: 'skipped', read_record: 'skipped', load: 'skipped', report_polling: 'success' });
    expect(await xcom(DAG, rejected.runId, 'report_polling')).toEqual({ outcome: 'not_approved' });
  });

  it('120_02_04_api_approval: the sensor polls the bridge API with the service token and parses the answer', async () => {
    const DAG = '120_02_04_api_approval';
    const [approved, rejected] = await Promise.all([
      scenario(DAG, (run) => decide(run, 'Approve')),
      scenario(DAG, (run) => decide(run, 'Reject', 'prices not final')),
    ]);
    expect(approved.state).toBe('success');
    expect(approved.tasks).toEqual({ request_approval: 'success', poll_approval_api: 'success', parse_approval: 'success', publish: 'success' });
    expect(await xcom(DAG, approved.runId, 'parse_approval')).toMatchObject({
      approval_id: approved.approvalId,
      option: 'Approve',
      approved_by: 'bob',
      channel: 'api',
    });
    expect(rejected.tasks).toEqual({ request_approval: 'success', poll_approval_api: 'skipped', parse_approval: 'skipped', publish: 'skipped' });
  });

  it('120_02_05_asset_approval: the decision is an asset event that schedules the dependent run, which deploys only when approved', async () => {
    const DAG = '120_02_05_asset_approval';
    /** The asset-triggered run that read the event of `approvalId`. */
    const consumerOf = (approvalId: string) =>
      waitFor(`the asset-triggered run for approval ${approvalId} to end`, async () => {
        const res = await airflow(`/api/v2/dags/${DAG}/dagRuns?run_type=asset_triggered&limit=100`, { token: tokens.alice });
        for (const run of res.body.dag_runs as Array<{ dag_run_id: string; state: string }>) {
          if (!['success', 'failed'].includes(run.state)) continue;
          const tasks = await states(DAG, run.dag_run_id);
          if (tasks.read_approval_events !== 'success') continue;
          const signals = (await xcom(DAG, run.dag_run_id, 'read_approval_events')) as Array<{ approval_id: string }>;
          if (signals.some((s) => s.approval_id === approvalId)) return { runId: run.dag_run_id, tasks, signals };
        }
        return undefined;
      });
    // One after the other: two events that arrive together schedule a single run.
    const approved = await scenario(DAG, (run) => decide(run, 'Approve'));
    const deployed = await consumerOf(approved.approvalId);
    const rejected = await scenario(DAG, (run) => decide(run, 'Reject', 'freeze week'));
    const skipped = await consumerOf(rejected.approvalId);

    for (const asked of [approved, rejected]) {
      expect(asked.state).toBe('success');
      expect(asked.tasks).toMatchObject({ ask_or_act: 'success', request_approval: 'success', read_approval_events: 'skipped', deploy: 'skipped' });
    }
    expect(deployed.tasks).toMatchObject({ request_approval: 'skipped', any_approved: 'success', deploy: 'success' });
    expect(deployed.signals).toEqual([expect.objectContaining({ state: 'approved', option: 'Approve', deciders: [expect.objectContaining({ user: 'bob' })] })]);
    expect(await xcom(DAG, deployed.runId, 'deploy')).toEqual([`deployed after approval ${approved.approvalId} by bob`]);
    expect(skipped.tasks).toMatchObject({ any_approved: 'success', deploy: 'skipped' });
    expect(skipped.signals).toEqual([expect.objectContaining({ state: 'rejected', deciders: [expect.objectContaining({ reason: 'freeze week' })] })]);
    expect(await auditActions(approved.approvalId)).toEqual(['asset_event']);
  });
});
