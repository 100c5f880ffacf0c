/**
 * Scenarios of the reference DAGs of catalogue section 9 about approval state and monitoring on the real Airflow
 * and bridge: an orphan the bridge's reconcile loop closes, both sides' records compared, the run's working state
 * cleaned up; latency and SLA measured from real reviews, the alert on one left waiting, and a dashboard built
 * from the metrics the bridge really exports.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, stack, waitFor } from '../support/clients.js';
import { type ApprovalView, approval, approvalOf, decide, scenario, signIn, tokens, vote, waitForTask, xcom } from '../support/scenarios.js';
import { expectRefusedAndUnchanged } from '../support/unchanged.js';

beforeAll(signIn);

const seg = encodeURIComponent;

/** The pending approval of one mapped instance of `taskId`, once the bridge lists it. */
const approvalOfInstance = (runId: string, taskId: string, mapIndex: number) =>
  waitFor(`the approval of ${taskId}[${mapIndex}] of ${runId}`, async () => {
    const filter = new URLSearchParams({ state: 'pending', run_id: runId, task_id: taskId, map_index: String(mapIndex) });
    return ((await bridge(`/api/v1/approvals?${filter}`, { token: tokens.alice })).body.items as ApprovalView[])[0];
  });

/** The names of the counters and gauges the bridge exports itself (its Node.js process metrics aside). */
async function exportedMetrics(): Promise<string[]> {
  const text = await (await fetch(`${stack().bridgeUrl}/metrics`)).text();
  const typed = [...text.matchAll(/^# TYPE (airgate_\w+) (counter|gauge)$/gm)].map((m) => m[1]!);
  return typed.filter((name) => !name.startsWith('airgate_bridge_')).sort();
}

describe.concurrent('reference DAGs of section 9: state and monitoring', () => {
  it('120_09_04_state_management: approved on the first ask; an unanswered ask orphaned, cancelled by the bridge, its late vote refused, the second ask rejected; staging cleaned up on both', async () => {
    const DAG = '120_09_04_state_management';
    const [first, asked] = await Promise.all([
      scenario(DAG, { changes: 80 }, (runId) => decide(runId, 'approve_changes', 'bob', { option: 'Approve' })),
      scenario(DAG, { seed: 6 }, async (runId) => {
        const orphan = await approvalOf(runId, 'approve_changes');
        // Nobody answers: Airflow's 30 s timeout fails the try, its retry asks again, and the first ask is an orphan.
        const second = await waitFor('the second ask', async () => {
          const again = await approvalOf(runId, 'approve_changes');
          return again.id === orphan.id ? undefined : again;
        });
        const closed = await waitFor('the bridge to close the orphan', async () => {
          const seen = await approval(orphan.id);
          return seen.state === 'pending' ? undefined : seen;
        });
        expect(closed).toMatchObject({ state: 'cancelled', votes: [] });
        await expectRefusedAndUnchanged(orphan.id, tokens.admin, () => vote('bob', orphan.id, { option: 'Approve' }), {
          status: 409,
          code: 'conflict',
          withTask: false,
        });
        const rejected = await vote('carol', second.id, { option: 'Reject', reason: 'prices are not final' });
        expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
        return { orphan: orphan.id, second: second.id };
      }),
    ]);

    const done = { stage_changes: 'success', clean_up: 'success', verify_clean: 'success', check_state: 'success' };
    expect(first.state).toBe('success');
    expect(first.tasks).toMatchObject({ ...done, approve_changes: 'success', apply_changes: 'success' });
    const batch = await xcom(DAG, first.runId, 'stage_changes');
    expect(batch).toMatchObject({ rows: 80 });
    expect(await xcom(DAG, first.runId, 'apply_changes')).toEqual({ applied: 80, digest: batch.digest });
    const firstState = await xcom(DAG, first.runId, 'check_state');
    expect(firstState).toMatchObject({ approvals: [{ try_number: 1, state: 'approved' }], orphans: [], decision: 'Approve' });
    // Efficient state storage: the run's XComs about the approval stay small beside the data they stand for.
    const sizes = Object.values(firstState.xcom_bytes as Record<string, number>);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024);
    expect(firstState.staged_bytes).toBeGreaterThan(Math.max(...sizes));
    expect(await xcom(DAG, first.runId, 'clean_up')).toEqual({ removed_rows: 80 });
    expect(await xcom(DAG, first.runId, 'verify_clean')).toEqual({ staged_rows_left: 0 });

    expect(asked.state).toBe('success');
    expect(asked.tasks).toMatchObject({ ...done, approve_changes: 'success', apply_changes: 'skipped' });
    const ti = await airflow(`/api/v2/dags/${DAG}/dagRuns/${seg(asked.runId)}/taskInstances/approve_changes`, { token: tokens.alice });
    expect(ti.body.try_number).toBe(2);
    expect(await xcom(DAG, asked.runId, 'check_state')).toMatchObject({
      approvals: [
        { approval_id: asked.steered.orphan, try_number: 1, state: 'cancelled' },
        { approval_id: asked.steered.second, try_number: 2, state: 'rejected' },
      ],
      orphans: [asked.steered.orphan],
      decision: 'Reject',
    });
    expect(await xcom(DAG, asked.runId, 'clean_up')).toEqual({ removed_rows: 200 });
    expect(await xcom(DAG, asked.runId, 'verify_clean')).toEqual({ staged_rows_left: 0 });
  });

  it('120_09_05_metrics_monitoring: reviews decided in time meet their SLA; one left waiting raises the alert and breaches; the dashboard charts what the bridge exports', async () => {
    const DAG = '120_09_05_metrics_monitoring';
    const reviewAll = (runId: string, count: number) =>
      Promise.all(
        [...Array(count).keys()].map(async (review) => {
          const pending = await approvalOfInstance(runId, 'review_change', review);
          if (review === 2) return pending.id; // left waiting
          const body = review === 0 ? { option: 'Approve' } : { option: 'Reject', reason: 'not in this window' };
          const res = await vote(review === 0 ? 'bob' : 'carol', pending.id, body);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          return pending.id;
        }),
      );
    const [inTime, breach] = await Promise.all([
      scenario(DAG, { changes: 2 }, (runId) => reviewAll(runId, 2)),
      scenario(DAG, { changes: 3, alert_after_s: 5 }, async (runId) => {
        const ids = await reviewAll(runId, 3);
        // The alert fires while review 2 still waits, before its SLA ends it.
        await waitForTask(DAG, runId, 'watch_pending', ['failed']);
        expect((await approval(ids[2]!)).state).toBe('pending');
        return ids;
      }),
    ]);

    expect(inTime.state).toBe('success');
    expect(inTime.tasks).toMatchObject({ watch_pending: 'success', measure_reviews: 'success', build_dashboard: 'success' });
    const figures = await xcom(DAG, inTime.runId, 'measure_reviews');
    expect(figures.reviews.map((r: { state: string; sla: string }) => [r.state, r.sla])).toEqual([
      ['approved', 'met'],
      ['rejected', 'met'],
    ]);
    expect(figures.sla).toEqual({ met: 2, breached: 0, pending: 0, compliance: 1 });
    for (const what of ['decided', 'resumed']) {
      const waits = figures.reviews.map((r: Record<string, number>) => r[`${what}_s`]!).sort((a: number, b: number) => a - b);
      expect(figures.latency[what]).toEqual({ count: 2, p50_s: waits[0], p90_s: waits[1], p99_s: waits[1], max_s: waits[1] });
    }
    // People decided before Airflow resumed: the bridge answers Airflow once they have.
    for (const r of figures.reviews) expect(r.decided_s).toBeLessThanOrEqual(r.resumed_s);
    const dashboard = await xcom(DAG, inTime.runId, 'build_dashboard');
    expect(dashboard.panels).toEqual(await exportedMetrics());
    expect(dashboard.panels).toEqual(expect.arrayContaining(['airgate_approvals_pending', 'airgate_decisions_total', 'airgate_votes_total']));
    expect(dashboard.summary).toContain('SLA: 2 met, 0 breached, compliance 1.0.');

    expect(breach.state).toBe('failed');
    expect(breach.tasks).toMatchObject({ watch_pending: 'failed', measure_reviews: 'success', build_dashboard: 'success' });
    const alerts = await xcom(DAG, breach.runId, 'watch_pending', 'alerts');
    expect(alerts).toEqual(expect.arrayContaining([expect.objectContaining({ review: 2, alert: 'waiting' })]));
    // Nobody decided review 2: at its 30 s SLA the bridge rejected it itself.
    expect((await approval(breach.steered[2]!)).state).toBe('expired');
    const breached = await xcom(DAG, breach.runId, 'measure_reviews');
    expect(breached.reviews.map((r: { state: string; sla: string }) => [r.state, r.sla])).toEqual([
      ['approved', 'met'],
      ['rejected', 'met'],
      ['expired', 'breached'],
    ]);
    expect(breached.sla).toEqual({ met: 2, breached: 1, pending: 0, compliance: 0.6667 });
    expect([breached.latency.decided.count, breached.latency.resumed.count]).toEqual([2, 2]);
    expect((await xcom(DAG, breach.runId, 'build_dashboard')).summary).toContain('SLA: 2 met, 1 breached, compliance 0.6667.');

    // The bridge's own figures (the UI's Dashboard page) count the same reviews: the breach, and its SLA warning.
    const stats = await bridge('/api/v1/stats?days=1', { token: tokens.alice });
    const sla = (stats.body.sla_by_dag as Array<{ dag_id: string; met: number; breached: number; warned: number }>).find((s) => s.dag_id === DAG);
    expect(sla).toBeDefined();
    expect(sla!.met).toBeGreaterThanOrEqual(4);
    expect(sla!.breached).toBeGreaterThanOrEqual(1);
    expect(sla!.warned).toBeGreaterThanOrEqual(1);
  });
});
