import { http, HttpResponse } from 'msw';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { airflowServer, api, tokenFor } from '../testing/fake-airflow.js';
import { buildBridge } from '../testing/harness.js';

const ti = (task_id: string) => ({ task_id });

describe.each(databases)('actions on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;
  let clock: Date;
  let alice: string;
  const calls: Array<{ method: string; path: string; auth: string | null; body: unknown }> = [];

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    clock = new Date('2026-11-25T11:00:00Z');
    bridge = buildBridge(db, undefined, () => clock);
    alice = await tokenFor('alice');
    calls.length = 0;
    const record = async ({ request }: { request: Request }) => {
      calls.push({ method: request.method, path: new URL(request.url).pathname, auth: request.headers.get('authorization'), body: await request.json().catch(() => null) });
    };
    airflowServer.use(
      http.post(api('/dags/etl/clearTaskInstances'), async (info) => {
        await record(info);
        return HttpResponse.json({ task_instances: [ti('load'), ti('publish'), ti('notify'), ti('report')], total_entries: 4 });
      }),
      http.patch(api('/dags/etl/dagRuns/r1/taskInstances/load/dry_run'), async (info) => {
        await record(info);
        return HttpResponse.json({ task_instances: [ti('load')] });
      }),
      http.patch(api('/dags/etl/dagRuns/r1/taskInstances/load'), async (info) => {
        await record(info);
        return HttpResponse.json({ task_instances: [ti('load')] });
      }),
      http.get(api('/dags/locked'), () => HttpResponse.json({ detail: 'Forbidden' }, { status: 403 })),
    );
  });
  afterEach(() => drop());

  const post = (path: string, body: unknown, token = alice) =>
    request(bridge.app).post(`/api/v1/actions${path}`).set('Authorization', `Bearer ${token}`).send(body as object);
  const clear = { kind: 'clear_task', dag_id: 'etl', run_id: 'r1', task_id: 'load', include_downstream: true, reason: 'bad input file' };

  it('prepare names the effect from a dry run; confirm applies it as the person, with the reason as note', async () => {
    const prepared = await post('', clear);
    expect(prepared.status).toBe(201);
    expect(prepared.body.confirmation).toMatchObject({ effect: 'clears 4 tasks: load, publish, notify, report so they run again', expires_at: '2026-11-25T11:01:00.000Z' });
    expect(calls).toMatchObject([{ method: 'POST', auth: `Bearer ${alice}`, body: { dry_run: true, task_ids: ['load'], include_downstream: true, dag_run_id: 'r1' } }]);

    const applied = await post('/confirm', { token: prepared.body.confirmation.token });
    expect(applied.status).toBe(200);
    expect(applied.body).toEqual({ applied: true, kind: 'clear_task', result: { task_ids: ['load', 'publish', 'notify', 'report'] } });
    expect(calls[1]).toMatchObject({ body: { dry_run: false, note: 'alice via airgate: bad input file' } });
    const actions = (await bridge.trail.list({ limit: 50 })).items.map((e) => [e.action, e.actor, e.reason]);
    expect(actions).toEqual([
      ['action.prepared', 'alice', 'bad input file'],
      ['action.applied', 'alice', 'bad input file'],
    ]);
  });

  it('a confirmation is single-use, expires, and belongs to the person who prepared it', async () => {
    const token = (await post('', { kind: 'mark_task', dag_id: 'etl', run_id: 'r1', task_id: 'load', state: 'success', reason: 'fixed by hand' })).body.confirmation.token;
    expect((await post('/confirm', { token }, await tokenFor('bob'))).status).toBe(403);
    expect((await post('/confirm', { token })).status).toBe(200);
    const again = await post('/confirm', { token });
    expect(again.status).toBe(410);
    expect(again.body.error.message).toContain('already used');

    const late = (await post('', { kind: 'mark_task', dag_id: 'etl', run_id: 'r1', task_id: 'load', state: 'failed', reason: 'r' })).body.confirmation.token;
    clock = new Date('2026-11-25T11:01:00.001Z');
    const expired = await post('/confirm', { token: late });
    expect(expired.status).toBe(410);
    expect(expired.body.error.message).toContain('expired');
    expect(calls.filter((c) => !c.path.endsWith('dry_run'))).toHaveLength(1);
  });

  it('a reason is required and the body is validated, naming the field', async () => {
    const noReason = await post('', { ...clear, reason: ' ' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe('reason');
    const badKind = await post('', { kind: 'drop_database', reason: 'x' });
    expect(badKind.status).toBe(400);
    expect(badKind.body.error.field).toBe('kind');
    expect(calls).toEqual([]);
  });

  it("Airflow's refusal of the person is a 403, and nothing is prepared", async () => {
    const res = await post('', { kind: 'pause_dag', dag_id: 'locked', reason: 'maintenance' });
    expect(res.status).toBe(403);
    expect(await db.selectFrom('action_confirmation').selectAll().execute()).toEqual([]);
  });

  it('Airflow down at confirm time: 503, nothing changed, and the confirmation can be used again', async () => {
    const token = (await post('', clear)).body.confirmation.token;
    airflowServer.use(http.post(api('/dags/etl/clearTaskInstances'), () => HttpResponse.error()));
    const down = await post('/confirm', { token });
    expect(down.status).toBe(503);
    airflowServer.resetHandlers();
    airflowServer.use(http.post(api('/dags/etl/clearTaskInstances'), () => HttpResponse.json({ task_instances: [ti('load')] })));
    expect((await post('/confirm', { token })).status).toBe(200);
    const actions = (await bridge.trail.list({ limit: 50 })).items.map((e) => e.action);
    expect(actions).toEqual(['action.prepared', 'action.failed', 'action.applied']);
  });
});
