import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { http, HttpResponse } from 'msw';
import { airflowKnows, airflowServer, api, tokenFor } from '../testing/fake-airflow.js';
import { SERVICE_TOKEN, buildBridge, policiesWith, request1 } from '../testing/harness.js';

describe.each(databases)('approvals API on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;
  let id: string;
  let alice: string;

  const setUp = async (policies?: string) => {
    bridge = buildBridge(db, policies);
    id = (await bridge.service.register(request1, 'test')).id;
  };
  beforeEach(async () => {
    ({ db, drop } = await database.create());
    alice = await tokenFor('alice');
    await setUp();
  });
  afterEach(() => drop());

  const vote = (token: string | null, body: unknown, approvalId = id) => {
    const req = request(bridge.app).post(`/api/v1/approvals/${approvalId}/votes`);
    if (token) req.set('Authorization', `Bearer ${token}`);
    return req.send(body as object);
  };
  const get = (path: string, token = alice) => request(bridge.app).get(path).set('Authorization', `Bearer ${token}`);

  it('lists pending approvals for a signed-in person, with the policy and its progress', async () => {
    const res = await get('/api/v1/approvals');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      items: [{ id, state: 'pending', options: ['Approve', 'Reject'], votes: [], policy: 'anyone-else', requester: 'requester', progress: { levels: 1, needed: 1, approvals: 0 } }],
      next_cursor: null,
    });
  });

  it('a vote decides, records the voter from the token, and queues the answer and the note for Airflow', async () => {
    const res = await vote(alice, { option: 'Approve', reason: 'fine' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'approved',
      decided_at: '2026-11-25T11:00:00.000Z',
      outcome: { option: 'Approve', params_input: {} },
      votes: [{ user: 'alice', role: 'user', option: 'Approve', reason: 'fine', channel: 'api', level: 1, replaced: false }],
    });
    expect(bridge.decided).toEqual(['approved']);
    const effects = await db.selectFrom('effect').select(['kind', 'payload']).orderBy('id').execute();
    expect(effects.map((e) => e.kind)).toEqual(['answer_hitl', 'task_note']);
    expect(JSON.parse(effects[0]!.payload)).toMatchObject({ chosen_options: ['Approve'] });
    expect(JSON.parse(effects[1]!.payload).note).toContain('Approve by alice via api: fine');
  });

  it('queues the answer with the decision, however young the request: the effects worker waits for Airflow', async () => {
    const fresh = await bridge.service.register({ ...request1, run_id: 'manual__fresh', created_at: '2026-11-25T10:59:58.000Z' }, 'test');
    await vote(alice, { option: 'Approve' }, fresh.id);
    const effects = await db.selectFrom('effect').select(['kind', 'next_attempt_at']).where('approval_id', '=', fresh.id).execute();
    expect(Object.fromEntries(effects.map((e) => [e.kind, e.next_attempt_at]))).toEqual({
      answer_hitl: '2026-11-25T11:00:00.000Z',
      task_note: '2026-11-25T11:00:00.000Z',
    });
  });

  it('401 without a token, with a forged one, an expired one, or another audience', async () => {
    for (const token of [
      null,
      await tokenFor('alice', { secret: 'another-secret-that-is-long-enough-for-hs512' }),
      await tokenFor('alice', { expiresIn: '-1m' }),
      await tokenFor('alice', { audience: 'someone-else' }),
    ]) {
      const res = await vote(token, { option: 'Approve' });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    expect((await bridge.store.get(id))?.state).toBe('pending');
  });

  it('400 naming the field for a malformed body, 400 for broken JSON', async () => {
    const missing = await vote(alice, { reason: 'no option' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('option');
    const extra = await vote(alice, { option: 'Approve', user: 'mallory' });
    expect([extra.status, extra.body.error.field]).toEqual([400, 'user']);
    const broken = await request(bridge.app)
      .post(`/api/v1/approvals/${id}/votes`)
      .set('Authorization', `Bearer ${alice}`)
      .set('Content-Type', 'application/json')
      .send('{"option": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.field).toBe('body');
    expect(bridge.decided).toEqual([]);
  });

  it('422 for an option the approval does not offer, 404 for an unknown approval', async () => {
    const unknownOption = await vote(alice, { option: 'Maybe' });
    expect(unknownOption.status).toBe(422);
    expect(unknownOption.body.error.field).toBe('option');
    expect((await vote(alice, { option: 'Approve' }, 'nope')).status).toBe(404);
  });

  it('409 once final; the same Idempotency-Key replays the first answer instead', async () => {
    const first = await vote(alice, { option: 'Approve' }).set('Idempotency-Key', 'k1');
    const replay = await vote(alice, { option: 'Approve' }).set('Idempotency-Key', 'k1');
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    const late = await vote(await tokenFor('bob'), { option: 'Reject', reason: 'late' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('conflict');
    expect(await db.selectFrom('vote').selectAll().execute()).toHaveLength(1);
  });

  it('two tries of one vote at once (same Idempotency-Key, one on each replica) count it once and both get its answer', async () => {
    const tries = await Promise.all([1, 2].map(() => vote(alice, { option: 'Approve' }).set('Idempotency-Key', 'k2')));
    expect(tries.map((r) => r.status)).toEqual([200, 200]);
    expect(tries[1]!.body).toEqual(tries[0]!.body);
    expect(await db.selectFrom('vote').selectAll().execute()).toHaveLength(1);
  });

  it('refuses self-approval (403) and audits the refusal', async () => {
    const res = await vote(await tokenFor('requester'), { option: 'Approve' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('self_approval');
    const trail = (await bridge.trail.list({ approval_id: id, limit: 50 })).items.map((e) => e.action);
    expect(trail).toEqual(['approval.registered', 'vote.refused']);
    expect((await bridge.store.get(id))?.state).toBe('pending');
  });

  it('a required reason is enforced: rejecting without one is 422 naming reason', async () => {
    const res = await vote(alice, { option: 'Reject' });
    expect(res.status).toBe(422);
    expect(res.body.error.field).toBe('reason');
    expect((await vote(alice, { option: 'Reject', reason: 'numbers off' })).body.state).toBe('rejected');
  });

  it('2 of 3: the first vote leaves it pending with 1/2, the second decides and the note names both', async () => {
    await setUp(policiesWith(`  - name: two-of-three
    levels:
      - { name: stewards, approvers: [user:alice, user:bob, user:carol], rule: { n_of: 2 } }
`));
    const first = await vote(alice, { option: 'Approve' });
    expect(first.body).toMatchObject({ state: 'pending', progress: { needed: 2, approvals: 1 } });
    const outsider = await vote(await tokenFor('mallory'), { option: 'Approve' });
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.code).toBe('not_eligible');
    const second = await vote(await tokenFor('bob'), { option: 'Approve', reason: 'ok' });
    expect(second.body.state).toBe('approved');
    const note = JSON.parse((await db.selectFrom('effect').select('payload').where('kind', '=', 'task_note').executeTakeFirstOrThrow()).payload).note;
    expect(note).toContain('Approve by alice');
    expect(note).toContain('Approve by bob via api: ok');
  });

  it('two levels: level 2 cannot vote before level 1 is done; then it opens and decides', async () => {
    await setUp(policiesWith(`  - name: two-levels
    levels:
      - { name: first, approvers: [group:level1], rule: any }
      - { name: second, approvers: [group:level2], rule: any }
`));
    const bob = await tokenFor('bob');
    const early = await vote(bob, { option: 'Approve' });
    expect(early.status).toBe(403);
    expect((await vote(alice, { option: 'Approve' })).body).toMatchObject({ state: 'pending', level: 2, progress: { level_name: 'second' } });
    expect((await vote(bob, { option: 'Approve' })).body).toMatchObject({ state: 'approved', level: 2 });
    const actions = (await bridge.trail.list({ approval_id: id, limit: 50 })).items.map((e) => e.action);
    expect(actions).toEqual(['approval.registered', 'vote.refused', 'vote.recorded', 'level.opened', 'vote.recorded', 'approval.decided']);
    // The approval was registered before this test's policies were set up, so only the changes are announced.
    expect(bridge.events.map((e) => e.kind)).toEqual(['level_opened', 'decided']);
  });

  it('a changed mind replaces the earlier vote at the same level, both kept and audited', async () => {
    await setUp(policiesWith(`  - name: two-of-three
    reason: never
    reject: quorum
    levels:
      - { name: all, approvers: [user:alice, user:bob, user:carol], rule: { n_of: 2 } }
`));
    await vote(alice, { option: 'Reject' });
    const changed = await vote(alice, { option: 'Approve' });
    expect(changed.body.state).toBe('pending');
    expect(changed.body.votes.map((v: { option: string; replaced: boolean }) => [v.option, v.replaced])).toEqual([
      ['Reject', true],
      ['Approve', false],
    ]);
    expect(changed.body.progress).toMatchObject({ approvals: 1, rejections: 0 });
    const actions = (await bridge.trail.list({ approval_id: id, limit: 50 })).items.map((e) => e.action);
    expect(actions).toContain('vote.replaced');
  });

  it('validates form input against the HITL params: 422 naming the field', async () => {
    const form = await bridge.service.register(
      { ...request1, run_id: 'manual__form', params: { batch: { value: 1, schema: { type: 'integer', minimum: 1 } } } },
      'test',
    );
    const bad = await vote(alice, { option: 'Approve', params_input: { batch: 0 } }, form.id);
    expect(bad.status).toBe(422);
    expect(bad.body.error.field).toBe('params_input.batch');
    const unknown = await vote(alice, { option: 'Approve', params_input: { nope: 1 } }, form.id);
    expect(unknown.body.error.field).toBe('params_input.nope');
    // Names Object.prototype has are no field of a form either (a plain `in` check found them).
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      const inherited = await request(bridge.app)
        .post(`/api/v1/approvals/${form.id}/votes`)
        .set('Authorization', `Bearer ${alice}`)
        .set('Content-Type', 'application/json')
        .send(`{"option":"Approve","params_input":{"batch":5,${JSON.stringify(name)}:1}}`);
      expect(inherited.status, name).toBe(422);
      expect(inherited.body.error.field, name).toBe(`params_input.${name}`);
    }
    expect((await bridge.service.get(form.id)).votes).toEqual([]);
    const good = await vote(alice, { option: 'Approve', params_input: { batch: 5 } }, form.id);
    expect(good.body.outcome).toEqual({ option: 'Approve', params_input: { batch: 5 } });
  });

  it('50 simultaneous votes on one 3-of-5 approval give exactly one outcome and an exact count', async () => {
    await setUp(policiesWith(`  - name: three-of-five
    levels:
      - { name: stewards, approvers: [group:stewards], rule: { n_of: 3 } }
`));
    const voters = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const tokens = await Promise.all(voters.map((u) => tokenFor(u)));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => vote(tokens[i % 5]!, { option: 'Approve' })));
    expect(results.every((r) => [200, 409].includes(r.status))).toBe(true);
    const final = await bridge.service.view(id);
    expect(final.state).toBe('approved');
    expect(bridge.decided).toEqual(['approved']);
    const live = final.votes.filter((v) => !v.replaced);
    expect(live).toHaveLength(3);
    expect(new Set(live.map((v) => v.user)).size).toBe(3);
    expect(await db.selectFrom('effect').where('kind', '=', 'answer_hitl').selectAll().execute()).toHaveLength(1);
    expect((await bridge.trail.verify()).ok).toBe(true);
  });

  it('a policy change applies to pending approvals at the next vote, and the audit records the version', async () => {
    await setUp(policiesWith(`  - name: stewards-only
    levels:
      - { name: s, approvers: [group:level1], rule: any }
`));
    const bob = await tokenFor('bob');
    expect((await vote(bob, { option: 'Approve' })).status).toBe(403);
    const changed = policiesWith(`  - name: stewards-only
    levels:
      - { name: s, approvers: [group:level1], rule: any }
`).replace('level1: [alice]', 'level1: [alice, bob]');
    bridge.setPolicies(changed);
    expect((await vote(bob, { option: 'Approve' })).body.state).toBe('approved');
    const decided = (await bridge.trail.list({ approval_id: id, limit: 50 })).items.find((e) => e.action === 'approval.decided');
    expect(decided?.details.policy_version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('mine lists only what the person may vote on now', async () => {
    await setUp(policiesWith(`  - name: alice-only
    levels:
      - { name: s, approvers: [user:alice], rule: any }
`));
    expect((await get('/api/v1/approvals?mine=true')).body.items.map((a: { id: string }) => a.id)).toEqual([id]);
    expect((await get('/api/v1/approvals?mine=true', await tokenFor('bob'))).body.items).toEqual([]);
  });

  it('pages with a cursor and filters by state and DAG', async () => {
    for (let i = 2; i <= 5; i++) await bridge.service.register({ ...request1, run_id: `manual__${i}`, created_at: `2026-11-25T10:0${i}:00.000Z` }, 'test');
    const page1 = await get('/api/v1/approvals?limit=2');
    expect(page1.body.items.map((a: { run_id: string }) => a.run_id)).toEqual(['manual__1', 'manual__2']);
    const page2 = await get(`/api/v1/approvals?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items.map((a: { run_id: string }) => a.run_id)).toEqual(['manual__3', 'manual__4']);
    expect((await get('/api/v1/approvals?dag_id=other')).body.items).toEqual([]);
    const bad = await get('/api/v1/approvals?state=maybe');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('state');
  });

  it('filters by task instance: run, task and map index', async () => {
    const register = async (changes: Partial<typeof request1>, minute: number) =>
      (await bridge.service.register({ ...request1, ...changes, created_at: `2026-11-25T10:0${minute}:00.000Z` }, 'test')).id;
    const retried = await register({ try_number: 2 }, 1);
    const mapped = await register({ map_index: 3 }, 2);
    const otherTask = await register({ task_id: 'approve_other' }, 3);
    const otherRun = await register({ run_id: 'manual__2' }, 4);
    const ids = async (query: string) => ((await get(`/api/v1/approvals?state=all&${query}`)).body.items as Array<{ id: string }>).map((a) => a.id);
    expect(await ids('run_id=manual__1&task_id=approve_load&map_index=-1')).toEqual([id, retried]);
    expect(await ids('run_id=manual__1&task_id=approve_load')).toEqual([id, retried, mapped]);
    expect(await ids('task_id=approve_other')).toEqual([otherTask]);
    expect(await ids('run_id=manual__2')).toEqual([otherRun]);
    // An empty value is no map index (coercion would have read it as 0, a real one).
    for (const value of ['first', '', '1.5']) {
      const bad = await get(`/api/v1/approvals?map_index=${value}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe('map_index');
    }
  });

  it('registration from the Airflow side needs the service token and is idempotent on the task try', async () => {
    const body = { dag_id: 'dag_b', run_id: 'r1', task_id: 't', try_number: 1, subject: 'S', options: ['Approve', 'Reject'], requester: 'bob', tags: ['x'], values: { amount: 5 } };
    airflowServer.use(...airflowKnows({ dag_id: 'dag_b', run_id: 'r1', task_id: 't', requester: 'bob', tags: ['x'], conf: { amount: 5 } }));
    expect((await request(bridge.app).post('/api/v1/approvals').send(body)).status).toBe(401);
    expect((await request(bridge.app).post('/api/v1/approvals').set('Authorization', `Bearer ${alice}`).send(body)).status).toBe(401);
    const auth = { Authorization: `Bearer ${SERVICE_TOKEN}` };
    const created = await request(bridge.app).post('/api/v1/approvals').set(auth).send(body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ dag_id: 'dag_b', map_index: -1, requester: 'bob', policy: 'anyone-else', state: 'pending' });
    const again = await request(bridge.app).post('/api/v1/approvals').set(auth).send(body);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    const bad = await request(bridge.app).post('/api/v1/approvals').set(auth).send({ ...body, options: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('options');
  });

  describe('registration is checked against Airflow: the service token is readable by every task', () => {
    const claim = { dag_id: 'dag_b', run_id: 'r1', task_id: 't', try_number: 1, subject: 'S', options: ['Approve', 'Reject'], requester: 'bob', tags: ['x'], values: { amount: 5 } };
    const register = (body: object) => request(bridge.app).post('/api/v1/approvals').set('Authorization', `Bearer ${SERVICE_TOKEN}`).send(body);
    const nothingStored = async (auditBefore: number) => {
      expect((await bridge.store.list({ state: 'all', limit: 10 })).items.filter((a) => a.dag_id === 'dag_b')).toEqual([]);
      expect((await bridge.trail.list({ limit: 500 })).items).toHaveLength(auditBefore);
    };

    it.each([
      ['requester', { requester: 'mallory' }],
      ['tags', { tags: ['lax'] }],
      ['values', { values: { amount: 1 } }],
    ])('403 naming %s when it is not what Airflow records, and nothing is stored', async (field, lie) => {
      airflowServer.use(...airflowKnows({ dag_id: 'dag_b', run_id: 'r1', task_id: 't', requester: 'bob', tags: ['x'], conf: { amount: 5 } }));
      const auditBefore = (await bridge.trail.list({ limit: 500 })).items.length;
      const res = await register({ ...claim, ...lie });
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'registration_unverified', field });
      await nothingStored(auditBefore);
    });

    it('a repeated registration with another requester is refused and leaves the stored approval as it was', async () => {
      airflowServer.use(...airflowKnows({ dag_id: 'dag_b', run_id: 'r1', task_id: 't', requester: 'bob', tags: ['x'], conf: { amount: 5 } }));
      const created = await register(claim);
      const before = await bridge.service.get(created.body.id);
      const res = await register({ ...claim, requester: 'mallory' });
      expect(res.status).toBe(403);
      expect(res.body.error.field).toBe('requester');
      expect(await bridge.service.get(created.body.id)).toEqual(before);
    });

    it('takes subject, options and form from the HITL request as Airflow holds it', async () => {
      airflowServer.use(...airflowKnows({ dag_id: 'dag_b', run_id: 'r1', task_id: 't', requester: 'bob', tags: ['x'], conf: { amount: 5 } }));
      const res = await register({ ...claim, subject: 'Something else', options: ['Approve'] });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ subject: 'Load r1?', options: ['Approve', 'Reject'], requester: 'bob' });
    });

    it('403 for a task Airflow does not know, one not assigned to the bridge, an answered one or another try; 503 when Airflow is down', async () => {
      const auditBefore = (await bridge.trail.list({ limit: 500 })).items.length;
      const known = { dag_id: 'dag_b', run_id: 'r1', task_id: 't', requester: 'bob', tags: ['x'], conf: { amount: 5 } };
      airflowServer.use(...airflowKnows({ ...known, hitl: null }));
      expect((await register(claim)).body.error).toMatchObject({ code: 'registration_unverified', field: 'task_id' });
      airflowServer.use(...airflowKnows({ ...known, hitl: { assigned_users: [{ id: 'alice', name: 'alice' }] } }));
      expect((await register(claim)).body.error).toMatchObject({ code: 'registration_unverified', field: 'task_id' });
      airflowServer.use(...airflowKnows({ ...known, hitl: { response_received: true } }));
      expect((await register(claim)).status).toBe(403);
      airflowServer.use(...airflowKnows({ ...known, try_number: 2 }));
      expect((await register(claim)).body.error).toMatchObject({ code: 'registration_unverified', field: 'try_number' });
      airflowServer.use(http.get(api('/dags/dag_b/dagRuns/r1/taskInstances/t/-1/hitlDetails'), () => HttpResponse.json({}, { status: 500 })));
      expect((await register(claim)).status).toBe(503);
      await nothingStored(auditBefore);
    });
  });

  it("limits a person's requests per minute with the contract's 429, but never Airflow's registrations", async () => {
    const limited = buildBridge(db, undefined, undefined, null, 3);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(limited.app).get('/api/v1/approvals').set('Authorization', `Bearer ${alice}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await request(limited.app).get('/api/v1/approvals').set('Authorization', `Bearer ${alice}`);
    expect(refused.body.error.code).toBe('rate_limited');
    const body = { dag_id: 'dag_b', run_id: 'r', task_id: 't', try_number: 1, subject: 'S', options: ['Approve'] };
    for (let i = 0; i < 5; i++) airflowServer.use(...airflowKnows({ dag_id: 'dag_b', run_id: `r${i}`, task_id: 't' }));
    for (let i = 0; i < 5; i++) {
      const res = await request(limited.app).post('/api/v1/approvals').set('Authorization', `Bearer ${SERVICE_TOKEN}`).send({ ...body, run_id: `r${i}` });
      expect(res.status).toBe(201);
    }
  });

  it('serves its OpenAPI document, a browsable page, metrics and health', async () => {
    const doc = await request(bridge.app).get('/api/v1/openapi.json');
    expect(doc.body.paths['/api/v1/approvals/{id}/votes'].post).toBeDefined();
    expect(doc.body.paths['/api/v1/audit/verify'].get).toBeDefined();
    // This bridge has no channels: the document it serves names none of their routes.
    expect(doc.body.paths['/hooks/{source}']).toBeUndefined();
    expect(doc.body.paths['/channels/slack/interactions']).toBeUndefined();
    const page = await request(bridge.app).get('/api/v1/docs/');
    expect(page.text).toContain('swagger-ui');
    expect((await request(bridge.app).get('/api/v1/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
    expect((await request(bridge.app).get('/metrics')).text).toContain('airgate_approvals_pending');
    expect((await request(bridge.app).get('/healthz')).body).toEqual({ ok: true });
    expect((await request(bridge.app).get('/nowhere')).status).toBe(404);
  });

  it('answers 405 with Allow for a documented path asked with another method, and OPTIONS with its methods', async () => {
    const wrong = await request(bridge.app).delete(`/api/v1/approvals/${id}/votes`).set('Authorization', `Bearer ${alice}`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(wrong.body.error.code).toBe('method_not_allowed');
    const options = await request(bridge.app).options('/api/v1/signals/approvals').set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('GET');
  });

  it('the audit trail is readable through the API and verifies', async () => {
    await vote(alice, { option: 'Approve' });
    const entries = await get(`/api/v1/audit?approval_id=${id}`);
    expect(entries.body.items.map((e: { action: string }) => e.action)).toEqual(['approval.registered', 'vote.recorded', 'approval.decided']);
    expect((await get('/api/v1/audit/verify')).body).toMatchObject({ ok: true, first_bad_seq: null });
  });
});
