import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { buildBridge, request1 } from '../testing/harness.js';
import { addEscalation } from '../escalations/store.js';
import { quantile } from './service.js';

describe('quantile', () => {
  it('takes the nearest rank', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
  });
});

describe.each(databases)('stats on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ db, drop } = await database.create());
  });
  afterEach(() => drop());

  it('counts pending, measures latency by day and SLA per DAG', async () => {
    const bridge = buildBridge(db, undefined, () => new Date('2026-11-25T12:00:00Z'));
    const decide = async (run: string, created: string, decided: string | null, due: string | null, dag = 'dag_a') => {
      const a = await bridge.service.register({ ...request1, dag_id: dag, run_id: run, created_at: created }, 'test');
      await db.updateTable('approval').set({ due_at: due, ...(decided ? { state: 'approved', decided_at: decided } : {}) }).where('id', '=', a.id).execute();
      return a.id;
    };
    await decide('r1', '2026-11-24T10:00:00.000Z', '2026-11-24T10:01:00.000Z', '2026-11-24T11:00:00.000Z');
    await decide('r2', '2026-11-25T10:00:00.000Z', '2026-11-25T10:10:00.000Z', '2026-11-25T10:05:00.000Z');
    await decide('r3', '2026-11-25T09:00:00.000Z', null, '2026-11-25T11:00:00.000Z', 'dag_b');
    const r4 = await decide('r4', '2026-11-25T11:30:00.000Z', null, '2026-11-25T13:00:00.000Z', 'dag_b');
    // r6: nobody decided, the deadline answered at due_at: a breach. It was warned and escalated first.
    const r6 = await decide('r6', '2026-11-25T08:00:00.000Z', '2026-11-25T09:00:00.000Z', '2026-11-25T09:00:00.000Z', 'dag_c');
    await db.updateTable('approval').set({ state: 'expired' }).where('id', '=', r6).execute();
    const timer = { kind: 'sla_warning', key: 'sla', due_at: '2026-11-25T08:50:00.000Z', attempts: 1, lease_owner: null, lease_until: null, last_error: null };
    await db.insertInto('timer').values([{ ...timer, approval_id: r6, state: 'fired', fired_at: '2026-11-25T08:50:00.000Z' }, { ...timer, approval_id: r4, state: 'pending', fired_at: null }]).execute();
    await db.transaction().execute((tx) => addEscalation(tx, { approval_id: r6, level: 1, step: 0, approver: 'carol', reason: 'escalation step 1', at: '2026-11-25T08:30:00.000Z' }));
    const marked = await bridge.service.register({ ...request1, run_id: 'r5', created_at: '2026-11-25T11:00:00.000Z' }, 'test');
    await bridge.service.closeFromAirflow(marked.id, { kind: 'state_changed', state: 'success', by: 'admin', at: null, event: 'patch_task_instance', note: null });
    const res = await request(bridge.app).get('/api/v1/stats?days=7').set('Authorization', `Bearer ${await tokenFor('alice')}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      pending: 2,
      latency: {
        median_s: 60,
        p90_s: 600,
        by_day: [
          { day: '2026-11-24', decided: 1, median_s: 60, p90_s: 60 },
          { day: '2026-11-25', decided: 1, median_s: 600, p90_s: 600 },
        ],
      },
      sla_by_dag: [
        { dag_id: 'dag_a', met: 1, breached: 1, warned: 0, escalated: 0, compliance: 0.5 },
        { dag_id: 'dag_b', met: 0, breached: 1, warned: 0, escalated: 0, compliance: 0 },
        { dag_id: 'dag_c', met: 0, breached: 1, warned: 1, escalated: 1, compliance: 0 },
      ],
      failed_effects: 0,
      bypassed: 1,
      recent_bypasses: [{ id: marked.id, dag_id: 'dag_a', run_id: 'r5', task_id: 'approve_load', decided_at: '2026-11-25T12:00:00.000Z' }],
      window_days: 7,
    });
    const metrics = await request(bridge.app).get('/metrics');
    expect(metrics.text).toMatch(/^airgate_approvals_bypassed 1$/m);
    expect(metrics.text).toMatch(/^airgate_approvals_pending 2$/m);
  });
});
