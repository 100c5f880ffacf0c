import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, taskInstance, tokenFor, triggerRun, waitForApproval, waitForRunEnd } from '../support/clients.js';

const DAG = '120_01_01_approval_basics';

describe('120_01_01_approval_basics on real Airflow through the bridge', () => {
  let alice: string;
  beforeAll(async () => {
    alice = await tokenFor('alice');
  });

  it('approve as alice: the run succeeds and the task note names alice and her reason', async () => {
    const runId = await triggerRun(DAG, alice);
    const approval = await waitForApproval(runId, alice);
    expect(approval.options).toEqual(['Approve', 'Reject']);

    const vote = await bridge(`/api/v1/approvals/${approval.id}/votes`, {
      method: 'POST',
      token: alice,
      body: JSON.stringify({ option: 'Approve', reason: 'report looks right' }),
    });
    expect(vote.status).toBe(200);
    expect(vote.body.state).toBe('approved');
    expect(vote.body.votes).toMatchObject([{ user: 'alice', option: 'Approve', reason: 'report looks right' }]);

    expect(await waitForRunEnd(DAG, runId, alice)).toBe('success');
    const gate = await taskInstance(DAG, runId, 'approve_load', alice);
    expect(gate.note).toContain('alice');
    expect(gate.note).toContain('report looks right');
    expect((await taskInstance(DAG, runId, 'load_to_production', alice)).state).toBe('success');
  });

  it('reject: the load is skipped and the run still succeeds', async () => {
    const runId = await triggerRun(DAG, alice);
    const approval = await waitForApproval(runId, alice);
    const bob = await tokenFor('bob');
    const vote = await bridge(`/api/v1/approvals/${approval.id}/votes`, {
      method: 'POST',
      token: bob,
      body: JSON.stringify({ option: 'Reject', reason: 'row counts are off' }),
    });
    expect(vote.body.state).toBe('rejected');

    expect(await waitForRunEnd(DAG, runId, alice)).toBe('success');
    expect((await taskInstance(DAG, runId, 'load_to_production', alice)).state).toBe('skipped');
    expect((await taskInstance(DAG, runId, 'approve_load', alice)).note).toContain('Reject by bob');

    const again = await bridge(`/api/v1/approvals/${approval.id}/votes`, {
      method: 'POST',
      token: alice,
      body: JSON.stringify({ option: 'Approve' }),
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('refuses a vote without a token (401) and a malformed body (400 naming the field)', async () => {
    const runId = await triggerRun(DAG, alice);
    const approval = await waitForApproval(runId, alice);
    const anonymous = await bridge(`/api/v1/approvals/${approval.id}/votes`, {
      method: 'POST',
      body: JSON.stringify({ option: 'Approve' }),
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');

    const malformed = await bridge(`/api/v1/approvals/${approval.id}/votes`, {
      method: 'POST',
      token: alice,
      body: JSON.stringify({ option: 42 }),
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.field).toBe('option');

    const forged = await bridge(`/api/v1/approvals/${approval.id}/votes`, {
      method: 'POST',
      token: `${alice.slice(0, -4)}AAAA`,
      body: JSON.stringify({ option: 'Approve' }),
    });
    expect(forged.status).toBe(401);
    // Nothing was decided by the refused calls.
    expect((await bridge(`/api/v1/approvals/${approval.id}`, { token: alice })).body.state).toBe('pending');
  });

  it('only the bridge may answer: alice answering through Airflow directly gets 403', async () => {
    const runId = await triggerRun(DAG, alice);
    const approval = await waitForApproval(runId, alice);
    const res = await airflow(
      `/api/v2/dags/${DAG}/dagRuns/${encodeURIComponent(runId)}/taskInstances/approve_load/-1/hitlDetails`,
      { method: 'PATCH', token: alice, body: JSON.stringify({ chosen_options: ['Approve'], params_input: {} }) },
    );
    expect(res.status).toBe(403);
    expect((await bridge(`/api/v1/approvals/${approval.id}`, { token: alice })).body.state).toBe('pending');
  });
});
