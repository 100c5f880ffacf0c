import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { SERVICE_TOKEN, buildBridge, request1 } from '../testing/harness.js';
import { addEscalation } from './store.js';

describe.each(databases)('the escalation chain for the service token on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ db, drop } = await database.create());
  });
  afterEach(() => drop());

  const path = (taskId = request1.task_id) =>
    `/api/v1/signals/escalations?dag_id=${request1.dag_id}&run_id=${encodeURIComponent(request1.run_id)}&task_id=${taskId}`;

  it("lists who escalations added to a task's approval, oldest first; only for the service token", async () => {
    const bridge = buildBridge(db);
    const { id } = await bridge.service.register(request1, 'test');
    await db.transaction().execute(async (tx) => {
      await addEscalation(tx, { approval_id: id, level: 1, step: 0, approver: 'carol', reason: 'escalation step 1: undecided 8s after the request', at: '2026-11-25T10:00:08.000Z' });
      await addEscalation(tx, { approval_id: id, level: 1, step: 1, approver: 'role:admin', reason: 'escalation step 2: undecided 16s after the request', at: '2026-11-25T10:00:16.000Z' });
    });
    const res = await request(bridge.app).get(path()).set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      { level: 1, step: 0, approver: 'carol', reason: 'escalation step 1: undecided 8s after the request', at: '2026-11-25T10:00:08.000Z' },
      { level: 1, step: 1, approver: 'role:admin', reason: 'escalation step 2: undecided 16s after the request', at: '2026-11-25T10:00:16.000Z' },
    ]);
    expect((await request(bridge.app).get(path()).set('Authorization', `Bearer ${await tokenFor('alice')}`)).status).toBe(401);
    expect((await request(bridge.app).get(path('other_task')).set('Authorization', `Bearer ${SERVICE_TOKEN}`)).status).toBe(404);
    const bad = await request(bridge.app).get('/api/v1/signals/escalations?dag_id=x').set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect(bad.status).toBe(400);
  });
});
