import { http, HttpResponse } from 'msw';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { airflowServer, api, memoryDb, tokenFor } from '../testing/fake-airflow.js';
import { buildBridge, policiesWith, request1 } from '../testing/harness.js';
import type { Db } from '../store/db.js';

const POLICIES = policiesWith(`  - name: large
    match: { dag_id: dag_a, when: "amount >= 10000" }
    self_approval: false
    levels:
      - { name: finance, approvers: [group:stewards], rule: any }
      - { name: controllers, approvers: [user:bob], rule: any }
    deadline: { after: 2h, action: reject }
  - name: standard
    match: { dag_id: dag_a }
    levels:
      - { name: finance, approvers: [group:level1], rule: any }
`);

describe('policy routes', () => {
  let db: Db;
  let bridge: ReturnType<typeof buildBridge>;
  let alice: string;

  beforeEach(async () => {
    db = await memoryDb();
    bridge = buildBridge(db, POLICIES);
    // The fake Airflow's people may read the DAGs that have approvals.
    await bridge.service.register(request1, 'test');
    alice = await tokenFor('alice');
    airflowServer.use(
      http.get(api('/dags/dag_a'), () => HttpResponse.json({ dag_id: 'dag_a', owners: ['dave'], tags: [{ name: 'finance', dag_id: 'dag_a' }] })),
      http.get(api('/dags/dag_a/tasks/approve_load'), () => HttpResponse.json({ task_id: 'approve_load' })),
      http.get(api('/dags/dag_a/tasks/nope'), () => HttpResponse.json({ detail: 'Task with id nope not found' }, { status: 404 })),
    );
  });
  afterEach(() => db.destroy());

  const dryRun = (body: unknown, token: string | null = alice) => {
    const req = request(bridge.app).post('/api/v1/policies/dry-run');
    if (token) req.set('Authorization', `Bearer ${token}`);
    return req.send(body as object);
  };

  it('answers who would decide, level by level, with the signed-in person as requester', async () => {
    const res = await dryRun({ dag_id: 'dag_a', task_id: 'approve_load', conf: { amount: 25000 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      policy: 'large',
      policy_error: null,
      policies: [
        { name: 'large', verdict: 'matched' },
        { name: 'standard', verdict: 'shadowed' },
      ],
      levels: [
        {
          name: 'finance',
          reachable: true,
          groups: [{ rule: 'any', needed: 1, people: ['bob', 'carol', 'dave', 'erin'].map((user) => ({ user })), excluded: [{ user: 'alice' }] }],
        },
        { name: 'controllers', reachable: true, groups: [{ people: [{ user: 'bob' }] }] },
      ],
      deadline: { due_at: '2026-11-25T13:00:00.000Z', action: 'reject' },
      reachable: true,
      problems: [],
    });
  });

  it('names the form values over the conf, and a requester given for a run nobody triggers', async () => {
    const res = await dryRun({ dag_id: 'dag_a', task_id: 'approve_load', conf: { amount: 25000 }, params: { amount: 5 }, requester: null });
    expect(res.body).toMatchObject({ policy: 'standard', levels: [{ groups: [{ people: [{ user: 'alice' }], excluded: [] }] }] });
  });

  it('400 names the field', async () => {
    expect((await dryRun({ task_id: 'approve_load' })).body.error).toMatchObject({ code: 'bad_request', field: 'dag_id' });
    expect((await dryRun({ dag_id: 'dag_a', task_id: 'approve_load', conf: 'amount=5' })).body.error).toMatchObject({ field: 'conf' });
    const unknown = await dryRun({ dag_id: 'dag_a', task_id: 'approve_load', run_id: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('run_id');
  });

  it('401 without a token or with a bad one', async () => {
    expect((await dryRun({ dag_id: 'dag_a', task_id: 'approve_load' }, null)).status).toBe(401);
    expect((await dryRun({ dag_id: 'dag_a', task_id: 'approve_load' }, await tokenFor('alice', { secret: 'another-secret-long-enough-for-hs512!!' }))).status).toBe(401);
  });

  it('404 for a DAG the person may not read, as for one that does not exist, and for a task the DAG does not have', async () => {
    bridge.airflowPermissions.hide('alice', 'dag_a');
    const hidden = await dryRun({ dag_id: 'dag_a', task_id: 'approve_load' });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error).toMatchObject({ code: 'not_found', field: 'dag_id' });
    expect((await dryRun({ dag_id: 'dag_unknown', task_id: 'approve_load' })).body.error).toMatchObject({ code: 'not_found', field: 'dag_id' });
    const bob = await tokenFor('bob');
    const task = await dryRun({ dag_id: 'dag_a', task_id: 'nope' }, bob);
    expect(task.status).toBe(404);
    expect(task.body.error).toMatchObject({ code: 'not_found', field: 'task_id', message: 'DAG dag_a has no task nope' });
  });

  it('503 when Airflow cannot be asked about the DAG', async () => {
    airflowServer.use(http.get(api('/dags/dag_a'), () => HttpResponse.json({}, { status: 500 })));
    const res = await dryRun({ dag_id: 'dag_a', task_id: 'approve_load' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('airflow_unavailable');
  });

  describe('check', () => {
    const check = (body: unknown) => request(bridge.app).post('/api/v1/policies/check').set('Authorization', `Bearer ${alice}`).send(body as object);

    it('dry-runs the given approval tasks against the submitted file, not the one in force', async () => {
      const res = await check({
        policies: policiesWith(`  - name: pair
    levels: [{ name: pair, approvers: [group:level1], rule: { n_of: 2 } }]
`),
        approvals: [
          { dag_id: 'dag_x', task_id: 't', owners: ['dave'] },
          { dag_id: 'dag_x', task_id: 't', requester: null },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        valid: true,
        error: null,
        results: [
          // The signed-in person would trigger it, and may not approve their own request.
          { dag_id: 'dag_x', task_id: 't', policy: 'pair', reachable: false, problems: ['level "pair": "pair" needs 2 of nobody (barred: alice)'] },
          { policy: 'pair', reachable: false, problems: ['level "pair": "pair" needs 2 of alice'] },
        ],
      });
    });

    it('says where a file is invalid', async () => {
      const res = await check({ policies: 'version: 1\npolicies:\n  - name: p\n    levels: []\n', source: 'ops.yaml' });
      expect(res.body).toEqual({ valid: false, error: 'ops.yaml:4:13: policies[0].levels: list at least one level', version: null, results: [] });
    });

    it('400 names the field', async () => {
      const res = await check({ policies: 'version: 1', approvals: [{ dag_id: 'd' }] });
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe('approvals.0.task_id');
      // An over-long file is refused by its schema, before the body limit would answer 413.
      expect((await check({ policies: 'a'.repeat(100_001) })).body.error).toMatchObject({ code: 'bad_request', field: 'policies' });
    });
  });
});
