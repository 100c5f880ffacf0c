/**
 * Delegation on the real Airflow and bridge (issue #15 point 4), with 120_01_01_approval_basics: alice, one of its
 * data stewards, hands her vote to dave, who decides nothing there in his own right. dave votes for alice, the run
 * continues and the task note says "dave for alice"; dave in his own name, and alice while she has delegated, are
 * refused and change nothing; once alice revokes, dave is refused again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridge, tokenFor, waitForRunEnd } from '../support/clients.js';
import { approvalOf, note, signIn, tokens, triggerRun, vote, voteAs } from '../support/scenarios.js';
import { expectRefusedAndUnchanged } from '../support/unchanged.js';

const DAG = '120_01_01_approval_basics';
const POLICY = 'approval-basics';
const seg = encodeURIComponent;

let dave: string;
const made: string[] = [];

beforeAll(async () => {
  await signIn();
  dave = await tokenFor('dave');
});

// The suites share one stack: a delegation left in force would refuse alice's own votes in the files after this one.
afterAll(async () => {
  for (const id of made) await bridge(`/api/v1/delegations/${seg(id)}`, { method: 'DELETE', token: tokens.alice });
});

const delegate = async (body: Record<string, unknown>) => {
  const res = await bridge('/api/v1/delegations', { method: 'POST', token: tokens.alice, body: JSON.stringify(body) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  made.push(res.body.id as string);
  return res.body as { id: string; from: string; to: string; state: string };
};

describe('delegation', () => {
  it('120_01_01_approval_basics: dave votes for alice, never in his own name, and not once she revokes', async () => {
    const ends_at = new Date(Date.now() + 24 * 3_600_000).toISOString();
    const delegation = await delegate({ to: 'dave', ends_at, policies: [POLICY], reason: 'alice is on leave' });
    expect(delegation).toMatchObject({ from: 'alice', to: 'dave', state: 'active' });
    const listed = await bridge('/api/v1/delegations', { token: dave });
    expect((listed.body.received as Array<{ id: string }>).map((d) => d.id)).toContain(delegation.id);

    // The admin triggers, so neither alice nor dave is the requester.
    const runId = await triggerRun(DAG, tokens.admin);
    const pending = await approvalOf(runId, 'approve_load', tokens.admin);
    const shown = await bridge(`/api/v1/approvals/${seg(pending.id)}`, { token: dave });
    expect(shown.body.delegations).toEqual([expect.objectContaining({ id: delegation.id, from: 'alice', to: 'dave' })]);

    // dave is no data steward: in his own name he is refused, and alice has handed her vote on.
    await expectRefusedAndUnchanged(pending.id, tokens.admin, () => voteAs(dave, pending.id, { option: 'Approve' }), { status: 403, code: 'not_eligible' });
    await expectRefusedAndUnchanged(pending.id, tokens.admin, () => vote('alice', pending.id, { option: 'Approve' }), { status: 409, code: 'vote_delegated' });

    const cast = await voteAs(dave, pending.id, { option: 'Approve', reason: 'checked the report', on_behalf_of: 'alice' });
    expect(cast.status, JSON.stringify(cast.body)).toBe(200);
    expect(cast.body).toMatchObject({ state: 'approved', votes: [{ user: 'dave', on_behalf_of: 'alice', option: 'Approve' }] });
    expect(await waitForRunEnd(DAG, runId, tokens.admin)).toBe('success');
    expect(await note(DAG, runId, 'approve_load')).toContain('Approve by dave for alice via api: checked the report');

    const trail = await bridge(`/api/v1/audit?approval_id=${seg(pending.id)}&action=vote.recorded`, { token: tokens.admin });
    expect(trail.body.items).toEqual([expect.objectContaining({ actor: 'dave', details: expect.objectContaining({ on_behalf_of: 'alice', delegation_id: delegation.id }) })]);
    const created = await bridge('/api/v1/audit?action=delegation.created&actor=alice', { token: tokens.admin });
    expect(created.body.items).toContainEqual(expect.objectContaining({ approval_id: null, details: expect.objectContaining({ delegation_id: delegation.id }) }));

    // Revoked: dave is refused again, nothing changes, and alice decides herself.
    const second = await triggerRun(DAG, tokens.admin);
    const next = await approvalOf(second, 'approve_load', tokens.admin);
    const revoked = await bridge(`/api/v1/delegations/${seg(delegation.id)}`, { method: 'DELETE', token: tokens.alice });
    expect(revoked.body).toMatchObject({ state: 'revoked', revoked_by: 'alice' });
    await expectRefusedAndUnchanged(next.id, tokens.admin, () => voteAs(dave, next.id, { option: 'Approve', on_behalf_of: 'alice' }), { status: 403, code: 'not_delegated' });
    expect((await vote('alice', next.id, { option: 'Approve' })).body.state).toBe('approved');
    expect(await waitForRunEnd(DAG, second, tokens.admin)).toBe('success');
  });
});
