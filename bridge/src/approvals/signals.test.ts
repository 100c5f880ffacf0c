import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { http, HttpResponse } from 'msw';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AirflowActions, AirflowClient } from '../airflow/client.js';
import { AuditTrail } from '../audit/trail.js';
import { EffectWorker } from '../effects/worker.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { AIRFLOW, AUDIT_KEY, airflowKnows, airflowServer, api, memoryDb, silentLog, tokenFor } from '../testing/fake-airflow.js';
import { SERVICE_TOKEN, buildBridge } from '../testing/harness.js';
import { Reconciler } from './reconcile.js';

const registration = {
  dag_id: '120_02_01_external_signal',
  run_id: 'manual__2026-11-25T10:00:00+00:00',
  task_id: 'request_approval',
  try_number: 1,
  subject: 'Deploy?',
  options: ['Approve', 'Reject'],
  requester: 'requester',
  external: true,
  signals: [
    { kind: 'trigger_dag', dag_id: 'airgate_approval_signal' },
    { kind: 'file' },
    { kind: 'asset_event', uri: 'airgate://approvals/deploy' },
  ],
};
const statusPath = `/api/v1/signals/approvals?dag_id=${registration.dag_id}&run_id=${encodeURIComponent(registration.run_id)}&task_id=request_approval`;

describe.each(databases)('external approvals and their signals on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    bridge = buildBridge(db, undefined, undefined, '/var/lib/airgate/signals');
    airflowServer.use(...airflowKnows({ ...registration, requester: 'requester', hitl: null }));
  });
  afterEach(() => drop());

  const register = (body: unknown, app = bridge.app) =>
    request(app).post('/api/v1/approvals').set('Authorization', `Bearer ${SERVICE_TOKEN}`).send(body as object);
  const status = (token = SERVICE_TOKEN) => request(bridge.app).get(statusPath).set('Authorization', `Bearer ${token}`);

  it('a decision publishes the signals through the effect worker, answers no HITL task, and audits what it published', async () => {
    const created = await register(registration);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ external: true, state: 'pending' });
    const res = await request(bridge.app)
      .post(`/api/v1/approvals/${created.body.id}/votes`)
      .set('Authorization', `Bearer ${await tokenFor('alice')}`)
      .send({ option: 'Approve', reason: 'checked' });
    expect(res.status).toBe(200);

    const effects = await db.selectFrom('effect').select(['kind', 'payload']).orderBy('id').execute();
    expect(effects.map((e) => e.kind)).toEqual(['trigger_dag', 'signal_file', 'asset_event']);
    const signal = {
      approval_id: created.body.id,
      dag_id: registration.dag_id,
      run_id: registration.run_id,
      task_id: 'request_approval',
      state: 'approved',
      option: 'Approve',
      decided_at: '2026-11-25T11:00:00.000Z',
      deciders: [{ user: 'alice', option: 'Approve', reason: 'checked', channel: 'api' }],
    };
    expect(JSON.parse(effects[0]!.payload)).toMatchObject({
      dag_id: 'airgate_approval_signal',
      run_id: `airgate__${created.body.id}`,
      conf: { airgate_approval: signal },
    });
    // No logical date: approvals of runs that share one never collide, and each sensor matches its own run id.
    expect(JSON.parse(effects[0]!.payload)).not.toHaveProperty('logical_date');
    expect(JSON.parse(effects[1]!.payload)).toMatchObject({ signal });
    expect(JSON.parse(effects[2]!.payload)).toMatchObject({ uri: 'airgate://approvals/deploy', extra: { airgate_approval: signal } });
    const audit = (await bridge.trail.list({ approval_id: created.body.id, limit: 10 })).items;
    expect(audit.find((e) => e.action === 'approval.registered')?.details).toMatchObject({ external: true, signals: registration.signals });
    expect(audit.find((e) => e.action === 'approval.decided')?.details).toMatchObject({
      external: true,
      signals: ['trigger_dag', 'file', 'asset_event'],
    });
  });

  it('the status endpoint shows the latest try to the service token only, and the store has a read-only view', async () => {
    const first = await register(registration);
    expect((await status()).body).toMatchObject({ approval_id: first.body.id, state: 'pending', option: null, decided_at: null, deciders: [] });
    airflowServer.use(...airflowKnows({ ...registration, try_number: 2, requester: 'requester', hitl: null }));
    const retry = await register({ ...registration, try_number: 2 });
    await request(bridge.app)
      .post(`/api/v1/approvals/${retry.body.id}/votes`)
      .set('Authorization', `Bearer ${await tokenFor('bob')}`)
      .send({ option: 'Reject', reason: 'not today' });
    const res = await status();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ approval_id: retry.body.id, try_number: 2, state: 'rejected', option: 'Reject', params_input: {} });

    expect((await status(await tokenFor('alice'))).status).toBe(401);
    const unknown = await request(bridge.app)
      .get('/api/v1/signals/approvals?dag_id=x&run_id=y&task_id=z')
      .set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect(unknown.status).toBe(404);
    expect((await request(bridge.app).get('/api/v1/signals/approvals?dag_id=x').set('Authorization', `Bearer ${SERVICE_TOKEN}`)).status).toBe(400);

    const { rows } = await sql<{ state: string; try_number: number; votes: number | string }>`
      select state, try_number, votes from approval_status where dag_id = ${registration.dag_id} order by try_number`.execute(db);
    expect(rows.map((r) => [r.state, r.try_number, Number(r.votes)])).toEqual([
      ['pending', 1, 0],
      ['rejected', 2, 1],
    ]);
  });

  it('an external approval may be registered only by its running task try, with what Airflow records (403, nothing stored)', async () => {
    const auditBefore = (await bridge.trail.list({ limit: 500 })).items.length;
    const lied = await register({ ...registration, requester: 'mallory' });
    expect(lied.status).toBe(403);
    expect(lied.body.error).toMatchObject({ code: 'registration_unverified', field: 'requester' });
    airflowServer.use(...airflowKnows({ ...registration, requester: 'requester', hitl: null, state: 'success' }));
    expect((await register(registration)).body.error).toMatchObject({ code: 'registration_unverified', field: 'try_number' });
    expect((await bridge.store.list({ state: 'all', limit: 10 })).items).toEqual([]);
    expect((await bridge.trail.list({ limit: 500 })).items).toHaveLength(auditBefore);
  });

  it('refuses a file signal without a signals directory, or for ids that are not file names', async () => {
    const withoutDir = buildBridge(db).app;
    const refused = await register({ ...registration, signals: [{ kind: 'file' }] }, withoutDir);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('signals_unavailable');
    const traversal = await register({ ...registration, run_id: '..', signals: [{ kind: 'file' }] });
    expect(traversal.status).toBe(422);
    expect(traversal.body.error.code).toBe('invalid_path');
    const badKind = await register({ ...registration, signals: [{ kind: 'email' }] });
    expect(badKind.status).toBe(400);
  });

  it('a deadline publishes the expiry as a signal, and fails no task for an external approval', async () => {
    const created = await register(registration);
    expect(await bridge.service.applyDeadline(created.body.id, { kind: 'fail' }, '2026-11-25T12:00:00.000Z')).toBe(true);
    const effects = await db.selectFrom('effect').select(['kind', 'payload']).orderBy('id').execute();
    expect(effects.map((e) => e.kind)).toEqual(['trigger_dag', 'signal_file', 'asset_event']);
    expect(JSON.parse(effects[1]!.payload).signal).toMatchObject({ state: 'expired', option: null, decided_at: '2026-11-25T12:00:00.000Z' });
  });
});

