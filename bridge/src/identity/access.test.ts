import { http, HttpResponse } from 'msw';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AirflowClient } from '../airflow/client.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { ACCESS_TTL_MS, AIRFLOW, airflowServer, api, tokenFor } from '../testing/fake-airflow.js';
import { buildBridge, request1 } from '../testing/harness.js';
import { DagAccess } from './dag-access.js';

const person = { user: 'alice', role: 'user' };
const key = { dag_id: 'dag_a', run_id: 'manual__1', task_id: 'approve_load', map_index: -1 };

describe("Airflow's answers about a person's token", () => {
  const access = () => new DagAccess((token) => new AirflowClient(AIRFLOW, { token }));

  it('lists every DAG Airflow lets the token read, page by page, stale ones included', async () => {
    const seen: Array<{ auth: string | null; params: Record<string, string> }> = [];
    airflowServer.use(
      http.get(api('/dags'), ({ request: req }) => {
        const params = Object.fromEntries(new URL(req.url).searchParams);
        seen.push({ auth: req.headers.get('authorization'), params });
        const offset = Number(params.offset);
        const ids = Array.from({ length: 150 }, (_, i) => `dag_${i}`).slice(offset, offset + Number(params.limit));
        return HttpResponse.json({ dags: ids.map((dag_id) => ({ dag_id })), total_entries: 150 });
      }),
    );
    const scope = await access().scope('tok-1', person);
    expect(scope.readable.size).toBe(150);
    expect(scope.mayRead('dag_149')).toBe(true);
    expect(scope.mayRead('dag_150')).toBe(false);
    expect(seen.map((s) => [s.auth, s.params.offset, s.params.exclude_stale])).toEqual([
      ['Bearer tok-1', '0', 'false'],
      ['Bearer tok-1', '100', 'false'],
    ]);
  });

  it("asks once per token while the answer is fresh, and again for another token", async () => {
    let calls = 0;
    airflowServer.use(
      http.get(api('/dags'), () => {
        calls++;
        return HttpResponse.json({ dags: [{ dag_id: 'dag_a' }], total_entries: 1 });
      }),
    );
    const shared = access();
    for (let i = 0; i < 5; i++) await shared.scope('tok-1', person);
    expect(calls).toBe(1);
    await shared.scope('tok-2', person);
    expect(calls).toBe(2);
  });

  it('refuses a token Airflow refuses (revoked at logout, expired) with 401, and answers 503 while Airflow is down', async () => {
    airflowServer.use(http.get(api('/dags'), () => HttpResponse.json({ detail: 'Invalid JWT token' }, { status: 403 })));
    await expect(access().scope('revoked', person)).rejects.toMatchObject({ kind: 'unauthenticated', code: 'unauthorized' });
    airflowServer.use(http.get(api('/dags'), () => HttpResponse.json({ detail: 'Token Expired' }, { status: 401 })));
    await expect(access().scope('expired', person)).rejects.toMatchObject({ kind: 'unauthenticated', code: 'unauthorized' });
    airflowServer.use(http.get(api('/dags'), () => HttpResponse.json({ detail: 'boom' }, { status: 500 })));
    await expect(access().scope('any', person)).rejects.toMatchObject({ kind: 'unavailable', code: 'unavailable' });
  });

  it("asks whether the person may change the task with the task's dry run, which changes nothing", async () => {
    const asked: string[] = [];
    airflowServer.use(
      http.get(api('/dags'), () => HttpResponse.json({ dags: [{ dag_id: 'dag_a' }], total_entries: 1 })),
      http.patch(api('/dags/dag_a/dagRuns/manual__1/taskInstances/:task/dry_run'), async ({ params, request: req }) => {
        asked.push(`${String(params.task)} ${JSON.stringify(await req.json())}`);
        if (params.task === 'approve_load') return HttpResponse.json({ task_instances: [], total_entries: 0 });
        if (params.task === 'locked') return HttpResponse.json({ detail: 'Forbidden' }, { status: 403 });
        return HttpResponse.json({ detail: 'Not found' }, { status: 404 });
      }),
    );
    const scope = await access().scope('tok-1', person);
    expect(await scope.mayDecide(key)).toBe(true);
    expect(await scope.mayDecide(key)).toBe(true);
    expect(await scope.mayDecide({ ...key, task_id: 'locked' })).toBe(false);
    expect(await scope.mayDecide({ ...key, task_id: 'gone' })).toBe(false);
    // A DAG the person may not read is not asked about at all.
    expect(await scope.mayDecide({ ...key, dag_id: 'dag_b' })).toBe(false);
    expect(asked).toEqual(['approve_load {}', 'locked {}', 'gone {}']);
  });

  it('asks Airflow at most four dry runs at a time, whatever the burst of votes', async () => {
    let inFlight = 0;
    let most = 0;
    let asked = 0;
    const release: Array<() => void> = [];
    const permissions = {
      readableDagIds: async () => ['dag_a'],
      mayChangeTask: () => {
        inFlight += 1;
        asked += 1;
        most = Math.max(most, inFlight);
        return new Promise<boolean>((resolve) =>
          release.push(() => {
            inFlight -= 1;
            resolve(true);
          }),
        );
      },
    };
    const scope = await new DagAccess(() => permissions).scope('token-a', person);
    const answers = Promise.all(Array.from({ length: 18 }, (_, i) => scope.mayDecide({ ...key, map_index: i })));
    // Airflow answers one dry run at a time; the next waiting one starts only then.
    while (asked < 18 || release.length > 0) {
      await new Promise((r) => setTimeout(r, 1));
      release.shift()?.();
    }
    expect(await answers).toEqual(Array.from({ length: 18 }, () => true));
    expect(most).toBe(4);
  });

  it('reads no DAG when Airflow refuses the person its DAG list', async () => {
    airflowServer.use(http.get(api('/dags'), () => HttpResponse.json({ detail: 'Forbidden' }, { status: 403 })));
    const scope = await access().scope('no-role', { user: 'nobody', role: null });
    expect(scope.readable.size).toBe(0);
  });

  it("only Airflow's role admin counts as admin", async () => {
    airflowServer.use(http.get(api('/dags'), () => HttpResponse.json({ dags: [], total_entries: 0 })));
    const shared = access();
    expect((await shared.scope('a', { user: 'root', role: 'admin' })).admin).toBe(true);
    expect((await shared.scope('b', { user: 'opal', role: 'op' })).admin).toBe(false);
    expect((await shared.scope('c', { user: 'x', role: null })).admin).toBe(false);
  });
});

