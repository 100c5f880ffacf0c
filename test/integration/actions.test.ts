import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, taskInstance, tokenFor, triggerRun, waitFor, waitForApproval, waitForRunEnd } from '../support/clients.js';

const DAG = '120_01_01_approval_basics';

describe('UI actions through the bridge on real Airflow', () => {
  let alice: string;
  const act = (body: unknown, token = alice) => bridge('/api/v1/actions', { method: 'POST', token, body: JSON.stringify(body) });
  const confirm = (token: string, as = alice) => bridge('/api/v1/actions/confirm', { method: 'POST', token: as, body: JSON.stringify({ token }) });

  beforeAll(async () => {
    alice = await tokenFor('alice');
  });

  it('clear a finished task with a reason: the dry run names it, confirming makes Airflow run it again', async () => {
    const runId = await triggerRun(DAG, alice);
    const approval = await waitForApproval(runId, alice);
    await bridge(`/api/v1/approvals/${approval.id}/votes`, { method: 'POST', token: alice, body: JSON.stringify({ option: 'Approve' }) });
    expect(await waitForRunEnd(DAG, runId, alice)).toBe('success');

    const prepared = await act({ kind: 'clear_task', dag_id: DAG, run_id: runId, task_id: 'load_to_production', reason: 'reload after fix' });
    expect(prepared.status).toBe(201);
    expect(prepared.body.confirmation.effect).toBe('clears 1 task: load_to_production so they run again');
    expect((await taskInstance(DAG, runId, 'load_to_production', alice)).state).toBe('success');

    const applied = await confirm(prepared.body.confirmation.token);
    expect(applied.body).toMatchObject({ applied: true, result: { task_ids: ['load_to_production'] } });
    const ti = await waitFor('the cleared task to run again', async () => {
      const current = await taskInstance(DAG, runId, 'load_to_production', alice);
      return current.state === 'success' && current.note?.includes('alice via airgate: reload after fix') ? current : undefined;
    });
    expect(ti.note).toBe('alice via airgate: reload after fix');
    expect((await confirm(prepared.body.confirmation.token)).status).toBe(410);
  });

  it('pause and resume a DAG, both audited with their reasons', async () => {
    const pause = await act({ kind: 'pause_dag', dag_id: DAG, reason: 'maintenance window' });
    expect(pause.body.confirmation.effect).toContain('pauses');
    await confirm(pause.body.confirmation.token);
    expect((await airflow(`/api/v2/dags/${DAG}`, { token: alice })).body.is_paused).toBe(true);
    const resume = await act({ kind: 'resume_dag', dag_id: DAG, reason: 'window over' });
    await confirm(resume.body.confirmation.token);
    expect((await airflow(`/api/v2/dags/${DAG}`, { token: alice })).body.is_paused).toBe(false);

    const trail = await bridge('/api/v1/audit?action=action.applied&dag_id=' + DAG + '&limit=500', { token: alice });
    const applied = (trail.body.items as Array<{ action: string; actor: string; reason: string }>).filter((e) => e.action === 'action.applied');
    expect(applied.map((e) => e.reason)).toEqual(expect.arrayContaining(['maintenance window', 'window over']));
  });
});