describe('the reconcile loop and external approvals', () => {
  it('leaves an external approval pending although Airflow has no HITL request for it, while its sensor waits', async () => {
    const bridge = buildBridge(await memoryDb());
    const approval = await bridge.service.register({ ...registration, map_index: -1, body: null, params: {}, tags: [], values: {}, created_at: '2026-11-25T10:00:00.000Z', signals: [] }, 'push');
    const tis = [
      { task_id: 'request_approval', map_index: -1, try_number: 1, state: 'success' },
      { task_id: 'wait_for_approval', map_index: -1, try_number: 1, state: 'up_for_reschedule' },
    ];
    airflowServer.use(
      http.get(api('/dags/~/dagRuns/~/hitlDetails'), () => HttpResponse.json({ hitl_details: [], total_entries: 0 })),
      http.get(api(`/dags/${registration.dag_id}/dagRuns/:run/taskInstances`), () => HttpResponse.json({ task_instances: tis, total_entries: tis.length })),
      http.get(api(`/dags/${registration.dag_id}/tasks/request_approval`), () => HttpResponse.json({ task_id: 'request_approval', downstream_task_ids: ['wait_for_approval'] })),
    );
    await new Reconciler(new AirflowClient(AIRFLOW, { username: 'airgate', password: 'pw' }), bridge.store, bridge.service, 'airgate', silentLog).runOnce();
    expect((await bridge.store.get(approval.id))?.state).toBe('pending');
  });
});

