/**
 * 120_10_03_financial_approval on the real Airflow and bridge: payments routed by amount, segregation of duties
 * enforced by the policy (nobody decides at two levels, the owner and the requester never), and the audit filed by
 * the DAG and exported by people as JSON and CSV through Airflow's origin.
 */
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { bridge, stack, tokenFor, waitForRunEnd } from '../support/clients.js';
import { approvalOf, decide, scenario, signIn, states, tokens, triggerRun, vote, voteAs, xcom } from '../support/scenarios.js';
import { expectRefusedAndUnchanged } from '../support/unchanged.js';

const DAG = '120_10_03_financial_approval';
const payment = (amount: number, beneficiary = 'Northwind Ltd', reference = `INV-${amount}-${Date.now()}`) => ({ amount, beneficiary, reference, seed: 42 });

let dave: string;
beforeAll(async () => {
  await signIn();
  dave = await tokenFor('dave');
});

/** The audit export of one approval through the plugin's same-origin route, as the Audit page downloads it. */
async function exported(approvalId: string, format: 'json' | 'csv') {
  const url = `${stack().airflowUrl}/airgate/api/audit/export?format=${format}&approval_id=${encodeURIComponent(approvalId)}`;
  const res = await fetch(url, { headers: { Authorization: `Bearer ${tokens.alice}` } });
  expect(res.status, await res.clone().text()).toBe(200);
  return { headers: res.headers, text: await res.text() };
}

describe.concurrent('120_10_03_financial_approval: amount-based routing, segregation of duties, audit trail', () => {
  it('25 000 EUR: two levels; the owner and a second-level vote by the first-level approver are refused and change nothing', async () => {
    const run = await scenario(DAG, payment(25_000), async (runId) => {
      const gate = await approvalOf(runId, 'approve_payment');
      expect(gate).toMatchObject({ policy: 'financial-large', level: 1, requester: 'alice' });
      expect(gate.body).toContain('| sanctions | ✅ |');
      // dave owns the pipeline: the policy excludes the DAG's owners.
      await expectRefusedAndUnchanged(gate.id, tokens.admin, () => voteAs(dave, gate.id, { option: 'Approve' }), {
        status: 403,
        code: 'segregation_of_duties',
      });
      expect((await vote('carol', gate.id, { option: 'Approve' })).body).toMatchObject({ state: 'pending', level: 2 });
      // carol is a controller too, but decided the first level.
      const refused = await expectRefusedAndUnchanged(gate.id, tokens.admin, () => vote('carol', gate.id, { option: 'Approve' }), { status: 403, code: 'segregation_of_duties' });
      expect(refused.body.error.message).toContain('lets nobody decide at two levels');
      expect((await vote('admin', gate.id, { option: 'Approve' })).body.state).toBe('approved');
      return gate.id;
    });
    expect(run.state).toBe('success');
    expect(run.tasks).toMatchObject({ approve_payment: 'success', auto_approve: 'skipped', block_payment: 'skipped', execute_payment: 'success', file_audit_evidence: 'success' });
    expect(await xcom(DAG, run.runId, 'execute_payment')).toEqual({ paid: 25_000, route: 'people', booked: 1 });
    const evidence = await xcom(DAG, run.runId, 'file_audit_evidence');
    expect(evidence).toMatchObject({
      route: 'people',
      approval: run.steered,
      outcome: { state: 'approved' },
      deciders_by_level: { '1': ['carol'], '2': ['admin'] },
      chain_ok: true,
      one_level_per_person: true,
      requester_decided: false,
    });

    // People export the same trail: JSON with the chain verified, CSV with a row per entry.
    const json = await exported(run.steered, 'json');
    expect(json.headers.get('content-disposition')).toMatch(/^attachment; filename="airgate-audit-.*\.json"$/);
    expect(json.headers.get('airgate-audit-chain')).toBe('ok');
    const document = JSON.parse(json.text) as { verification: { ok: boolean }; entries: { action: string; actor: string; details: { level?: number } }[] };
    expect(document.verification.ok).toBe(true);
    const votes = document.entries.filter((e) => e.action === 'vote.recorded').map((e) => [e.actor, e.details.level]);
    expect(votes).toEqual([
      ['carol', 1],
      ['admin', 2],
    ]);
    const refusals = document.entries.filter((e) => e.action === 'vote.refused').map((e) => e.actor);
    expect(refusals).toEqual(['dave', 'carol']);
    const csv = await exported(run.steered, 'csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parse(csv.text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.action)).toEqual(document.entries.map((e) => e.action));
    expect(rows.every((r) => r.chain_verified === 'true')).toBe(true);
  });

  it('4 000 EUR requested by bob: one level; bob may not decide his own request; a rejection is not paid and still filed', async () => {
    const runId = await triggerRun(DAG, tokens.bob, payment(4_000));
    const gate = await approvalOf(runId, 'approve_payment');
    expect(gate).toMatchObject({ policy: 'financial-standard', requester: 'bob' });
    await expectRefusedAndUnchanged(gate.id, tokens.admin, () => vote('bob', gate.id, { option: 'Approve' }), { status: 403, code: 'self_approval' });
    await decide(runId, 'approve_payment', 'carol', { option: 'Reject', reason: 'no purchase order on file' });
    expect(await waitForRunEnd(DAG, runId, tokens.alice)).toBe('success');
    expect(await states(DAG, runId)).toMatchObject({ approve_payment: 'success', execute_payment: 'skipped', file_audit_evidence: 'success' });
    expect(await xcom(DAG, runId, 'file_audit_evidence')).toMatchObject({ outcome: { state: 'rejected' }, deciders_by_level: { '1': ['carol'] }, chain_ok: true });
  });

  it('420 EUR is paid at once; a sanctioned beneficiary is blocked before anyone is asked', async () => {
    const [small, sanctioned] = await Promise.all([
      scenario(DAG, payment(420), async () => undefined),
      scenario(DAG, payment(420, 'Ocean-Star Trading Ltd.'), async () => undefined),
    ]);
    expect(small.state).toBe('success');
    expect(small.tasks).toMatchObject({ auto_approve: 'success', approve_payment: 'skipped', execute_payment: 'success' });
    expect(await xcom(DAG, small.runId, 'execute_payment')).toEqual({ paid: 420, route: 'auto', booked: 1 });
    expect(sanctioned.tasks).toMatchObject({ block_payment: 'success', approve_payment: 'skipped', execute_payment: 'skipped' });
    expect(await xcom(DAG, sanctioned.runId, 'block_payment')).toEqual({ blocked_by: ['sanctions'] });
    for (const runId of [small.runId, sanctioned.runId]) {
      const listed = await bridge(`/api/v1/approvals?run_id=${encodeURIComponent(runId)}`, { token: tokens.admin });
      expect(listed.body.items).toEqual([]);
    }
  });
});
