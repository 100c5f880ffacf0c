import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { AirflowClient } from '../airflow/client.js';
import { AuditTrail } from '../audit/trail.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { AIRFLOW, AUDIT_KEY, airflowServer, api, eventLog, hitlDetail, memoryDb, silentLog } from '../testing/fake-airflow.js';
import { DEFAULT_HITL_SETTLE_MS, effect } from './apply.js';
import { EffectWorker } from './worker.js';

const key = { dag_id: 'dag_a', run_id: 'manual__1', task_id: 'approve_load', map_index: -1 };
const hitlUrl = api('/dags/dag_a/dagRuns/manual__1/taskInstances/approve_load/-1/hitlDetails');
const tiUrl = api('/dags/dag_a/dagRuns/manual__1/taskInstances/approve_load');

describe('effect worker', () => {
  let db: Db;
  let clock: Date;
  let worker: EffectWorker;
  let trail: AuditTrail;
  let waiting: ReturnType<typeof hitlDetail>;
  const tick = async (ms: number) => {
    clock = new Date(clock.getTime() + ms);
    await worker.kick();
  };

  beforeEach(async () => {
    db = await memoryDb();
    clock = new Date('2026-11-25T11:00:00Z');
    trail = new AuditTrail(db, AUDIT_KEY);
    worker = new EffectWorker(db, new AirflowClient(AIRFLOW, { username: 'airgate', password: 'pw' }), trail, silentLog, 1000, () => clock);
    waiting = { ...hitlDetail({ run_id: 'manual__1' }) };
    // Parked long ago unless a test says otherwise: the answer can go at once.
    airflowServer.use(http.get(hitlUrl, () => HttpResponse.json(waiting)), eventLog([{ at: '2026-11-25T10:00:00Z' }]));
    await db
      .insertInto('approval')
      .values({ id: 'a1', ...key, try_number: 1, subject: 's', body: null, options: '[]', params: '{}', state: 'approved', policy: null, policy_version: null, level: 1, created_at: clock.toISOString(), due_at: null, decided_at: null, outcome: null, requester: null, tags: '[]', request_values: '{}' })
      .execute();
  });

  const enqueue = async (e: { kind: string; payload: unknown }) =>
    db
      .insertInto('effect')
      .values({ approval_id: 'a1', kind: e.kind, payload: JSON.stringify(e.payload), state: 'pending', attempts: 0, next_attempt_at: clock.toISOString(), last_error: null, created_at: clock.toISOString(), done_at: null })
      .execute();
  const states = async () => (await db.selectFrom('effect').select(['state', 'attempts']).orderBy('id').execute());
  /** Records the answers and notes sent to Airflow. */
  const record = () => {
    const seen: Array<{ url: string; auth: string | null; body: unknown }> = [];
    const keep = async ({ request }: { request: Request }) => {
      seen.push({ url: request.url, auth: request.headers.get('authorization'), body: await request.json() });
      return HttpResponse.json({});
    };
    airflowServer.use(http.patch(hitlUrl, keep), http.patch(tiUrl, keep));
    return seen;
  };

  it('answers the HITL task and writes the note with the service token', async () => {
    const seen = record();
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: { n: 1 } }));
    await enqueue(effect('task_note', { key, note: 'Approve by alice' }));
    await worker.kick();
    expect(seen).toEqual([
      { url: hitlUrl, auth: 'Bearer service-token', body: { chosen_options: ['Approve'], params_input: { n: 1 } } },
      { url: `${tiUrl}?update_mask=note`, auth: 'Bearer service-token', body: { note: 'Approve by alice' } },
    ]);
    expect(await states()).toEqual([{ state: 'done', attempts: 1 }, { state: 'done', attempts: 1 }]);
  });

  it('answers a task that parked moments ago once it has been parked for the settle time, by Airflow\'s event log', async () => {
    airflowServer.use(eventLog([{ at: new Date(clock.getTime() - 3000).toISOString() }]));
    const seen = record();
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: {} }));
    await worker.kick();
    expect(seen).toEqual([]);
    // Due exactly when the settle time, counted from the park, is over.
    expect((await db.selectFrom('effect').select(['next_attempt_at', 'parked_at']).executeTakeFirstOrThrow())).toEqual({
      next_attempt_at: new Date(clock.getTime() - 3000 + DEFAULT_HITL_SETTLE_MS).toISOString(),
      parked_at: new Date(clock.getTime() - 3000).toISOString(),
    });
    await tick(DEFAULT_HITL_SETTLE_MS - 3000 - 1);
    expect(seen).toEqual([]);
    await tick(1);
    expect(seen).toHaveLength(1);
  });

  it('counts from when it saw the task waiting when the event log has no park of this try', async () => {
    airflowServer.use(eventLog([{ at: '2026-11-25T09:00:00Z', try_number: 0 }]));
    const seen = record();
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: {} }));
    await worker.kick();
    await tick(DEFAULT_HITL_SETTLE_MS - 1);
    expect(seen).toEqual([]);
    await tick(1);
    expect(seen).toHaveLength(1);
  });

  it('keeps an effect while Airflow is down and applies it, once, when Airflow is back', async () => {
    let up = false;
    let applied = 0;
    airflowServer.use(
      http.get(hitlUrl, () => (up ? HttpResponse.json(waiting) : HttpResponse.json({ detail: 'down' }, { status: 503 }))),
      http.patch(hitlUrl, () => {
        applied++;
        return HttpResponse.json({});
      }),
    );
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: {} }));
    await worker.kick();
    expect(await states()).toEqual([{ state: 'pending', attempts: 1 }]);
    await worker.kick();
    expect(await states()).toEqual([{ state: 'pending', attempts: 1 }]); // backing off, not retried yet
    up = true;
    await tick(60_000);
    await tick(10_000);
    await worker.kick();
    expect(applied).toBe(1);
    expect(await states()).toEqual([{ state: 'done', attempts: 2 }]);
    expect(await worker.depth()).toEqual({ pending: 0, failed: 0 });
    expect((await trail.list({ approval_id: 'a1', limit: 10 })).items.map((e) => e.action)).toEqual(['effect.retrying', 'effect.applied']);
  });

  it('an answer Airflow already holds counts as done; a different one fails for good', async () => {
    airflowServer.use(
      http.patch(hitlUrl, () => HttpResponse.json({ detail: 'already' }, { status: 409 })),
      http.get(hitlUrl, () => HttpResponse.json({ ...hitlDetail(), response_received: true, chosen_options: ['Approve'] })),
    );
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: {} }));
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Reject'], params_input: {} }));
    await worker.kick();
    expect(await states()).toEqual([{ state: 'done', attempts: 1 }, { state: 'failed', attempts: 1 }]);
    expect(await worker.depth()).toEqual({ pending: 0, failed: 1 });
    expect((await trail.list({ approval_id: 'a1', limit: 10 })).items.map((e) => e.action)).toEqual(['effect.applied', 'effect.failed']);
  });

  it('a 409 from a race whose stored answer matches counts as done', async () => {
    let answered = false;
    airflowServer.use(
      http.get(hitlUrl, () => HttpResponse.json(answered ? { ...waiting, response_received: true, chosen_options: ['Approve'] } : waiting)),
      http.patch(hitlUrl, () => {
        answered = true;
        return HttpResponse.json({ detail: 'already' }, { status: 409 });
      }),
    );
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: {} }));
    await worker.kick();
    await tick(9000);
    expect(await states()).toEqual([{ state: 'done', attempts: 1 }]);
  });

  it('waits while the task has not parked yet, and gives up on a task that already finished', async () => {
    const patched: unknown[] = [];
    airflowServer.use(
      http.patch(hitlUrl, async ({ request }) => {
        patched.push(await request.json());
        return HttpResponse.json({});
      }),
    );
    waiting = { ...waiting, task_instance: { ...waiting.task_instance, state: 'running' } };
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: {} }));
    await worker.kick();
    await tick(2000);
    expect(patched).toEqual([]);
    expect(await states()).toEqual([{ state: 'pending', attempts: 0 }]);
    waiting = { ...waiting, task_instance: { ...waiting.task_instance, state: 'awaiting_input' } };
    await tick(2000);
    await tick(8000);
    expect(patched).toHaveLength(1);

    waiting = { ...waiting, task_instance: { ...waiting.task_instance, state: 'success' } };
    await enqueue(effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: {} }));
    await tick(0);
    expect((await states())[1]).toEqual({ state: 'failed', attempts: 1 });
  });

  it('renews the service token once on 401', async () => {
    let tokens = 0;
    airflowServer.use(
      http.post(`${AIRFLOW}/auth/token`, () => HttpResponse.json({ access_token: `t${++tokens}` }, { status: 201 })),
      http.patch(tiUrl, ({ request }) =>
        request.headers.get('authorization') === 'Bearer t2' ? HttpResponse.json({}) : HttpResponse.json({}, { status: 401 }),
      ),
    );
    await enqueue(effect('task_note', { key, note: 'n' }));
    await worker.kick();
    expect(tokens).toBe(2);
    expect(await states()).toEqual([{ state: 'done', attempts: 1 }]);
  });
});

