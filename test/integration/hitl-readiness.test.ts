import { SUITE_HITL_SETTLE_MS } from '../support/stack-setup.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, taskInstance, tokenFor, waitFor, waitForRunEnd } from '../support/clients.js';
import { triggerRun } from '../support/scenarios.js';

const DAG = '120_01_01_approval_basics';
const seg = encodeURIComponent;
// The suite's HITL_SETTLE_MS: how long after parking the bridge waits before Airflow can take an answer.
const SETTLE_MS = SUITE_HITL_SETTLE_MS;
const tick = () => new Promise((r) => setTimeout(r, 100));

/**
 * Airflow 3.3.2 fails a HITL task whose answer arrives before the scheduler has processed the executor event of the
 * workload that parked it (docs/airflow-hitl-readiness.md); Airflow's own PATCH, sent at these moments, fails about
 * half of such runs. Through the bridge every one must resume, because the bridge answers only once Airflow can take it.
 */
describe('a decision made the moment the task asks still resumes it', () => {
  let alice: string;
  let admin: string;
  beforeAll(async () => {
    alice = await tokenFor('alice');
    admin = await tokenFor('admin');
  });

  const gate = (runId: string) => `/api/v2/dags/${DAG}/dagRuns/${seg(runId)}/taskInstances/approve_load`;

  /** Votes as soon as the bridge lists the approval (the notifier registers it before the task parks) or once parked. */
  async function decideAtOnce(when: 'listed' | 'parked') {
    const runId = await triggerRun(DAG, alice);
    let approvalId: string | undefined;
    while (!approvalId) {
      const res = await bridge(`/api/v1/approvals?state=pending&dag_id=${DAG}&limit=200`, { token: alice });
      approvalId = (res.body.items as Array<{ id: string; run_id: string }>).find((a) => a.run_id === runId)?.id;
      if (!approvalId) await tick();
    }
    while (when === 'parked' && (await airflow(gate(runId), { token: admin })).body.state !== 'awaiting_input') await tick();
    const vote = await bridge(`/api/v1/approvals/${approvalId}/votes`, { method: 'POST', token: alice, body: JSON.stringify({ option: 'Approve', reason: 'at once' }) });
    expect(vote.status).toBe(200);
    return runId;
  }

  it('six runs decided at once, some before the task parked: every one resumes and succeeds', { timeout: 480_000 }, async () => {
    const runs = await Promise.all((['listed', 'parked', 'listed', 'parked', 'listed', 'parked'] as const).map(decideAtOnce));
    for (const runId of runs) {
      expect(await waitForRunEnd(DAG, runId, alice)).toBe('success');
      expect((await taskInstance(DAG, runId, 'approve_load', alice)).state).toBe('success');
      expect((await taskInstance(DAG, runId, 'load_to_production', alice)).state).toBe('success');
      const detail = (await airflow(`${gate(runId)}/-1/hitlDetails`, { token: admin })).body as { responded_at: string; responded_by_user: { name: string } };
      expect(detail.responded_by_user.name).toBe('airgate');
      // Answered by the condition, not by luck: only once the task had been parked (Airflow's event log) for the settle time.
      const parked = await waitFor('the park in the event log', async () => {
        const log = await airflow(`/api/v2/eventLogs?dag_id=${DAG}&run_id=${seg(runId)}&task_id=approve_load&event=awaiting_input`, { token: admin });
        return (log.body.event_logs as Array<{ when: string }>)[0]?.when;
      });
      expect(Date.parse(detail.responded_at) - Date.parse(parked)).toBeGreaterThanOrEqual(SETTLE_MS);
    }
  });
});
