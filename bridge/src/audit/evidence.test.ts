import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { SERVICE_TOKEN, buildBridge, request1 } from '../testing/harness.js';

describe.each(databases)("a task's audit evidence for the service token on $name", (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ db, drop } = await database.create());
  });
  afterEach(() => drop());

  const path = (taskId = request1.task_id) =>
    `/api/v1/signals/audit?dag_id=${request1.dag_id}&run_id=${encodeURIComponent(request1.run_id)}&task_id=${taskId}`;

  it("exports the approval's entries with the chain verified; only for the service token", async () => {
    const bridge = buildBridge(db);
    const { id } = await bridge.service.register(request1, 'test');
    const alice = await tokenFor('alice');
    const voted = await request(bridge.app).post(`/api/v1/approvals/${id}/votes`).set('Authorization', `Bearer ${alice}`).send({ option: 'Approve' });
    expect(voted.body.state).toBe('approved');
    const other = await bridge.service.register({ ...request1, task_id: 'other_task' }, 'test');

    const res = await request(bridge.app).get(path()).set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ exported_by: 'service', filters: { approval_id: id }, verification: { ok: true, first_bad_seq: null } });
    const actions = (res.body.entries as { action: string; approval_id: string; actor: string; chain_verified: boolean }[]).map((e) => [e.action, e.actor]);
    expect(actions).toEqual(expect.arrayContaining([['approval.registered', expect.any(String)], ['vote.recorded', 'alice']]));
    expect(res.body.entries.every((e: { approval_id: string; chain_verified: boolean }) => e.approval_id === id && e.chain_verified)).toBe(true);
    expect(res.body.entries.some((e: { approval_id: string }) => e.approval_id === other.id)).toBe(false);

    expect((await request(bridge.app).get(path()).set('Authorization', `Bearer ${alice}`)).status).toBe(401);
    expect((await request(bridge.app).get(path('missing_task')).set('Authorization', `Bearer ${SERVICE_TOKEN}`)).status).toBe(404);
    const bad = await request(bridge.app).get('/api/v1/signals/audit?dag_id=x').set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect(bad.status).toBe(400);
  });
});
