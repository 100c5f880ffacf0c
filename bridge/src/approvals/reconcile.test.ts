import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { AirflowClient } from '../airflow/client.js';
import { AIRFLOW, airflowServer, api, hitlDetail, memoryDb, silentLog } from '../testing/fake-airflow.js';
import { buildBridge } from '../testing/harness.js';
import { Reconciler } from './reconcile.js';
import type { SqlApprovalStore } from './store.js';

const detailUrl = (run: string) => api(`/dags/dag_a/dagRuns/${run}/taskInstances/approve_load/-1/hitlDetails`);

describe('reconcile loop', () => {
  let store: SqlApprovalStore;
  let reconciler: Reconciler;
  let pending = [hitlDetail()];

  beforeEach(async () => {
    const bridge = buildBridge(await memoryDb());
    store = bridge.store;
    reconciler = new Reconciler(new AirflowClient(AIRFLOW, { username: 'airgate', password: 'pw' }), store, bridge.service, 'airgate', silentLog);
    pending = [hitlDetail({ run_id: 'r1' }), hitlDetail({ run_id: 'r2', assigned: 'someone-else' })];
    airflowServer.use(
      http.get(api('/dags/~/dagRuns/~/hitlDetails'), ({ request }) => {
        expect(new URL(request.url).searchParams.get('response_received')).toBe('false');
        return HttpResponse.json({ hitl_details: pending, total_entries: pending.length });
      }),
      http.get(api('/dags/dag_a'), () => HttpResponse.json({ dag_id: 'dag_a', tags: [{ name: 'finance', dag_id: 'dag_a' }] })),
      http.get(api('/dags/dag_a/dagRuns/:run'), ({ params }) =>
        HttpResponse.json({ dag_run_id: params.run, triggering_user_name: 'bob', conf: { amount: 12 } }),
      ),
    );
  });

  const pendingRuns = async () => (await store.list({ state: 'pending', limit: 50 })).items.map((a) => a.run_id);

  it('registers pending HITL tasks assigned to the service account only, once, with requester, tags and conf', async () => {
    await reconciler.runOnce();
    await reconciler.runOnce();
    expect(await pendingRuns()).toEqual(['r1']);
    const [approval] = (await store.list({ state: 'pending', limit: 50 })).items;
    expect(approval).toMatchObject({ requester: 'bob', tags: ['finance'], values: { amount: 12 }, policy: 'anyone-else' });
  });

  it('closes approvals Airflow resolved: timeout default → expired, answered → approved/rejected, gone → cancelled', async () => {
    pending = ['r1', 'r3', 'r4', 'r5', 'r6'].map((run_id) => hitlDetail({ run_id }));
    await reconciler.runOnce();
    pending = [hitlDetail({ run_id: 'r1' })];
    const answered = (run_id: string, by: string | null, option: string) => ({
      ...hitlDetail({ run_id }),
      response_received: true,
      chosen_options: [option],
      responded_by_user: by ? { id: by, name: by } : null,
    });
    airflowServer.use(
      http.get(detailUrl('r3'), () => HttpResponse.json(answered('r3', null, 'Reject'))),
      http.get(detailUrl('r4'), () => HttpResponse.json(answered('r4', 'admin', 'Approve'))),
      http.get(detailUrl('r5'), () => HttpResponse.json({ detail: 'gone' }, { status: 404 })),
      http.get(detailUrl('r6'), () => HttpResponse.json(hitlDetail({ run_id: 'r6', try_number: 2 }))),
    );
    await reconciler.runOnce();
    const all = (await store.list({ state: 'all', limit: 50 })).items;
    const stateOf = (run: string) => all.find((a) => a.run_id === run)?.state;
    expect([stateOf('r1'), stateOf('r3'), stateOf('r4'), stateOf('r5'), stateOf('r6')]).toEqual([
      'pending',
      'expired',
      'approved',
      'cancelled',
      'cancelled',
    ]);
  });
});
