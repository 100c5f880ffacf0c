import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AirflowClient } from '../airflow/client.js';
import { SqlApprovalStore } from '../approvals/store.js';
import { AuditTrail } from '../audit/trail.js';
import { type Db, createDb } from '../store/db.js';
import { EFFECTS_CHANNEL, PgListener } from '../store/wakeups.js';
import { postgres } from '../testing/databases.js';
import { AIRFLOW, AUDIT_KEY, airflowServer, api, eventLog, hitlDetail, silentLog } from '../testing/fake-airflow.js';
import { effect } from './apply.js';
import { EffectWorker } from './worker.js';

const key = { dag_id: 'dag_a', run_id: 'manual__1', task_id: 'approve_load', map_index: -1 };
const hitlUrl = api('/dags/dag_a/dagRuns/manual__1/taskInstances/approve_load/-1/hitlDetails');
const tiUrl = api('/dags/dag_a/dagRuns/manual__1/taskInstances/approve_load');
const HOUR = 3_600_000;

/** Resolves once `probe` holds; the test's own timeout bounds the wait. */
async function eventually(probe: () => Promise<boolean>) {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 20));
}

// Two bridges on one PostgreSQL: `one` decides (its store commits the effects), `two` runs the only effects worker.
describe('effects committed by one replica, applied by another', () => {
  let one: Db;
  let two: Db;
  let drop: () => Promise<void>;
  let url: string;
  let worker: EffectWorker | null;
  let listener: PgListener | null;
  const sent: string[] = [];

  beforeEach(async () => {
    const created = await postgres.create();
    ({ db: one, drop } = created);
    url = created.url!;
    two = createDb({ databaseUrl: url, sqliteFile: '' });
    worker = null;
    listener = null;
    sent.length = 0;
    const at = new Date().toISOString();
    await one
      .insertInto('approval')
      .values({ id: 'a1', ...key, try_number: 1, subject: 's', body: null, options: '["Approve","Reject"]', params: '{}', state: 'approved', policy: null, policy_version: null, level: 1, created_at: at, due_at: null, decided_at: at, outcome: null, requester: null, tags: '[]', request_values: '{}' })
      .execute();
    airflowServer.use(
      // Parked long ago: Airflow can take the answer at once.
      eventLog([{ at: '2026-01-01T00:00:00Z' }]),
      http.get(hitlUrl, () => HttpResponse.json(hitlDetail())),
      http.patch(hitlUrl, () => {
        sent.push('answer');
        return HttpResponse.json({});
      }),
      http.patch(tiUrl, () => {
        sent.push('note');
        return HttpResponse.json({});
      }),
    );
  });

  afterEach(async () => {
    await listener?.close();
    await worker?.stop();
    await two.destroy();
    await drop();
  });

  const startWorker = (intervalMs: number) => {
    worker = new EffectWorker(two, new AirflowClient(AIRFLOW, { username: 'airgate', password: 'pw' }), new AuditTrail(two, AUDIT_KEY), silentLog, intervalMs);
    worker.start();
    return worker;
  };
  /** What a decision on replica one commits: its effects, in the decision's transaction. */
  const decideOnOne = () =>
    new SqlApprovalStore(one, new AuditTrail(one, AUDIT_KEY)).withLockedApproval('a1', (locked) =>
      locked.addEffects([effect('answer_hitl', { key, chosen_options: ['Approve'], params_input: {} }), effect('task_note', { key, note: 'Approve by alice' })], new Date().toISOString()),
    );
  const doneOnTwo = async () => (await two.selectFrom('effect').select('state').where('state', '=', 'done').execute()).length === 2;

  it('wakes on the NOTIFY of the commit, with no interval to fall back on', { timeout: 30_000 }, async () => {
    const applying = startWorker(HOUR);
    // Its first pass (at start of listening) finds nothing; only the notification can wake it again within the hour.
    listener = new PgListener(url, [EFFECTS_CHANNEL], () => void applying.kick(), silentLog);
    await listener.start();
    await applying.kick();
    await decideOnOne();
    await eventually(doneOnTwo);
    expect(sent).toEqual(['answer', 'note']);
  });

  it('applies what it never heard of on its safety interval', { timeout: 30_000 }, async () => {
    // No listener: the notification is lost, as when a replica's listening connection is down.
    const applying = startWorker(200);
    await applying.kick();
    await decideOnOne();
    await eventually(doneOnTwo);
    expect(sent).toEqual(['answer', 'note']);
  });

  it('a rolled-back decision wakes nobody and leaves nothing to apply', { timeout: 30_000 }, async () => {
    let heard = 0;
    listener = new PgListener(url, [EFFECTS_CHANNEL], () => heard++, silentLog);
    await listener.start();
    await expect(
      new SqlApprovalStore(one, new AuditTrail(one, AUDIT_KEY)).withLockedApproval('a1', async (locked) => {
        await locked.addEffects([effect('task_note', { key, note: 'n' })], new Date().toISOString());
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await decideOnOne();
    await eventually(async () => heard > 0);
    expect(heard).toBe(1);
    expect(await one.selectFrom('effect').select('kind').execute()).toHaveLength(2);
  });
});
