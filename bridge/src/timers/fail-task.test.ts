import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { AirflowActions, AirflowClient } from '../airflow/client.js';
import { PermanentEffectError, applyEffect, effect } from '../effects/apply.js';
import { AIRFLOW, airflowServer, api } from '../testing/fake-airflow.js';

const key = { dag_id: 'dag_a', run_id: 'manual__1', task_id: 'approve_load', map_index: -1 };
const ctx = { now: new Date('2026-11-25T11:00:00Z'), parkedAt: null, hitlSettleMs: 0, signalsDir: null };
const credentials = { username: 'airgate', password: 'pw' };

describe('fail_task effect (a deadline whose policy says fail)', () => {
  it('marks the task instance failed, and only it', async () => {
    const bodies: unknown[] = [];
    airflowServer.use(
      http.patch(api('/dags/dag_a/dagRuns/manual__1/taskInstances/approve_load'), async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ task_instances: [{ task_id: 'approve_load' }], total_entries: 1 });
      }),
    );
    const { kind, payload } = effect('fail_task', { key });
    expect(await applyEffect(new AirflowActions(AIRFLOW, credentials), kind, payload, ctx)).toEqual({ done: true });
    expect(bodies).toEqual([{ new_state: 'failed', include_upstream: false, include_downstream: false, include_future: false, include_past: false }]);
  });

  it('is refused for good by a bridge whose effect worker lacks the actions client', async () => {
    const { kind, payload } = effect('fail_task', { key });
    await expect(applyEffect(new AirflowClient(AIRFLOW, credentials), kind, payload, ctx)).rejects.toBeInstanceOf(PermanentEffectError);
  });
});
