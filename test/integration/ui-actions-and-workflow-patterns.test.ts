/**
 * Scenarios of the reference DAGs of catalogue sections 4 (UI-triggered actions) and 5 (approval workflow
 * patterns) on the real Airflow and bridge: runs are triggered through Airflow's REST API (or the bridge's
 * trigger action), decisions are votes through the bridge by the people bridge/examples/reference-dags.policies.yaml names, and UI
 * actions go through the bridge's actions API (prepare + confirm). Each DAG's paths run concurrently.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, runState, taskInstance, waitFor, waitForRunEnd } from '../support/clients.js';
import { act, applyAction, approval, approvalOf, confirm, decide, note, scenario, signIn, states, tokens, triggerRun, vote, waitForTask, xcom } from '../support/scenarios.js';
import { expectRefusedAndUnchanged } from '../support/unchanged.js';

const seg = encodeURIComponent;

beforeAll(signIn);

// Every scenario of both sections runs concurrently; each DAG's paths run concurrently inside its scenario.
describe.concurrent('reference DAGs of sections 4 and 5', () => {
  describe('section 5: approval workflow patterns', () => {
    it('120_05_01_gate_pattern: gates approved, rejected, and bypassed with break-glass by the on-call engineer, reviewed afterwards; others refused', async () => {
      const DAG = '120_05_01_gate_pattern';
      const bypass = (user: 'bob' | 'carol', id: string, body: Record<string, unknown>) =>
        bridge(`/api/v1/approvals/${seg(id)}/bypass`, { method: 'POST', token: tokens[user], body: JSON.stringify(body) });
      const [approved, rejected, bypassed] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          await decide(run, 'quality_gate', 'bob', { option: 'Approve' });
          await decide(run, 'publish_gate', 'carol', { option: 'Approve' });
        }),
        scenario(DAG, {}, (run) => decide(run, 'quality_gate', 'carol', { option: 'Reject', reason: 'null keys in the batch' })),
        scenario(DAG, {}, async (run) => {
          const gate = await approvalOf(run, 'quality_gate');
          await waitForTask(DAG, run, 'quality_gate', ['awaiting_input']);
          // bob decides the gate normally but is not on call: refused, audited, nothing changed.
          await expectRefusedAndUnchanged(gate.id, tokens.admin, () => bypass('bob', gate.id, { reason: 'in a hurry' }), { status: 403, code: 'break_glass_not_allowed' });
          const bare = await bypass('carol', gate.id, { reason: ' ' });
          expect([bare.status, bare.body.error.field]).toEqual([400, 'reason']);
          const glass = await bypass('carol', gate.id, { reason: 'incident 42: the dashboard is stale' });
          expect(glass.status, JSON.stringify(glass.body)).toBe(200);
          await decide(run, 'publish_gate', 'bob', { option: 'Approve' });
          return { gate: gate.id, bypass: glass.body.bypass as { by: string; review_id: string } };
        }),
      ]);

      expect(approved.state).toBe('success');
      expect(approved.tasks).toMatchObject({ quality_gate: 'success', transform: 'success', publish_gate: 'success', publish: 'success' });
      const passages = await xcom(DAG, approved.runId, 'track_gate_metrics');
      expect(passages.map((p: { outcome: string }) => p.outcome)).toEqual(['approve', 'approve']);
      for (const p of passages) expect(p.waited_seconds).toBeGreaterThan(0);
      const extracted = (await xcom(DAG, approved.runId, 'extract')) as { rows: number; null_keys: number; distinct_keys: number };
      expect(extracted.rows).toBe(5000);
      expect(await xcom(DAG, approved.runId, 'publish')).toBe(`published ${extracted.distinct_keys} aggregates`);

      expect(rejected.state).toBe('success');
      expect(rejected.tasks).toMatchObject({ quality_gate: 'success', transform: 'skipped', publish_gate: 'skipped', publish: 'skipped' });
      expect((await xcom(DAG, rejected.runId, 'track_gate_metrics')).map((p: { outcome: string }) => p.outcome)).toEqual(['reject', 'not_reached']);

      // Broken glass: the gate answered at once, the run went on, and the bypass is on record for its review.
      expect(bypassed.state).toBe('success');
      expect(bypassed.tasks).toMatchObject({ quality_gate: 'success', transform: 'success', publish_gate: 'success', publish: 'success' });
      const glassPassages = await xcom(DAG, bypassed.runId, 'track_gate_metrics');
      expect(glassPassages.map((p: { outcome: string; bypassed_by: string | null }) => [p.outcome, p.bypassed_by])).toEqual([['bypassed', 'carol'], ['approve', null]]);
      expect((await approval(bypassed.steered.gate)).state).toBe('bypassed');
      expect(await note(DAG, bypassed.runId, 'quality_gate')).toContain('break-glass by carol: incident 42: the dashboard is stale');
      const reviewId = bypassed.steered.bypass.review_id;
      expect(await approval(reviewId)).toMatchObject({ state: 'pending', options: ['Confirm', 'Dispute'], review_of: { approval_id: bypassed.steered.gate, by: 'carol' } });
      expect((await vote('carol', reviewId, { option: 'Confirm' })).body.error.code).toBe('self_approval');
      expect((await vote('bob', reviewId, { option: 'Confirm', reason: 'the incident log agrees' })).status).toBe(200);
      const trail = (await bridge(`/api/v1/audit?approval_id=${seg(bypassed.steered.gate)}`, { token: tokens.admin })).body.items as Array<{ action: string; actor: string; reason: string | null }>;
      // A bypass without a reason is bad input (400): refused before any rule, so it changes and records nothing.
      expect(trail.filter((e) => e.action.startsWith('bypass.') || e.action === 'approval.bypassed').map((e) => [e.action, e.actor, e.reason])).toEqual([
        ['bypass.refused', 'bob', 'in a hurry'],
        ['approval.bypassed', 'carol', 'incident 42: the dashboard is stale'],
      ]);
    });

    it('120_05_02_review_approve: changes requested with feedback, approved, and no self-review', async () => {
      const DAG = '120_05_02_review_approve';
      const [changes, approved] = await Promise.all([
        scenario(DAG, { new_prices: { pro: 11 } }, async (run) => {
          const approval = await approvalOf(run, 'review');
          // The reviewer sees the checks as computed from the proposed prices: pro below its cost and far too steep.
          expect(approval.body).toContain('priced below unit cost: ❌ pro');
          expect(approval.body).toContain('changed by more than 15%: ❌ pro');
          const self = await vote('alice', approval.id, { option: 'Approve' });
          expect(self.status).toBe(403);
          expect(self.body.error.code).toBe('self_approval');
          await decide(run, 'review', 'bob', { option: 'Request changes', reason: 'price too high', params_input: { feedback: 'pro plan: keep it under 30' } });
        }),
        scenario(DAG, {}, (run) => decide(run, 'review', 'carol', { option: 'Approve', params_input: { feedback: 'looks right' } })),
      ]);
      expect(changes.state).toBe('success');
      expect(changes.tasks).toMatchObject({ send_back_for_changes: 'success', publish_prices: 'skipped', record_review: 'success' });
      expect(await xcom(DAG, changes.runId, 'send_back_for_changes')).toBe('pro plan: keep it under 30');
      expect(await xcom(DAG, changes.runId, 'record_review')).toMatchObject({ decision: 'Request changes', feedback: 'pro plan: keep it under 30', timed_out: false });
      expect((await taskInstance(DAG, changes.runId, 'review', tokens.alice)).note).toContain('Request changes by bob');

      expect(approved.state).toBe('success');
      expect(approved.tasks).toMatchObject({ publish_prices: 'success', send_back_for_changes: 'skipped', record_review: 'success' });
      expect(await xcom(DAG, approved.runId, 'publish_prices')).toEqual(['basic', 'pro']);
      expect((await xcom(DAG, approved.runId, 'build_review_artifacts')).checks).toEqual({ below_cost: [], too_steep: [] });
      expect((await xcom(DAG, changes.runId, 'build_review_artifacts')).checks).toEqual({ below_cost: ['pro'], too_steep: ['pro'] });
    });

    it('120_05_03_conditional_branching: the change decides its type; approve, reject (reason required), defer, pre-approved, and an approved but unhealthy release', async () => {
      const DAG = '120_05_03_conditional_branching';
      const normal = { settings: { 'pool.max_connections': 40 } };
      const [approved, rejected, deferred, standard, claimed, unhealthy] = await Promise.all([
        scenario(DAG, normal, (run) => decide(run, 'decide', 'bob', { option: 'Approve' })),
        scenario(DAG, normal, async (run) => {
          const approval = await approvalOf(run, 'decide');
          const bare = await vote('carol', approval.id, { option: 'Reject' });
          expect(bare.status).toBe(422);
          expect(bare.body.error.code).toBe('reason_required');
          await decide(run, 'decide', 'carol', { option: 'Reject', reason: 'clashes with the freeze' });
        }),
        scenario(DAG, normal, (run) => decide(run, 'decide', 'bob', { option: 'Defer', reason: 'after the freeze' })),
        scenario(DAG, { settings: { 'feature_flags.checkout_v2': true } }, async () => undefined),
        // Calling a pool change "standard" in conf changes nothing: people are still asked.
        scenario(DAG, { change_type: 'standard', settings: { 'pool.max_connections': 40 } }, (run) => decide(run, 'decide', 'bob', { option: 'Reject', reason: 'not standard' })),
        scenario(DAG, { settings: { 'pool.max_connections': 500 } }, (run) => decide(run, 'decide', 'bob', { option: 'Approve' })),
      ]);
      const outcome = async (runId: string) => (await xcom(DAG, runId, 'track_outcome')).outcome;
      for (const run of [approved, rejected, deferred, standard, claimed]) expect(run.state).toBe('success');
      expect(approved.tasks).toMatchObject({ deploy: 'success', verify_deploy: 'success', close_change: 'skipped', reschedule_change: 'skipped' });
      expect(await xcom(DAG, approved.runId, 'verify_deploy')).toEqual({ healthy: true, checked: ['pool.max_connections', 'pool.timeout_s'] });
      expect(await outcome(approved.runId)).toBe('approve');
      expect(rejected.tasks).toMatchObject({ close_change: 'success', deploy: 'skipped', verify_deploy: 'skipped', reschedule_change: 'skipped' });
      expect(await outcome(rejected.runId)).toBe('reject');
      expect(deferred.tasks).toMatchObject({ reschedule_change: 'success', deploy: 'skipped', close_change: 'skipped' });
      expect(await outcome(deferred.runId)).toBe('defer');
      expect(standard.tasks).toMatchObject({ auto_approve: 'success', decide: 'skipped', deploy: 'success', verify_deploy: 'success' });
      expect(await outcome(standard.runId)).toBe('pre_approved');
      expect(claimed.tasks).toMatchObject({ auto_approve: 'skipped', decide: 'success', close_change: 'success', deploy: 'skipped' });
      expect(unhealthy.state).toBe('failed');
      expect(unhealthy.tasks).toMatchObject({ decide: 'success', deploy: 'success', verify_deploy: 'failed' });
    });

    it('120_05_04_approval_with_data: the form is validated by the bridge and the DAG, and drives the load', async () => {
      const DAG = '120_05_04_approval_with_data';
      const [loaded, noData, rejected] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          const approval = await approvalOf(run, 'approve_load');
          const tooSmall = await vote('bob', approval.id, { option: 'Approve', params_input: { batch_size: 50, regions: ['eu'], priority: 'normal' } });
          expect(tooSmall.status).toBe(422);
          expect(tooSmall.body.error).toMatchObject({ code: 'form_invalid', field: 'params_input.batch_size' });
          await decide(run, 'approve_load', 'bob', { option: 'Approve', params_input: { batch_size: 40000, regions: ['eu', 'us'], priority: 'high' } });
        }),
        scenario(DAG, {}, (run) => decide(run, 'approve_load', 'carol', { option: 'Approve', params_input: { batch_size: 1000, regions: ['apac'], priority: 'low' } })),
        scenario(DAG, {}, (run) => decide(run, 'approve_load', 'bob', { option: 'Reject', reason: 'not tonight' })),
      ]);
      expect(loaded.state).toBe('success');
      expect(await xcom(DAG, loaded.runId, 'load_batches')).toEqual({ batches: { eu: 3, us: 2 }, priority: 'high' });
      expect(noData.state).toBe('failed');
      expect(noData.tasks).toMatchObject({ approve_load: 'success', validate_input: 'failed', load_batches: 'upstream_failed' });
      expect(rejected.state).toBe('success');
      expect(rejected.tasks).toMatchObject({ validate_input: 'skipped', load_batches: 'skipped' });
    });

    it('120_05_05_rollback_rejection: kept, partially rolled back, and rolled back on rejection', async () => {
      const DAG = '120_05_05_rollback_rejection';
      const [kept, partial, rejected] = await Promise.all([
        scenario(DAG, {}, (run) => decide(run, 'review_release', 'bob', { option: 'Approve' })),
        scenario(DAG, {}, (run) => decide(run, 'review_release', 'carol', { option: 'Partial rollback', reason: 'config is wrong', params_input: { undo_steps: ['config'] } })),
        // This release never touched the config: its rollback has nothing to undo there.
        scenario(DAG, { steps: ['schema', 'data'] }, (run) => decide(run, 'review_release', 'bob', { option: 'Reject', reason: 'error rate doubled' })),
      ]);
      for (const run of [kept, partial, rejected]) expect(run.state).toBe('success');
      expect(kept.tasks).toMatchObject({ finalize_release: 'success', plan_rollback: 'skipped', undo_config: 'skipped', undo_schema: 'skipped' });
      expect(await xcom(DAG, kept.runId, 'track_rollback')).toEqual({ status: 'not_needed', steps: { schema: 'kept', data: 'kept', config: 'kept' } });
      expect(partial.tasks).toMatchObject({ finalize_release: 'skipped', undo_config: 'success', undo_data: 'success', undo_schema: 'success' });
      expect(await xcom(DAG, partial.runId, 'track_rollback')).toEqual({ status: 'partial', steps: { schema: 'kept', data: 'kept', config: 'rolled_back' } });
      expect(await xcom(DAG, rejected.runId, 'track_rollback')).toEqual({
        status: 'complete',
        steps: { schema: 'rolled_back', data: 'rolled_back', config: 'not_applied' },
      });
    });
  });

  describe('section 4: UI-triggered actions through the bridge', () => {
    it('120_04_01_manual_trigger: scheduled and manual runs told apart; conf validated; a manual run needs its ticket', async () => {
      const DAG = '120_04_01_manual_trigger';
      const scheduled = await waitFor('the first scheduled run to succeed', async () => {
        const res = await airflow(`/api/v2/dags/${DAG}/dagRuns?run_type=scheduled`, { token: tokens.alice });
        return (res.body.dag_runs as Array<{ dag_run_id: string; state: string }>).find((r) => r.state === 'success');
      });
      expect(await xcom(DAG, scheduled.dag_run_id, 'identify_run')).toMatchObject({ run_type: 'scheduled', manual: false, triggered_by_user: null });
      expect((await states(DAG, scheduled.dag_run_id)).manual_refresh).toBe('skipped');

      const result = await applyAction(
        'alice',
        { kind: 'trigger_run', dag_id: DAG, conf: { change_ticket: 'CHG-1234', full_refresh: true }, reason: 'customer asked for a refresh' },
        'triggers a run of 120_04_01_manual_trigger',
      );
      const runId = result.dag_run_id as string;
      const invalid = await act('alice', { kind: 'trigger_run', dag_id: DAG, conf: { change_ticket: 'tomorrow' }, reason: 'typo' });
      const refused = await confirm('alice', invalid.body.confirmation.token);
      expect(refused.status).toBe(409);
      const noTicket = await triggerRun(DAG, tokens.bob, {});

      expect(await waitForRunEnd(DAG, runId, tokens.alice)).toBe('success');
      expect(await xcom(DAG, runId, 'identify_run')).toEqual({ run_type: 'manual', manual: true, triggered_by_user: 'alice' });
      expect(await xcom(DAG, runId, 'manual_refresh')).toEqual({ ticket: 'CHG-1234', mode: 'full' });
      expect(await xcom(DAG, runId, 'track_run')).toMatchObject({ run_type: 'manual', change_ticket: 'CHG-1234' });
      expect((await states(DAG, runId)).scheduled_increment).toBe('skipped');
      const run = (await airflow(`/api/v2/dags/${DAG}/dagRuns/${seg(runId)}`, { token: tokens.alice })).body;
      expect(run).toMatchObject({ triggered_by: 'rest_api', note: 'alice via airgate: customer asked for a refresh' });

      expect(await waitForRunEnd(DAG, noTicket, tokens.bob)).toBe('failed');
      expect((await states(DAG, noTicket)).manual_refresh).toBe('failed');
    });

    it('120_04_02_task_manipulation: mark success lets downstream run, clear with downstream re-runs both, mark failed stops the run', async () => {
      const DAG = '120_04_02_task_manipulation';
      const [runId, failedRun] = await Promise.all([triggerRun(DAG, tokens.alice), triggerRun(DAG, tokens.alice)]);
      const target = (run: string, taskId: string) => ({ dag_id: DAG, run_id: run, task_id: taskId });
      await Promise.all([runId, failedRun].map((run) => waitForTask(DAG, run, 'wait_for_vendor_signoff', ['up_for_reschedule'])));

      await applyAction('alice', { kind: 'mark_task', ...target(runId, 'wait_for_vendor_signoff'), state: 'success', reason: 'vendor confirmed by phone' }, 'marks 1 task: wait_for_vendor_signoff as success');
      await applyAction('bob', { kind: 'mark_task', ...target(failedRun, 'wait_for_vendor_signoff'), state: 'failed', reason: 'vendor withdrew the file' }, 'as failed');

      expect(await waitForRunEnd(DAG, runId, tokens.alice)).toBe('success');
      expect(await xcom(DAG, runId, 'load_partition')).toMatchObject({ try_number: 1 });
      expect(await waitForRunEnd(DAG, failedRun, tokens.alice)).toBe('failed');
      expect(await states(DAG, failedRun)).toMatchObject({ wait_for_vendor_signoff: 'failed', load_partition: 'upstream_failed', publish_report: 'upstream_failed' });

      await applyAction(
        'alice',
        { kind: 'clear_task', ...target(runId, 'load_partition'), include_downstream: true, reason: 'source corrected' },
        'clears 2 tasks: load_partition, publish_report',
      );
      await waitFor('the cleared tasks to run again', async () => {
        const report = await taskInstance(DAG, runId, 'publish_report', tokens.alice);
        return report.state === 'success' && report.note === 'alice via airgate: source corrected' ? report : undefined;
      });
      expect(await waitForRunEnd(DAG, runId, tokens.alice)).toBe('success');
      expect(await xcom(DAG, runId, 'publish_report')).toBe('1500 rows of 2024-06-01 (load try 2)');
      expect((await taskInstance(DAG, runId, 'wait_for_vendor_signoff', tokens.alice)).note).toBe('alice via airgate: vendor confirmed by phone');

      // Filtered by the bridge: the whole trail outgrows a page as the suite goes on.
      const trail = await bridge(`/api/v1/audit?dag_id=${DAG}&action=action.applied&limit=500`, { token: tokens.alice });
      const applied = (trail.body.items as Array<{ action: string; actor: string; reason: string }>).filter((e) => e.action === 'action.applied');
      expect(applied).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ actor: 'alice', reason: 'vendor confirmed by phone' }),
          expect.objectContaining({ actor: 'bob', reason: 'vendor withdrew the file' }),
          expect.objectContaining({ actor: 'alice', reason: 'source corrected' }),
        ]),
      );
      // Airflow's own audit log names the person too: the bridge acted with their token.
      const events = await airflow(`/api/v2/eventLogs?dag_id=${DAG}&event=patch_task_instance&limit=100`, { token: tokens.admin });
      expect((events.body.event_logs as Array<{ owner: string; run_id: string }>).filter((e) => e.run_id === runId).map((e) => e.owner)).toContain('alice');
    });

    it('120_04_03_dagrun_state: pause holds a run, resume lets it finish; a run marked failed is finished by clearing', async () => {
      const DAG = '120_04_03_dagrun_state';
      // One after the other: pausing the DAG holds every run of it.
      // The hold must outlast the pause action on a loaded machine; the check waits until well after it ended.
      const HOLD_S = 45;
      const held = await triggerRun(DAG, tokens.alice, { hold_seconds: HOLD_S });
      await waitForTask(DAG, held, 'review_window', ['deferred']);
      await applyAction('alice', { kind: 'pause_dag', dag_id: DAG, reason: 'reviewing the transform output' }, 'pauses 120_04_03_dagrun_state');
      expect((await states(DAG, held)).review_window).toBe('deferred');
      const started = Date.parse((await airflow(`/api/v2/dags/${DAG}/dagRuns/${encodeURIComponent(held)}`, { token: tokens.alice })).body.start_date);
      await new Promise((r) => setTimeout(r, Math.max(0, started + (HOLD_S + 15) * 1000 - Date.now())));
      expect(await runState(DAG, held, tokens.alice)).toBe('running');
      expect((await states(DAG, held)).stage_load).toBeNull();
      await applyAction('alice', { kind: 'resume_dag', dag_id: DAG, reason: 'output checked' }, 'resumes 120_04_03_dagrun_state');
      expect(await waitForRunEnd(DAG, held, tokens.alice)).toBe('success');
      expect(await xcom(DAG, held, 'completion_report')).toEqual({ stage_extract: true, stage_transform: true, stage_load: true, stage_publish: true });

      const stopped = await triggerRun(DAG, tokens.alice, { hold_seconds: 30 });
      await waitForTask(DAG, stopped, 'review_window', ['deferred']);
      await applyAction('bob', { kind: 'mark_run_failed', dag_id: DAG, run_id: stopped, reason: 'wrong input file' }, 'marks run');
      expect(await runState(DAG, stopped, tokens.alice)).toBe('failed');
      expect(await states(DAG, stopped)).toMatchObject({ stage_extract: 'success', stage_transform: 'success', review_window: 'failed', stage_load: 'skipped', completion_report: 'skipped' });

      await applyAction(
        'bob',
        { kind: 'clear_task', dag_id: DAG, run_id: stopped, task_id: 'review_window', include_downstream: true, reason: 'input replaced; finish the run' },
        'clears 4 tasks',
      );
      expect(await waitFor('the cleared run to succeed', async () => ((await runState(DAG, stopped, tokens.alice)) === 'success' ? true : undefined))).toBe(true);
      const extract = await airflow(`/api/v2/dags/${DAG}/dagRuns/${seg(stopped)}/taskInstances/stage_extract`, { token: tokens.alice });
      expect(extract.body.try_number).toBe(1);
      expect(await xcom(DAG, stopped, 'completion_report')).toEqual({ stage_extract: true, stage_transform: true, stage_load: true, stage_publish: true });
    }, 480_000);

    it('120_04_04_confirmation_dialogs: reasoned, typed confirmation in the DAG; prepared, single-use confirmations for actions', async () => {
      const DAG = '120_04_04_confirmation_dialogs';
      const [purged, declined] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          const approval = await approvalOf(run, 'confirm_purge');
          const typed = { typed_table_name: 'staging.events_raw' };
          const noReason = await vote('bob', approval.id, { option: 'Purge', params_input: typed });
          expect(noReason.body.error.code).toBe('reason_required');
          const wrongName = await vote('bob', approval.id, { option: 'Purge', reason: 'retention', params_input: { typed_table_name: 'prod.events' } });
          expect(wrongName.status).toBe(422);
          expect(wrongName.body.error).toMatchObject({ code: 'form_invalid', field: 'params_input.typed_table_name' });
          await decide(run, 'confirm_purge', 'bob', { option: 'Purge', reason: '30-day retention', params_input: typed });
        }),
        scenario(DAG, {}, (run) => decide(run, 'confirm_purge', 'carol', { option: 'Decline', reason: 'audit still needs April' })),
      ]);
      expect(purged.state).toBe('success');
      expect(purged.tasks).toMatchObject({ purge_partitions: 'success', keep_partitions: 'skipped', report: 'success' });
      expect(declined.state).toBe('success');
      expect(declined.tasks).toMatchObject({ purge_partitions: 'skipped', keep_partitions: 'success' });

      const clear = { kind: 'clear_task', dag_id: DAG, run_id: purged.runId, task_id: 'purge_partitions', include_downstream: true };
      const unreasoned = await act('alice', clear);
      expect(unreasoned.status).toBe(400);
      expect(unreasoned.body.error.field).toContain('reason');
      const prepared = await act('alice', { ...clear, reason: 'purge again after the late load' });
      expect(prepared.body.confirmation.effect).toBe('clears 2 tasks: purge_partitions, report so they run again');
      expect(Date.parse(prepared.body.confirmation.expires_at) - Date.now()).toBeLessThanOrEqual(120_000);
      expect((await confirm('bob', prepared.body.confirmation.token)).status).toBe(403);
      expect((await confirm('alice', prepared.body.confirmation.token)).status).toBe(200);
      expect((await confirm('alice', prepared.body.confirmation.token)).status).toBe(410);
      expect(await waitForRunEnd(DAG, purged.runId, tokens.alice)).toBe('success');

      const trail = await bridge(`/api/v1/audit?dag_id=${DAG}&actor=alice&limit=500`, { token: tokens.alice });
      const mine = (trail.body.items as Array<{ action: string; reason: string }>).filter((e) => e.reason === 'purge again after the late load');
      expect(mine.map((e) => e.action)).toEqual(expect.arrayContaining(['action.prepared', 'action.applied']));
    });

    it('120_04_05_custom_ui: custom buttons and a form through the plugin, acted on downstream', async () => {
      const DAG = '120_04_05_custom_ui';
      const plugins = await airflow('/api/v2/plugins', { token: tokens.alice });
      const airgate = (plugins.body.plugins as Array<{ name: string; react_apps: Array<{ name: string }> }>).find((p) => p.name === 'airgate');
      expect(airgate?.react_apps.map((a) => a.name)).toEqual(expect.arrayContaining(['Approvals', 'Approval']));

      const [canary, held] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          const approval = await approvalOf(run, 'release_decision');
          // The plugin's same-origin route shows the signed-in user the approval the custom view renders.
          const viaPlugin = await airflow(`/airgate/api/approvals/${approval.id}`, { token: tokens.bob });
          expect(viaPlugin.body).toMatchObject({ options: ['Ship', 'Ship to canary', 'Hold'], params: { canary_percent: { value: 5 } } });
          const tooMuch = await vote('bob', approval.id, { option: 'Ship to canary', params_input: { canary_percent: 80 } });
          expect(tooMuch.body.error).toMatchObject({ code: 'form_invalid', field: 'params_input.canary_percent' });
          await decide(run, 'release_decision', 'bob', {
            option: 'Ship to canary',
            params_input: { canary_percent: 10, announce: false, audience: 'beta', release_note: 'faster checkout' },
          });
        }),
        scenario(DAG, {}, (run) => decide(run, 'release_decision', 'carol', { option: 'Hold', reason: 'waiting for QA' })),
      ]);
      expect(canary.state).toBe('success');
      expect(await xcom(DAG, canary.runId, 'act_on_decision')).toEqual({ action: 'rollout', percent: 10, audience: 'beta', announce: false });
      expect(held.state).toBe('success');
      expect(await xcom(DAG, held.runId, 'act_on_decision')).toEqual({ action: 'hold' });
    });
  });
});
