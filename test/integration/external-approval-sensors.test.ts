/**
 * Scenarios of the reference DAGs of catalogue section 2 (sensors waiting for an external approval) on the real
 * Airflow and bridge: runs are triggered as alice through Airflow's REST API, decisions are votes through the
 * bridge by bob, and the bridge publishes each decision as the signal the DAG's sensor waits for (a DAG run, a
 * file, a store record, its status API, an asset event). Every path of every DAG runs concurrently.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, stack, waitFor } from '../support/clients.js';
import { approvalOf, decide as decideTask, scenario as runScenario, signIn, states, tokens, xcom } from '../support/scenarios.js';

/** Waits for the run's external approval and has bob decide it; returns the approval's id. */
async function decide(runId: string, option: 'Approve' | 'Reject', reason?: string) {
  expect((await approvalOf(runId, 'request_approval')).external).toBe(true);
  return decideTask(runId, 'request_approval', 'bob', { option, reason });
}

/** Triggers a run, lets `decision` decide it, and returns the run's final state, task states and approval id. */
async function scenario(dagId: string, decision: (runId: string) => Promise<string>) {
  const { steered: approvalId, ...ended } = await runScenario(dagId, {}, decision);
  return { ...ended, approvalId };
}

const auditActions = async (approvalId: string) =>
  ((await bridge(`/api/v1/audit?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ action: string; details: { kind?: string } }>)
    .filter((e) => e.action === 'effect.applied')
    .map((e) => e.details.kind);

beforeAll(signIn);

describe.concurrent('reference DAGs of section 2: sensors for external approvals', () => {
  it('120_02_01_external_signal: the bridge triggers the signal run the sensor waits for, matched by run id; a rejection skips', async () => {
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
    // Matched by its run id: the signal run has no logical date another approval's run could share.
    expect(signalRun.body.logical_date).toBeNull();
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
    // The sensor's XCom is the row it found, which read_record named without querying again.
    const found = (await xcom(DAG, approved.runId, 'wait_for_approval_record')) as { record: unknown[]; detected_at: string };
    expect(found.record.slice(0, 1)).toEqual(['approved']);
    expect(await xcom(DAG, approved.runId, 'read_record')).toMatchObject({ state: 'approved', detected_at: found.detected_at });

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
    // The sensor's XCom is the answer it saw, which parse_approval read instead of asking again.
    expect(await xcom(DAG, approved.runId, 'poll_approval_api')).toMatchObject({ approval_id: approved.approvalId, state: 'approved', option: 'Approve', deciders: [{ user: 'bob' }] });
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
