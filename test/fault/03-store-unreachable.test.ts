import { describe, expect, it } from 'vitest';
import { appliedInAirflow, counted } from './support/checks.js';
import { acknowledged, approvalsOf, call, deferredVotesSettled, fault, lb, report, tokenOf, triggerGates, vote, waitFor } from './support/clients.js';

const APPROVALS = 30;

/**
 * PostgreSQL on this machine is shared, so the suite does not restart it: the replicas reach their store through
 * a TCP proxy the suite controls (support/store-proxy.ts), and cutting it is, for them, the store going away —
 * open connections break and new ones are refused — while Airflow and everyone else keep their PostgreSQL.
 */
describe("the bridge's store unreachable during votes", () => {
  it('answers 503 in the contract shape meanwhile, recovers without a restart and loses no acknowledged vote', async () => {
    const { runId, approvals } = await triggerGates('store', APPROVALS);
    const before = approvals.slice(0, 10);
    const during = approvals.slice(10, 20);
    const after = approvals.slice(20);
    const acked: string[] = [];
    for (const a of before) if (acknowledged((await vote('v01', a.id, 'Approve', `s:${a.id}`)).at(-1)!)) acked.push(a.id);

    await call(fault().storeProxyControl, '/cut', { method: 'POST' });
    const refused = [];
    for (const a of during) refused.push(await lb(`/api/v1/approvals/${a.id}/votes`, { method: 'POST', token: await tokenOf('v01'), body: JSON.stringify({ option: 'Approve' }) }));
    const replicas = await Promise.all(fault().replicaUrls.map((url) => call(url, '/readyz')));
    await call(fault().storeProxyControl, '/restore', { method: 'POST' });

    expect(refused.map((r) => r.status)).toEqual(during.map(() => 503));
    for (const r of refused) expect(r.body).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
    for (const r of replicas) expect({ status: r.status, state: r.body?.status }).toEqual({ status: 503, state: 'unavailable' });

    // No restart: the same replicas answer again once their store is back.
    await waitFor('the load balancer to be ready again', async () => ((await lb('/readyz')).body?.status === 'ready' ? true : undefined), 120_000);
    for (const a of [...during, ...after]) if (acknowledged((await vote('v01', a.id, 'Approve', `s:${a.id}`)).at(-1)!)) acked.push(a.id);

    await deferredVotesSettled();
    const all = await approvalsOf(runId);
    const stored = all.filter((a) => counted(a).length === 1).map((a) => a.id);
    const lost = acked.filter((id) => !stored.includes(id)).length;
    const decided = all.filter((a) => a.state === 'approved');
    const { applied, duplicated } = await appliedInAirflow(runId, decided);
    report({ scenario: '3 store unreachable during votes', sent: APPROVALS + during.length, acknowledged: acked.length, applied, lost, duplicated });

    expect(acked.length).toBe(APPROVALS);
    expect(lost).toBe(0);
    expect(decided.length).toBe(APPROVALS);
    expect(duplicated).toBe(0);
  });
});

