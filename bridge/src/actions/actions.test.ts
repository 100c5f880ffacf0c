import { http, HttpResponse } from 'msw';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { airflowServer, api, tokenFor } from '../testing/fake-airflow.js';
import { buildBridge, request1 } from '../testing/harness.js';

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
    expect(prepared.body.confirmation).toMatchObject({ effect: 'clears 4 tasks: load, notify, publish, report so they run again', expires_at: '2026-11-25T11:01:00.000Z' });
    expect(calls).toMatchObject([{ method: 'POST', auth: `Bearer ${alice}`, body: { dry_run: true, task_ids: ['load'], include_downstream: true, dag_run_id: 'r1' } }]);

    const applied = await post('/confirm', { token: prepared.body.confirmation.token });
    expect(applied.status).toBe(200);
    expect(applied.body).toEqual({ applied: true, kind: 'clear_task', result: { task_ids: ['load', 'publish', 'notify', 'report'] } });
    // Confirming asks for the dry run again (has a task started waiting for a decision since?), then applies.
    expect(calls.slice(1).map((c) => (c.body as { dry_run: boolean }).dry_run)).toEqual([true, false]);
    expect(calls[2]).toMatchObject({ body: { dry_run: false, note: 'alice via airgate: bad input file' } });
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
    const locked = { reason: 'Database error', statement: 'UPDATE', orig_error: 'database is locked', message: 'Error with id 1' };
    airflowServer.use(http.post(api('/dags/etl/clearTaskInstances'), () => HttpResponse.json({ detail: locked }, { status: 500 })));
    const refused = await post('/confirm', { token });
    expect(refused.status).toBe(503);
    // Airflow's own reason reaches the person (and lets a client retry only what is worth retrying).
    expect(refused.body.error.message).toBe('Airflow did not apply it (500: database is locked); nothing was changed');
    airflowServer.resetHandlers();
    airflowServer.use(http.post(api('/dags/etl/clearTaskInstances'), () => HttpResponse.json({ task_instances: [ti('load')] })));
    expect((await post('/confirm', { token })).status).toBe(200);
    const actions = (await bridge.trail.list({ limit: 50 })).items.map((e) => e.action);
    expect(actions).toEqual(['action.prepared', 'action.failed', 'action.failed', 'action.applied']);
  });

  describe('a task waiting for an airgate decision', () => {
    const waiting = async (task_id: string) =>
      bridge.service.register({ ...request1, dag_id: 'etl', run_id: 'r1', task_id }, 'test');
    const mark = { kind: 'mark_task', dag_id: 'etl', run_id: 'r1', task_id: 'load', state: 'success', reason: 'just ship it' };
    const snapshot = async (id: string) => ({
      approval: await bridge.store.get(id),
      audit: (await bridge.trail.list({ limit: 100 })).items.length,
      confirmations: await db.selectFrom('action_confirmation').selectAll().execute(),
    });

    it.each([
      ['marking it success', mark, 'load', 'mark load success'],
      ['marking it failed', { ...mark, state: 'failed' }, 'load', 'mark load failed'],
      ['clearing it', { ...clear, include_downstream: false }, 'load', 'clear load'],
      // The clear's dry run lists publish downstream of load: that is the gate.
      ['clearing a task upstream of it with downstream', clear, 'publish', 'clear publish'],
    ])('is refused with 409 when %s through the actions API, and nothing changes', async (_name, body, gate, verb) => {
      const { id } = await waiting(gate);
      const before = await snapshot(id);
      const res = await post('', body);
      expect(res.status).toBe(409);
      expect(res.body.error).toEqual({
        code: 'approval_pending',
        message: `${gate} waits for approval ${id}: decide it in airgate (Approvals, /api/v1/approvals/${id}) instead of trying to ${verb}`,
      });
      expect(await snapshot(id)).toEqual(before);
      expect(calls.filter((c) => !c.path.endsWith('dry_run') && !(c.body as { dry_run?: boolean } | null)?.dry_run)).toEqual([]);
    });

    it('is refused at confirm when the task started waiting after the action was prepared', async () => {
      const token = (await post('', mark)).body.confirmation.token;
      const { id } = await waiting('load');
      const res = await post('/confirm', { token });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('approval_pending');
      expect((await bridge.store.get(id))?.state).toBe('pending');
      expect(calls.filter((c) => c.method === 'PATCH' && !c.path.endsWith('dry_run'))).toEqual([]);
    });

    it('is allowed once the approval is decided, or for other tasks of the run', async () => {
      await waiting('notify_owner');
      expect((await post('', mark)).status).toBe(201);
    });
  });
});
