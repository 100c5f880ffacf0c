import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { airflowTokenVerifier } from '../identity/tokens.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { JWT_SECRET, silentLog, tokenFor } from '../testing/fake-airflow.js';
import { ApprovalService } from './service.js';
import { type ApprovalRequest, SqlApprovalStore } from './store.js';

const request1: ApprovalRequest = {
  dag_id: 'dag_a',
  run_id: 'manual__1',
  task_id: 'approve_load',
  map_index: -1,
  try_number: 1,
  subject: 'Load?',
  body: 'Report',
  options: ['Approve', 'Reject'],
  params: {},
  created_at: '2026-11-25T10:00:00.000Z',
  due_at: null,
};

describe.each(databases)('approvals API on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let store: SqlApprovalStore;
  let decided: number;
  let app: ReturnType<typeof createApp>;
  let id: string;
  let alice: string;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    store = new SqlApprovalStore(db);
    decided = 0;
    const service = new ApprovalService(store, () => decided++, () => new Date('2026-11-25T11:00:00Z'));
    app = createApp({
      log: silentLog,
      store,
      service,
      verifyToken: airflowTokenVerifier(JWT_SECRET, 'apache-airflow'),
      readiness: async () => ({ ok: true, details: {} }),
    });
    id = (await store.register(request1)).approval.id;
    alice = await tokenFor('alice');
  });
  afterEach(() => drop());

  const vote = (token: string | null, body: unknown, approvalId = id) => {
    const req = request(app).post(`/api/v1/approvals/${approvalId}/votes`);
    if (token) req.set('Authorization', `Bearer ${token}`);
    return req.send(body as object);
  };

  it('lists pending approvals for a signed-in person', async () => {
    const res = await request(app).get('/api/v1/approvals').set('Authorization', `Bearer ${alice}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ items: [{ id, state: 'pending', options: ['Approve', 'Reject'], votes: [] }], next_cursor: null });
  });

  it('a vote decides, records the voter from the token, and queues the answer and the note for Airflow', async () => {
    const res = await vote(alice, { option: 'Approve', reason: 'fine' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'approved',
      decided_at: '2026-11-25T11:00:00.000Z',
      outcome: { option: 'Approve', params_input: {} },
      votes: [{ user: 'alice', option: 'Approve', reason: 'fine', channel: 'api' }],
    });
    expect(decided).toBe(1);
    const effects = await db.selectFrom('effect').select(['kind', 'payload', 'state']).orderBy('id').execute();
    expect(effects.map((e) => e.kind)).toEqual(['answer_hitl', 'task_note']);
    expect(JSON.parse(effects[0]!.payload)).toMatchObject({ chosen_options: ['Approve'] });
    expect(JSON.parse(effects[1]!.payload).note).toContain('Approve by alice via api: fine');
  });

  it('holds the answer to a request younger than the settle time, so Airflow has finished parking the task', async () => {
    const fresh = await store.register({ ...request1, run_id: 'manual__fresh', created_at: '2026-11-25T10:59:58.000Z' });
    await vote(alice, { option: 'Approve' }, fresh.approval.id);
    const effects = await db.selectFrom('effect').select(['kind', 'next_attempt_at']).where('approval_id', '=', fresh.approval.id).execute();
    expect(Object.fromEntries(effects.map((e) => [e.kind, e.next_attempt_at]))).toEqual({
      answer_hitl: '2026-11-25T11:00:03.000Z',
      task_note: '2026-11-25T11:00:00.000Z',
    });
  });

  it('a reject option ends the approval rejected', async () => {
    expect((await vote(alice, { option: 'Reject' })).body.state).toBe('rejected');
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
    expect((await store.get(id))?.state).toBe('pending');
  });

  it('400 naming the field for a malformed body, 400 for broken JSON', async () => {
    const missing = await vote(alice, { reason: 'no option' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('option');
    const extra = await vote(alice, { option: 'Approve', user: 'mallory' });
    expect(extra.status).toBe(400);
    const broken = await request(app)
      .post(`/api/v1/approvals/${id}/votes`)
      .set('Authorization', `Bearer ${alice}`)
      .set('Content-Type', 'application/json')
      .send('{"option": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.field).toBe('body');
    expect(decided).toBe(0);
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
    const bob = await tokenFor('bob');
    const late = await vote(bob, { option: 'Reject' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('conflict');
    expect(await db.selectFrom('vote').selectAll().execute()).toHaveLength(1);
  });

  it('concurrent votes give exactly one outcome', async () => {
    const tokens = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((u) => tokenFor(u)));
    const results = await Promise.all(tokens.map((t) => vote(t, { option: 'Approve' })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(4);
    expect(await db.selectFrom('effect').selectAll().execute()).toHaveLength(2);
  });

  it('pages with a cursor and filters by state and DAG', async () => {
    for (let i = 2; i <= 5; i++) await store.register({ ...request1, run_id: `manual__${i}`, created_at: `2026-11-25T10:0${i}:00.000Z` });
    const auth = { Authorization: `Bearer ${alice}` };
    const page1 = await request(app).get('/api/v1/approvals?limit=2').set(auth);
    expect(page1.body.items.map((a: { run_id: string }) => a.run_id)).toEqual(['manual__1', 'manual__2']);
    const page2 = await request(app).get(`/api/v1/approvals?limit=2&cursor=${page1.body.next_cursor}`).set(auth);
    expect(page2.body.items.map((a: { run_id: string }) => a.run_id)).toEqual(['manual__3', 'manual__4']);
    expect((await request(app).get('/api/v1/approvals?dag_id=other').set(auth)).body.items).toEqual([]);
    const bad = await request(app).get('/api/v1/approvals?state=maybe').set(auth);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('state');
  });

  it('registering the same task try twice is idempotent', async () => {
    const again = await store.register(request1);
    expect(again).toMatchObject({ created: false, approval: { id } });
    const retry = await store.register({ ...request1, try_number: 2 });
    expect(retry.created).toBe(true);
  });

  it('serves its OpenAPI document and health', async () => {
    const doc = await request(app).get('/api/v1/openapi.json');
    expect(doc.body.paths['/api/v1/approvals/{id}/votes'].post).toBeDefined();
    expect((await request(app).get('/healthz')).body).toEqual({ ok: true });
    expect((await request(app).get('/nowhere')).status).toBe(404);
  });
});
