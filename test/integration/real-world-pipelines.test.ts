/**
 * Scenarios of the real-world DAGs of catalogue section 10 on the real Airflow and bridge: each path the DAG
 * teaches, with the figures the reviewer saw checked against what the run computed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, waitFor, waitForRunEnd } from '../support/clients.js';
import { approvalOf, decide, scenario, signIn, states, tokens, vote, xcom } from '../support/scenarios.js';
import { expectRefusedAndUnchanged } from '../support/unchanged.js';

beforeAll(signIn);

const seg = encodeURIComponent;

/** Posts an asset event as admin and returns the run Airflow's scheduler starts for `dagId` from it. */
async function runFromAssetEvent(dagId: string, uri: string): Promise<string> {
  const assets = await airflow(`/api/v2/assets?uri_pattern=${seg(uri)}`, { token: tokens.admin });
  const asset = (assets.body.assets as Array<{ id: number; uri: string }>).find((a) => a.uri === uri);
  if (!asset) throw new Error(`asset ${uri} is unknown to Airflow: ${JSON.stringify(assets.body)}`);
  const runsNow = async () =>
    ((await airflow(`/api/v2/dags/${seg(dagId)}/dagRuns?run_type=asset_triggered&limit=100`, { token: tokens.admin })).body.dag_runs as Array<{ dag_run_id: string }>).map(
      (r) => r.dag_run_id,
    );
  const before = new Set(await runsNow());
  const event = await airflow('/api/v2/assets/events', { method: 'POST', token: tokens.admin, body: JSON.stringify({ asset_id: asset.id, extra: {} }) });
  expect(event.status, JSON.stringify(event.body)).toBe(200);
  return waitFor(`an asset-triggered run of ${dagId}`, async () => (await runsNow()).find((id) => !before.has(id)));
}

describe.concurrent('reference DAGs of section 10', () => {
  it('120_10_01_quality_gate: an asset-triggered batch its owner may not approve; a defective batch rejected and rolled back', async () => {
    const DAG = '120_10_01_quality_gate';
    const [unattended, rejected] = await Promise.all([
      (async () => {
        const runId = await runFromAssetEvent(DAG, 'airgate://warehouse/raw_orders');
        const gate = await approvalOf(runId, 'quality_review');
        // Nobody triggered the run: the policy makes the DAG's owner the requester (issue #10, point 3).
        expect(gate).toMatchObject({ requester: null, policy: 'quality-gate' });
        await expectRefusedAndUnchanged(gate.id, tokens.admin, () => vote('bob', gate.id, { option: 'Approve' }), { status: 403, code: 'self_approval' });
        expect(gate.body).toContain('| email_complete | 100.00% |');
        await decide(runId, 'quality_review', 'carol', { option: 'Approve' });
        return { runId, state: await waitForRunEnd(DAG, runId, tokens.alice), tasks: await states(DAG, runId) };
      })(),
      scenario(DAG, { defect_rate: 0.3, seed: 11, batch_size: 300 }, async (runId) => {
        const gate = await approvalOf(runId, 'quality_review');
        expect(gate.body).toMatch(/\| email_complete \| \d+\.\d+% \| ≥ 99\.0% \| ❌ \|/);
        const bare = await vote('bob', gate.id, { option: 'Reject' });
        expect(bare.body.error.code).toBe('reason_required');
        await decide(runId, 'quality_review', 'bob', { option: 'Reject', reason: 'a third of the rows are broken' });
      }),
    ]);

    expect(unattended.state).toBe('success');
    expect(unattended.tasks).toMatchObject({ stage_batch: 'success', publish_to_production: 'success', rollback_staging: 'skipped', report_quality_gate: 'success' });
    expect(await xcom(DAG, unattended.runId, 'publish_to_production')).toEqual({ loaded_rows: 400, rows_in_production: 400 });
    expect(await xcom(DAG, unattended.runId, 'report_quality_gate')).toMatchObject({ decision: 'Approve', failed_checks: [] });

    expect(rejected.state).toBe('success');
    expect(rejected.tasks).toMatchObject({ publish_to_production: 'skipped', rollback_staging: 'success', report_quality_gate: 'success' });
    expect(await xcom(DAG, rejected.runId, 'rollback_staging')).toEqual({ discarded_rows: 300, rows_in_production: 0 });
    const profile = await xcom(DAG, rejected.runId, 'profile_quality');
    expect(profile.failed).toEqual(expect.arrayContaining(['email_complete', 'amount_valid', 'id_unique']));
    expect(await xcom(DAG, rejected.runId, 'report_quality_gate')).toMatchObject({ decision: 'Reject', failed_checks: profile.failed });
  });
});
