/**
 * Scenarios of the real-world DAGs of catalogue section 10 on the real Airflow and bridge: each path the DAG
 * teaches, with the figures the reviewer saw checked against what the run computed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, waitFor, waitForRunEnd } from '../support/clients.js';
import { type Person, approval, approvalOf, decide, note, scenario, signIn, states, tokens, vote, waitForTask, xcom } from '../support/scenarios.js';
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

const bypass = (user: Person, id: string, reason: string) =>
  bridge(`/api/v1/approvals/${seg(id)}/bypass`, { method: 'POST', token: tokens[user], body: JSON.stringify({ reason }) });

/** Waits until `taskId` of `runId` asks (awaiting_input), so a snapshot around a refusal sees a task at rest. */
async function waitingApproval(dagId: string, runId: string, taskId: string) {
  const pending = await approvalOf(runId, taskId);
  await waitForTask(dagId, runId, taskId, ['awaiting_input']);
  return pending;
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
        // The chart is drawn from the same figures and travels in the request.
        expect(gate.body).toContain('![Batch quality against thresholds](data:image/svg+xml;base64,');
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

  it('120_10_02_deployment_approval: a reviewed change rolled out stage by stage, stopped and rolled back, held, and an emergency bypassed by on-call only', async () => {
    const DAG = '120_10_02_deployment_approval';
    // Change review by a change manager (bob), then the deployment approval by a release manager (carol).
    const approveBoth = async (runId: string) => {
      await decide(runId, 'approve_deployment', 'bob', { option: 'Approve' });
      await decide(runId, 'approve_deployment', 'carol', { option: 'Approve' });
    };
    const [deployed, rolledBack, held, emergency] = await Promise.all([
      scenario(DAG, {}, async (runId) => {
        const gate = await waitingApproval(DAG, runId, 'approve_deployment');
        expect(gate).toMatchObject({ policy: 'deployment-approval', progress: { levels: 2, level_name: 'change-review' } });
        expect(gate.subject).toMatch(/^Deploy r\d+ to production\?$/);
        // A routine deployment's policy has no break-glass: not even the on-call engineer may bypass it.
        await expectRefusedAndUnchanged(gate.id, tokens.admin, () => bypass('carol', gate.id, 'no time to wait'), { status: 403, code: 'break_glass_not_allowed' });
        await approveBoth(runId);
        return gate;
      }),
      scenario(DAG, { regression: 0.1 }, approveBoth),
      scenario(DAG, {}, async (runId) => {
        const gate = await approvalOf(runId, 'approve_deployment');
        expect((await vote('bob', gate.id, { option: 'Reject' })).body.error.code).toBe('reason_required');
        await decide(runId, 'approve_deployment', 'bob', { option: 'Reject', reason: 'the timeout change is untested' });
      }),
      scenario(DAG, { emergency: true, incident: 'INC-4711' }, async (runId) => {
        const gate = await waitingApproval(DAG, runId, 'approve_deployment');
        expect(gate).toMatchObject({ policy: 'deployment-emergency' });
        expect(gate.subject).toMatch(/^EMERGENCY INC-4711: Deploy r\d+ to production\?$/);
        // bob reviews changes but is not on call: refused, audited, nothing changed.
        await expectRefusedAndUnchanged(gate.id, tokens.admin, () => bypass('bob', gate.id, 'INC-4711'), { status: 403, code: 'break_glass_not_allowed' });
        const glass = await bypass('carol', gate.id, 'INC-4711: checkout down, hotfix');
        expect(glass.status, JSON.stringify(glass.body)).toBe(200);
        // Nobody else votes: the bypass alone lets the run go on.
        return { gate: gate.id, reviewId: glass.body.bypass.review_id as string };
      }),
    ]);

    const stages = ['deploy_canary', 'deploy_partial', 'deploy_full'];
    expect(deployed.state).toBe('success');
    expect(deployed.tasks).toMatchObject({ deploy_canary: 'success', deploy_partial: 'success', deploy_full: 'success', roll_back_release: 'skipped' });
    const change = await xcom(DAG, deployed.runId, 'review_change');
    // The reviewers saw the diff the run computed from its two manifests.
    expect(deployed.steered.body).toBe(change.markdown);
    for (const c of change.changes) expect(deployed.steered.body).toContain(`| ${c.service} | \`${c.image[0]}\` → \`${c.image[1]}\` |`);
    const plan = await xcom(DAG, deployed.runId, 'plan_release');
    expect(await xcom(DAG, deployed.runId, 'record_deployment')).toMatchObject({
      outcome: 'deployed',
      live_release: plan.proposed.release,
      approved_by: ['bob', 'carol'],
      bypassed: false,
      stages: stages.map((_, i) => expect.objectContaining({ traffic_percent: [5, 50, 100][i], failed: [] })),
    });

    // The canary's 5% passes; at 50% the regression breaks the error budget, and the running release comes back.
    expect(rolledBack.state).toBe('success');
    expect(rolledBack.tasks).toMatchObject({ deploy_canary: 'success', deploy_partial: 'failed', deploy_full: 'upstream_failed', roll_back_release: 'success' });
    const partial = await xcom(DAG, rolledBack.runId, 'deploy_partial');
    expect(partial.failed).toEqual(['error_rate']);
    expect(partial.error_rate).toBeGreaterThan(0.02);
    expect(await xcom(DAG, rolledBack.runId, 'roll_back_release')).toMatchObject({ restored_release: plan.running.release, failed_stage: 'partial', traffic_moved_back_percent: 50 });
    expect(await xcom(DAG, rolledBack.runId, 'record_deployment')).toMatchObject({ outcome: 'rolled_back', live_release: plan.running.release, failed_stage: 'partial' });

    expect(held.state).toBe('success');
    expect(held.tasks).toMatchObject(Object.fromEntries([...stages, 'roll_back_release'].map((t) => [t, 'skipped'])));
    expect(await xcom(DAG, held.runId, 'record_deployment')).toMatchObject({ outcome: 'held', stages: [] });

    // Broken glass: the rollout ran (health checks included), and the run knows who bypassed, why, for which incident.
    expect(emergency.state).toBe('success');
    expect(emergency.tasks).toMatchObject({ deploy_canary: 'success', deploy_partial: 'success', deploy_full: 'success' });
    expect(await xcom(DAG, emergency.runId, 'record_deployment')).toMatchObject({
      outcome: 'deployed',
      approval_state: 'bypassed',
      bypassed: true,
      bypassed_by: 'carol',
      bypass_reason: 'INC-4711: checkout down, hotfix',
      incident: 'INC-4711',
      approved_by: [],
    });
    expect((await approval(emergency.steered.gate)).state).toBe('bypassed');
    expect(await note(DAG, emergency.runId, 'approve_deployment')).toContain('break-glass by carol: INC-4711: checkout down, hotfix');
    // The after-the-fact review waits for the change managers: bob has it in his inbox, carol may not decide it.
    const { reviewId } = emergency.steered;
    expect(await approval(reviewId)).toMatchObject({ state: 'pending', task_id: 'approve_deployment@review', options: ['Confirm', 'Dispute'], review_of: { approval_id: emergency.steered.gate, by: 'carol' } });
    const inbox = await bridge(`/api/v1/approvals?state=pending&mine=true&run_id=${seg(emergency.runId)}`, { token: tokens.bob });
    expect((inbox.body.items as Array<{ id: string }>).map((a) => a.id)).toContain(reviewId);
    expect((await vote('carol', reviewId, { option: 'Confirm' })).body.error.code).toBe('self_approval');
    expect((await vote('bob', reviewId, { option: 'Confirm', reason: 'the incident log agrees' })).status).toBe(200);
  });

  it('120_10_05_ml_model_approval: a candidate reviewed, A/B tested and promoted; rolled back live; held; refused a test', async () => {
    const DAG = '120_10_05_ml_model_approval';
    // Fresh registry names: the first champion of each is the baseline v1, whatever earlier runs promoted.
    const tag = Date.now().toString(36);
    // Shipping takes a model reviewer (bob), then a release manager (carol).
    const ship = async (runId: string) => {
      await decide(runId, 'approve_promotion', 'bob', { option: 'Ship' });
      await decide(runId, 'approve_promotion', 'carol', { option: 'Ship' });
    };
    const [promoted, rolledBack, held, untested] = await Promise.all([
      scenario(DAG, { model: `it_promoted_${tag}` }, async (runId) => {
        const gate = await approvalOf(runId, 'approve_ab_test');
        expect(gate).toMatchObject({ policy: 'ml-ab-test', subject: `Start an A/B test of it_promoted_${tag} v2 against v1?` });
        expect((await vote('alice', gate.id, { option: 'Approve' })).body.error.code).toBe('self_approval');
        await decide(runId, 'approve_ab_test', 'bob', { option: 'Approve', params_input: { traffic_share: 0.3 } });
        const promotion = await approvalOf(runId, 'approve_promotion');
        expect(promotion).toMatchObject({ policy: 'ml-promotion', progress: { levels: 2 } });
        await ship(runId);
        return { ab: gate.body, promotion: promotion.body };
      }),
      scenario(DAG, { model: `it_drift_${tag}`, live_drift: 1 }, async (runId) => {
        await decide(runId, 'approve_ab_test', 'bob', { option: 'Approve' });
        await ship(runId);
      }),
      scenario(DAG, { model: `it_held_${tag}`, ab_users: 300 }, async (runId) => {
        await decide(runId, 'approve_ab_test', 'bob', { option: 'Approve' });
        const gate = await approvalOf(runId, 'approve_promotion');
        expect(gate.body).toContain('not significant at 0.05');
        expect((await vote('bob', gate.id, { option: 'Hold' })).body.error.code).toBe('reason_required');
        await decide(runId, 'approve_promotion', 'bob', { option: 'Hold', reason: 'not significant yet' });
      }),
      scenario(DAG, { model: `it_untested_${tag}` }, (runId) => decide(runId, 'approve_ab_test', 'carol', { option: 'Reject', reason: 'calibrate it first' })),
    ]);

    expect(promoted.state).toBe('success');
    expect(promoted.tasks).toMatchObject({ promote_candidate: 'success', end_ab_test: 'skipped', post_promotion_check: 'success', roll_back_promotion: 'skipped' });
    // The reviewers saw the figures the run computed: holdout metrics first, then the A/B test with the share they set.
    const { metrics } = await xcom(DAG, promoted.runId, 'review_performance');
    expect(metrics.candidate.auc).toBeGreaterThan(metrics.champion.auc);
    expect(promoted.steered.ab).toContain(`| AUC | ${metrics.champion.auc.toFixed(3)} | ${metrics.candidate.auc.toFixed(3)} |`);
    const abTest = await xcom(DAG, promoted.runId, 'run_ab_test');
    expect(abTest).toMatchObject({ traffic_share: 0.3, significant: true });
    expect(abTest.lift).toBeGreaterThan(0);
    expect(promoted.steered.promotion).toContain(abTest.markdown);
    expect(await xcom(DAG, promoted.runId, 'record_model_decision')).toMatchObject({
      outcome: 'promoted',
      serving: { production: 2, previous: 1, challenger: null },
      decided_by: { approve_ab_test: ['bob: Approve'], approve_promotion: ['bob: Ship', 'carol: Ship'] },
    });

    // Promoted, then worse on live traffic than approved: the previous champion is production again.
    expect(rolledBack.state).toBe('success');
    expect(rolledBack.tasks).toMatchObject({ promote_candidate: 'success', post_promotion_check: 'failed', roll_back_promotion: 'success' });
    expect((await xcom(DAG, rolledBack.runId, 'post_promotion_check')).passed).toBe(false);
    expect(await xcom(DAG, rolledBack.runId, 'roll_back_promotion')).toMatchObject({ withdrawn: 2, production: 1, previous: null });
    expect((await xcom(DAG, rolledBack.runId, 'record_model_decision')).outcome).toBe('rolled_back');

    expect(held.state).toBe('success');
    expect(held.tasks).toMatchObject({ promote_candidate: 'skipped', end_ab_test: 'success' });
    expect(await xcom(DAG, held.runId, 'end_ab_test')).toMatchObject({ production: 1, challenger: null });
    expect(await xcom(DAG, held.runId, 'record_model_decision')).toMatchObject({ outcome: 'held', ab_test: { significant: false } });

    expect(untested.state).toBe('success');
    expect(untested.tasks).toMatchObject({ run_ab_test: 'skipped', approve_promotion: 'skipped', promote_candidate: 'skipped', end_ab_test: 'skipped' });
    expect(await xcom(DAG, untested.runId, 'record_model_decision')).toMatchObject({ outcome: 'not_tested', ab_test: null, serving: { production: 1, challenger: null } });
  });
});