describe('the effect worker publishing signals', () => {
  let db: Db;
  let dir: string;
  let worker: EffectWorker;
  let trail: AuditTrail;
  const at = '2026-11-25T11:00:00.000Z';
  const signal = { approval_id: 'a1', state: 'approved', option: 'Approve' };

  beforeEach(async () => {
    db = await memoryDb();
    dir = mkdtempSync(join(tmpdir(), 'airgate-signals-'));
    trail = new AuditTrail(db, AUDIT_KEY);
    const airflow = new AirflowActions(AIRFLOW, { username: 'airgate', password: 'pw' });
    worker = new EffectWorker(db, airflow, trail, silentLog, 1000, () => new Date(at), 0, dir);
    await db
      .insertInto('approval')
      .values({ id: 'a1', dag_id: 'd', run_id: 'r', task_id: 't', map_index: -1, try_number: 1, subject: 's', body: null, options: '[]', params: '{}', state: 'approved', policy: null, policy_version: null, level: 1, created_at: at, due_at: null, decided_at: at, outcome: null, requester: null, tags: '[]', request_values: '{}' })
      .execute();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const enqueue = (kind: string, payload: unknown) =>
    db
      .insertInto('effect')
      .values({ approval_id: 'a1', kind, payload: JSON.stringify(payload), state: 'pending', attempts: 0, next_attempt_at: at, last_error: null, created_at: at, done_at: null })
      .execute();
  const states = async () => (await db.selectFrom('effect').select(['kind', 'state', 'last_error']).orderBy('id').execute());
  const trigger = { dag_id: 'airgate_approval_signal', run_id: 'airgate__a1', conf: { airgate_approval: signal }, note: 'airgate: approved' };
  // As stored before signal runs lost their logical date.
  const pinned = { ...trigger, run_id: 'airgate__other', logical_date: '2026-11-25T10:00:00+00:00' };

  it("triggers the signal run by its run id, with no logical date; a lost reply's run counts as done, an older effect's clash at its pinned date does not", async () => {
    const posted: unknown[] = [];
    let exists = false;
    airflowServer.use(
      http.post(api('/dags/airgate_approval_signal/dagRuns'), async ({ request }) => {
        posted.push(await request.json());
        return exists ? HttpResponse.json({ detail: 'exists' }, { status: 409 }) : HttpResponse.json({ dag_run_id: 'airgate__a1' });
      }),
      http.get(api('/dags/airgate_approval_signal/dagRuns/:run'), ({ params }) =>
        params.run === 'airgate__a1' ? HttpResponse.json({ dag_run_id: 'airgate__a1' }) : HttpResponse.json({}, { status: 404 }),
      ),
    );
    await enqueue('trigger_dag', trigger);
    await worker.kick();
    expect(posted).toEqual([{ logical_date: null, conf: trigger.conf, note: trigger.note, dag_run_id: 'airgate__a1' }]);
    exists = true;
    await enqueue('trigger_dag', trigger);
    await enqueue('trigger_dag', pinned);
    await worker.kick();
    expect((await states()).map((s) => s.state)).toEqual(['done', 'done', 'failed']);
    expect((await states())[2]!.last_error).toContain('another run of airgate_approval_signal holds logical date 2026-11-25T10:00:00+00:00');
    expect(posted.at(-1)).toMatchObject({ logical_date: pinned.logical_date, dag_run_id: 'airgate__other' });
    expect((await trail.list({ approval_id: 'a1', limit: 10 })).items.map((e) => e.action)).toEqual(['effect.applied', 'effect.applied', 'effect.failed']);
  });

  it('writes the file signal whole, where the DAG looks for it, and never outside the signals directory', async () => {
    const fileSignal = { ...signal, dag_id: 'd', run_id: 'manual__1', task_id: 't' };
    await enqueue('signal_file', { signal: fileSignal });
    await enqueue('signal_file', { signal: { ...fileSignal, run_id: '..' } });
    await worker.kick();
    expect(JSON.parse(readFileSync(join(dir, 'd', 'manual__1', 't.json'), 'utf8'))).toEqual(fileSignal);
    expect(readdirSync(join(dir, 'd', 'manual__1'))).toEqual(['t.json']);
    expect(readdirSync(dir)).toEqual(['d']);
    expect((await states()).map((s) => s.state)).toEqual(['done', 'failed']);
  });

  it('publishes an asset event on the asset with exactly that uri, and fails for good on an unknown one', async () => {
    const events: unknown[] = [];
    airflowServer.use(
      http.get(api('/assets'), () =>
        HttpResponse.json({ assets: [{ id: 7, uri: 'airgate://approvals/deploy-eu' }, { id: 3, uri: 'airgate://approvals/deploy' }], total_entries: 2 }),
      ),
      http.post(api('/assets/events'), async ({ request }) => {
        events.push(await request.json());
        return HttpResponse.json({ id: 1 });
      }),
    );
    await enqueue('asset_event', { uri: 'airgate://approvals/deploy', extra: { airgate_approval: signal } });
    await enqueue('asset_event', { uri: 'airgate://approvals/nothing', extra: {} });
    await worker.kick();
    expect(events).toEqual([{ asset_id: 3, extra: { airgate_approval: signal } }]);
    expect((await states()).map((s) => s.state)).toEqual(['done', 'failed']);
  });

  it('retries a signal while Airflow is down', async () => {
    airflowServer.use(http.post(api('/dags/airgate_approval_signal/dagRuns'), () => HttpResponse.json({ detail: 'down' }, { status: 503 })));
    await enqueue('trigger_dag', trigger);
    await worker.kick();
    expect(await states()).toMatchObject([{ state: 'pending' }]);
  });
});