describe.each(databases)("people's reach is Airflow's, on $name", (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;
  let a: string;
  let b: string;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    bridge = buildBridge(db);
    a = (await bridge.service.register(request1, 'test')).id;
    b = (await bridge.service.register({ ...request1, dag_id: 'dag_b' }, 'test')).id;
  });
  afterEach(() => drop());

  const get = (path: string, token: string) => request(bridge.app).get(path).set('Authorization', `Bearer ${token}`);
  const vote = (id: string, token: string) =>
    request(bridge.app).post(`/api/v1/approvals/${id}/votes`).set('Authorization', `Bearer ${token}`).send({ option: 'Approve' });
  /** What a refusal must not change: the approval, its votes and its audit entries other than refusals. */
  const unchanged = async (id: string) => {
    const approval = await bridge.store.get(id);
    const audit = (await bridge.trail.list({ approval_id: id, limit: 500 })).items.filter((e) => !e.action.endsWith('.refused'));
    return { state: approval?.state, votes: approval?.votes, audit: audit.length };
  };

  it("lists, shows and lets vote on approvals of readable DAGs only; another DAG's is not found", async () => {
    bridge.airflowPermissions.hide('alice', 'dag_b');
    const alice = await tokenFor('alice');
    const list = await get('/api/v1/approvals?state=all', alice);
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual([a]);
    expect((await get('/api/v1/approvals?state=pending&mine=true', alice)).body.items.map((x: { id: string }) => x.id)).toEqual([a]);
    expect((await get(`/api/v1/approvals/${b}`, alice)).status).toBe(404);

    const before = await unchanged(b);
    const refused = await vote(b, alice);
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('not_found');
    expect(await unchanged(b)).toEqual(before);
    // Bob may read both.
    expect((await get('/api/v1/approvals?state=all', await tokenFor('bob'))).body.items).toHaveLength(2);
  });

  it('counts only readable DAGs in the stats', async () => {
    bridge.airflowPermissions.hide('alice', 'dag_b');
    expect((await get('/api/v1/stats', await tokenFor('alice'))).body.pending).toBe(1);
    expect((await get('/api/v1/stats', await tokenFor('bob'))).body.pending).toBe(2);
  });

  it("refuses a vote Airflow would not let the person make (a viewer), audited, nothing else changed", async () => {
    const viewer = await tokenFor('alice', { role: 'viewer' });
    expect((await get(`/api/v1/approvals/${a}`, viewer)).status).toBe(200);
    const before = await unchanged(a);
    const res = await vote(a, viewer);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('airflow_forbidden');
    expect(await unchanged(a)).toEqual(before);
    const refusals = (await bridge.trail.list({ approval_id: a, limit: 500 })).items.filter((e) => e.action === 'vote.refused');
    expect(refusals).toMatchObject([{ actor: 'alice', details: { code: 'airflow_forbidden' } }]);
    // The same person as a user may.
    expect((await vote(a, await tokenFor('alice'))).status).toBe(200);
  });

  it('refuses a token Airflow revoked (logout) once its answer is no longer fresh, nothing changed', async () => {
    const alice = await tokenFor('alice');
    expect((await get('/api/v1/approvals', alice)).status).toBe(200);
    bridge.airflowPermissions.revoked.add(alice);
    bridge.accessClock.advance(ACCESS_TTL_MS + 1);
    const before = await unchanged(a);
    const res = await vote(a, alice);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toContain('signed out');
    expect(await unchanged(a)).toEqual(before);
    expect((await get('/api/v1/audit', alice)).status).toBe(401);
    // A new sign-in works.
    expect((await get('/api/v1/approvals', await tokenFor('alice', { expiresIn: '2h' }))).status).toBe(200);
  });

  it('asks Airflow once per token while its answer is fresh', async () => {
    const alice = await tokenFor('alice');
    const calls = bridge.airflowPermissions.calls;
    for (let i = 0; i < 5; i++) expect((await get('/api/v1/approvals', alice)).status).toBe(200);
    expect(bridge.airflowPermissions.calls - calls).toBe(1);
  });

  it('limits requests per person, not per address: one person at the limit leaves others theirs', async () => {
    const limited = buildBridge(db, undefined, undefined, null, 2);
    const alice = await tokenFor('alice');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(limited.app).get('/api/v1/approvals').set('Authorization', `Bearer ${alice}`)).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Same address (supertest's loopback), another person: not limited.
    expect((await request(limited.app).get('/api/v1/approvals').set('Authorization', `Bearer ${await tokenFor('bob')}`)).status).toBe(200);
    // alice with a second token is still alice.
    const again = await request(limited.app).get('/api/v1/approvals').set('Authorization', `Bearer ${await tokenFor('alice', { expiresIn: '2h' })}`);
    expect(again.status).toBe(429);
  });
});
