import { Counter, Registry } from 'prom-client';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { silentLog, tokenFor } from '../testing/fake-airflow.js';
import { buildBridge, request1 } from '../testing/harness.js';
import { SqlRetentionStore } from './store.js';
import { RetentionWorker } from './worker.js';

const DAY = 86_400_000;
const NOW = new Date('2026-12-01T12:00:00Z');

describe.each(databases)('retention of decided approvals on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ db, drop } = await database.create());
  });
  afterEach(() => drop());

  /** An approval of task `task_id` registered and decided by alice `daysAgo` days before NOW. */
  async function decided(task_id: string, daysAgo: number, effects: 'applied' | 'pending' = 'applied') {
    const bridge = buildBridge(db, undefined, () => new Date(NOW.getTime() - daysAgo * DAY));
    const { id } = await bridge.service.register({ ...request1, task_id }, 'test');
    const res = await request(bridge.app).post(`/api/v1/approvals/${id}/votes`).set('Authorization', `Bearer ${await tokenFor('alice')}`).send({ option: 'Approve' });
    expect(res.body.state).toBe('approved');
    if (effects === 'applied') await db.updateTable('effect').set({ state: 'done' }).where('approval_id', '=', id).execute();
    return { id, trail: bridge.trail };
  }
  const rows = async (table: 'vote' | 'effect' | 'notification', id: string) =>
    (await db.selectFrom(table).select('approval_id').where('approval_id', '=', id).execute()).length;

  it('removes the working state of approvals decided before the cutoff, keeps their audit entries, and records the purge', async () => {
    const old = await decided('old', 40);
    const unapplied = await decided('unapplied', 40, 'pending');
    const recent = await decided('recent', 5);
    const pending = (await buildBridge(db).service.register({ ...request1, task_id: 'pending' }, 'test')).id;
    const auditOfOld = (await old.trail.list({ approval_id: old.id, limit: 500 })).items;
    expect(await rows('vote', old.id)).toBe(1);

    const purged = new Counter({ name: 'purged', help: 'test', registers: [new Registry()] });
    const worker = new RetentionWorker(new SqlRetentionStore(db, old.trail), { keepMs: 30 * DAY, intervalMs: 60_000 }, purged, silentLog, () => NOW);
    await worker.kick();

    const left = (await db.selectFrom('approval').select('id').execute()).map((a) => a.id).sort();
    expect(left).toEqual([unapplied.id, recent.id, pending].sort());
    for (const table of ['vote', 'effect', 'notification'] as const) expect(await rows(table, old.id)).toBe(0);
    expect((await purged.get()).values[0]?.value).toBe(1);
    // The decision stays on record and the chain still verifies.
    expect((await old.trail.list({ approval_id: old.id, limit: 500 })).items).toEqual(auditOfOld);
    expect(await old.trail.verify()).toMatchObject({ ok: true });
    const record = (await old.trail.list({ action: 'retention.purged', limit: 10 })).items;
    expect(record).toMatchObject([{ actor: 'system', details: { count: 1, approval_ids: [old.id], decided_before: '2026-11-01T12:00:00.000Z' } }]);

    // A second pass (another replica's, say) finds nothing and records nothing.
    await worker.kick();
    expect((await old.trail.list({ action: 'retention.purged', limit: 10 })).items).toHaveLength(1);
  });

  it('keeps a bypassed approval while its review is open', async () => {
    const bypassed = await decided('bypassed', 40);
    await db.updateTable('approval').set({ state: 'bypassed' }).where('id', '=', bypassed.id).execute();
    const review = (await buildBridge(db).service.register({ ...request1, task_id: 'bypassed@review' }, 'test')).id;
    await db.updateTable('approval').set({ review_of: bypassed.id }).where('id', '=', review).execute();
    const store = new SqlRetentionStore(db, bypassed.trail);

    expect(await store.purgeDecidedBefore(new Date(NOW.getTime() - 30 * DAY).toISOString(), 100)).toEqual([]);
    const longAgo = new Date(NOW.getTime() - 35 * DAY).toISOString();
    await db.updateTable('approval').set({ state: 'approved', decided_at: longAgo }).where('id', '=', review).execute();
    expect((await store.purgeDecidedBefore(new Date(NOW.getTime() - 30 * DAY).toISOString(), 100)).sort()).toEqual([bypassed.id, review].sort());
  });
});