describe.each(databases)('two effect workers on one $name store', (database) => {
  it('apply each effect exactly once between them', async () => {
    const { db, drop } = await database.create();
    try {
      const at = '2026-11-25T11:00:00.000Z';
      await db
        .insertInto('approval')
        .values({ id: 'a1', ...key, try_number: 1, subject: 's', body: null, options: '[]', params: '{}', state: 'approved', policy: null, policy_version: null, level: 1, created_at: at, due_at: null, decided_at: null, outcome: null, requester: null, tags: '[]', request_values: '{}' })
        .execute();
      for (let i = 0; i < 30; i++) {
        await db
          .insertInto('effect')
          .values({ approval_id: 'a1', kind: 'task_note', payload: JSON.stringify(effect('task_note', { key, note: `n${i}` }).payload), state: 'pending', attempts: 0, next_attempt_at: at, last_error: null, created_at: at, done_at: null })
          .execute();
      }
      const applied = new Map<string, number>();
      airflowServer.use(
        http.patch(tiUrl, async ({ request }) => {
          const { note } = (await request.json()) as { note: string };
          applied.set(note, (applied.get(note) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 5));
          return HttpResponse.json({});
        }),
      );
      const clock = () => new Date('2026-11-25T11:00:01Z');
      const client = () => new AirflowClient(AIRFLOW, { username: 'airgate', password: 'pw' });
      const trail = new AuditTrail(db, AUDIT_KEY);
      const workers = [new EffectWorker(db, client(), trail, silentLog, 1000, clock), new EffectWorker(db, client(), trail, silentLog, 1000, clock)];
      await Promise.all([...workers.map((w) => w.kick()), ...workers.map((w) => w.kick())]);
      await Promise.all(workers.map((w) => w.kick()));
      expect(applied.size).toBe(30);
      expect([...applied.values()].every((n) => n === 1)).toBe(true);
      expect(await workers[0]!.depth()).toEqual({ pending: 0, failed: 0 });
    } finally {
      await drop();
    }
  });
});
