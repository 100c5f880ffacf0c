import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { AirflowClient, type HitlDetail } from '../airflow/client.js';
import { AIRFLOW, airflowServer, api, hitlDetail, memoryDb, silentLog, tokenFor } from '../testing/fake-airflow.js';
import request from 'supertest';
import { buildBridge, request1 } from '../testing/harness.js';
import { Reconciler } from './reconcile.js';
import type { Db } from '../store/db.js';
import type { SqlApprovalStore } from './store.js';

const detailUrl = (run: string) => api(`/dags/dag_a/dagRuns/${run}/taskInstances/approve_load/-1/hitlDetails`);

describe('reconcile loop', () => {
  let store: SqlApprovalStore;
  let db: Db;
  let reconciler: Reconciler;
  const auditOf = async (id: string) =>
    (await db.selectFrom('audit_entry').selectAll().where('approval_id', '=', id).orderBy('seq').execute()).map((e) => ({ ...e, details: JSON.parse(e.details) }));
  let pending = [hitlDetail()];

  beforeEach(async () => {
    db = await memoryDb();
    const bridge = buildBridge(db);
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

  it('closes approvals Airflow resolved: timeout default → expired, answered around the bridge → bypassed, gone → cancelled', async () => {
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
      'bypassed',
      'cancelled',
      'cancelled',
    ]);
  });

  describe('a task marked in Airflow instead of decided', () => {
    type TaskState = HitlDetail['task_instance']['state'];
    const marked = (run_id: string, state: TaskState): HitlDetail => ({ ...hitlDetail({ run_id }), task_instance: { ...hitlDetail({ run_id }).task_instance, state, note: 'forced' } });
    const logEntry = (run_id: string, owner: string, extra: string) => ({
      event_log_id: 7,
      when: '2026-11-25T10:30:00Z',
      dag_id: 'dag_a',
      task_id: 'approve_load',
      run_id,
      map_index: -1,
      try_number: 1,
      event: 'patch_task_instance',
      logical_date: null,
      owner,
      extra,
    });
    let logs: Record<string, ReturnType<typeof logEntry>[]> = {};
    const states: Record<string, TaskState> = { r1: 'success', r2: 'failed', r3: 'skipped' };
    let logQueries: URLSearchParams[] = [];

    beforeEach(async () => {
      pending = ['r1', 'r2', 'r3'].map((run_id) => hitlDetail({ run_id }));
      await reconciler.runOnce();
      logQueries = [];
      logs = {
        // The bridge's own note and a note-only edit are no state change; admin's mark is.
        r1: [logEntry('r1', 'airgate', '{"note":"airgate: ..."}'), logEntry('r1', 'admin', '{"new_state":"success","method":"PATCH"}'), logEntry('r1', 'bob', '{"note":"hi"}')],
        r2: [],
        r3: [],
      };
      airflowServer.use(
        http.get(api('/eventLogs'), ({ request }) => {
          const query = new URL(request.url).searchParams;
          logQueries.push(query);
          return HttpResponse.json({ event_logs: logs[query.get('run_id') ?? ''] ?? [], total_entries: 0 });
        }),
        ...Object.entries(states).map(([run, state]) => http.get(detailUrl(run), () => HttpResponse.json(marked(run, state)))),
      );
      // Airflow still lists a marked task's request as unanswered.
      pending = Object.entries(states).map(([run, state]) => marked(run, state));
    });

    it('closes it as bypassed, naming who from Airflow’s event log, and audits it', async () => {
      await reconciler.runOnce();
      const all = (await store.list({ state: 'all', limit: 50 })).items;
      const r1 = all.find((a) => a.run_id === 'r1')!;
      expect(r1).toMatchObject({ state: 'bypassed', outcome: null });
      expect(logQueries[0]?.getAll('included_events')).toEqual(['patch_task_instance', 'bulk_task_instances', 'patch_dag_run', 'bulk_dag_runs']);
      expect(logQueries[0]?.get('dag_id')).toBe('dag_a');
      const entries = await auditOf(r1.id);
      expect(entries.at(-1)).toMatchObject({
        actor: 'admin',
        action: 'approval.bypassed',
        details: { by_airflow: { kind: 'state_changed', state: 'success', by: 'admin', at: '2026-11-25T10:30:00Z', event: 'patch_task_instance', note: 'forced' } },
      });
      // Skipped with no one in the log is still a bypass (by an unknown hand); failed with no one is Airflow's timeout.
      expect(all.find((a) => a.run_id === 'r3')).toMatchObject({ state: 'bypassed' });
      expect(all.find((a) => a.run_id === 'r2')).toMatchObject({ state: 'expired' });
      // Closed once: a second pass changes nothing.
      const count = (await auditOf(r1.id)).length;
      await reconciler.runOnce();
      expect(await auditOf(r1.id)).toHaveLength(count);
    });
  });

  describe('an external approval (a sensor waits, no HITL task)', () => {
    const external = (run_id: string) =>
      bridge.service.register({ ...request1, run_id, task_id: 'request_approval', external: true, signals: [{ kind: 'file' }] }, 'test');
    let bridge: ReturnType<typeof buildBridge>;
    let runs: Record<string, Array<{ task_id: string; state: string | null; try_number?: number }> | null>;

    beforeEach(() => {
      bridge = buildBridge(db);
      reconciler = new Reconciler(new AirflowClient(AIRFLOW, { username: 'airgate', password: 'pw' }), bridge.store, bridge.service, 'airgate', silentLog);
      pending = [];
      airflowServer.use(
        http.get(api('/dags/dag_a/tasks/request_approval'), () => HttpResponse.json({ task_id: 'request_approval', downstream_task_ids: ['wait', 'deploy'] })),
        http.get(api('/dags/dag_a/dagRuns/:run/taskInstances'), ({ params }) => {
          const tis = runs[String(params.run)];
          if (!tis) return HttpResponse.json({ detail: 'not found' }, { status: 404 });
          return HttpResponse.json({ task_instances: tis.map((t) => ({ map_index: -1, try_number: 1, ...t })), total_entries: tis.length });
        }),
      );
    });

    it('stays pending while its sensor waits, and closes with the wait: timed out → expired, run gone or retried → cancelled', async () => {
      const [waiting, timedOut, deleted, retried] = await Promise.all(['w', 't', 'd', 'r'].map(external));
      runs = {
        w: [{ task_id: 'request_approval', state: 'success' }, { task_id: 'wait', state: 'up_for_reschedule' }, { task_id: 'deploy', state: null }],
        t: [{ task_id: 'request_approval', state: 'success' }, { task_id: 'wait', state: 'skipped' }, { task_id: 'deploy', state: 'skipped' }],
        d: null,
        r: [{ task_id: 'request_approval', state: 'running', try_number: 2 }, { task_id: 'wait', state: null }, { task_id: 'deploy', state: null }],
      };
      await reconciler.runOnce();
      const state = async (id: string) => (await bridge.service.get(id)).state;
      expect(await state(waiting!.id)).toBe('pending');
      expect(await state(timedOut!.id)).toBe('expired');
      expect(await state(deleted!.id)).toBe('cancelled');
      expect(await state(retried!.id)).toBe('cancelled');
      expect((await auditOf(timedOut!.id)).at(-1)).toMatchObject({ action: 'approval.closed', details: { by_airflow: { kind: 'gone', expired: true } } });

      // A late vote decides nothing and publishes no signal.
      const late = await request(bridge.app).post(`/api/v1/approvals/${timedOut!.id}/votes`).set('Authorization', `Bearer ${await tokenFor('alice')}`).send({ option: 'Approve' });
      expect(late.status).toBe(409);
      expect(await db.selectFrom('effect').select('id').where('approval_id', '=', timedOut!.id).execute()).toEqual([]);

      runs.w = [{ task_id: 'request_approval', state: 'success' }, { task_id: 'wait', state: 'success' }, { task_id: 'deploy', state: 'success' }];
      await reconciler.runOnce();
      expect(await state(waiting!.id)).toBe('cancelled');
    });

    it('leaves a break-glass review pending whatever its run does: only its reviewers close it', async () => {
      const bypassed = await external('b');
      const review = await bridge.service.register(
        { ...request1, run_id: 'b', task_id: 'request_approval@review', external: true, review_of: { approval_id: bypassed.id, policy: 'anyone-else', by: 'alice', reason: 'outage' } },
        'test',
      );
      runs = { b: null };
      await reconciler.runOnce();
      expect((await bridge.service.get(bypassed.id)).state).toBe('cancelled');
      expect((await bridge.service.get(review.id)).state).toBe('pending');
    });
  });
});
