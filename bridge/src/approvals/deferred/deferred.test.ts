import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { databases } from '../../testing/databases.js';
import { tokenFor } from '../../testing/fake-airflow.js';
import { buildBridge, policiesWith, request1 } from '../../testing/harness.js';

const TWO_OF = policiesWith(`  - name: two
    levels:
      - { name: stewards, approvers: [group:stewards], rule: { n_of: 2 } }
`);

describe.each(databases)('votes that arrive while Airflow is down, on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;
  let id: string;
  let alice: string;
  let bob: string;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    bridge = buildBridge(db, TWO_OF);
    id = (await bridge.service.register(request1, 'test')).id;
    [alice, bob] = await Promise.all([tokenFor('alice'), tokenFor('bob')]);
  });
  afterEach(() => drop());

  const vote = (token: string, body: object, headers: Record<string, string> = {}) =>
    request(bridge.app).post(`/api/v1/approvals/${id}/votes`).set('Authorization', `Bearer ${token}`).set(headers).send(body);
  const actions = async () => (await db.selectFrom('audit_entry').select('action').orderBy('seq').execute()).map((e) => e.action);
  const votes = async () => (await bridge.service.get(id)).votes.map((v) => [v.user, v.option]);

  it('keeps the vote (202) without counting it, then counts it through the ordinary path once Airflow answers', async () => {
    await vote(alice, { option: 'Approve', reason: 'checked' }).expect(200);
    bridge.airflowPermissions.down = true;
    const res = await vote(bob, { option: 'Approve', reason: 'during the outage' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ approval_id: id, user: 'bob', option: 'Approve', state: 'awaiting_airflow', received_at: '2026-11-25T11:00:00.000Z' });
    expect((await bridge.service.get(id)).state).toBe('pending');
    expect(await votes()).toEqual([['alice', 'Approve']]);
    expect(await bridge.deferredVotes.count()).toBe(1);
    // Reads still need Airflow's answer.
    expect((await request(bridge.app).get(`/api/v1/approvals/${id}`).set('Authorization', `Bearer ${bob}`)).status).toBe(503);

    await bridge.deferredVotes.kick();
    expect(await bridge.deferredVotes.count()).toBe(1);
    expect(await votes()).toEqual([['alice', 'Approve']]);

    bridge.airflowPermissions.down = false;
    await bridge.deferredVotes.kick();
    const approval = await bridge.service.get(id);
    expect(approval.state).toBe('approved');
    expect(await votes()).toEqual([['alice', 'Approve'], ['bob', 'Approve']]);
    expect(await bridge.deferredVotes.count()).toBe(0);
    const recorded = await db.selectFrom('audit_entry').select('details').where('action', '=', 'vote.recorded').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(JSON.parse(recorded.details)).toMatchObject({ option: 'Approve', received_at: '2026-11-25T11:00:00.000Z' });
    expect(await actions()).toEqual(['approval.registered', 'vote.recorded', 'vote.deferred', 'vote.recorded', 'approval.decided']);

    // Settled once: another pass changes nothing.
    await bridge.deferredVotes.kick();
    expect(await votes()).toHaveLength(2);
    expect(await db.selectFrom('effect').select('kind').execute()).toHaveLength(2);
  });

  it('a retried deferred vote with the same Idempotency-Key is kept and counted once', async () => {
    bridge.airflowPermissions.down = true;
    for (let i = 0; i < 3; i++) expect((await vote(bob, { option: 'Approve' }, { 'Idempotency-Key': 'k-1' })).status).toBe(202);
    expect(await bridge.deferredVotes.count()).toBe(1);
    expect((await actions()).filter((a) => a === 'vote.deferred')).toHaveLength(1);
    bridge.airflowPermissions.down = false;
    await bridge.deferredVotes.kick();
    expect(await votes()).toEqual([['bob', 'Approve']]);
    // The same key once Airflow answers again is the vote already counted.
    expect((await vote(bob, { option: 'Approve' }, { 'Idempotency-Key': 'k-1' })).status).toBe(200);
    expect(await votes()).toEqual([['bob', 'Approve']]);
  });

  it('never counts a deferred vote that Airflow would not have allowed, and says why in the audit', async () => {
    bridge.airflowPermissions.down = true;
    expect((await vote(bob, { option: 'Approve' })).status).toBe(202);
    bridge.airflowPermissions.down = false;
    bridge.airflowPermissions.hide('bob', request1.dag_id);
    await bridge.deferredVotes.kick();
    expect(await votes()).toEqual([]);
    expect((await bridge.service.get(id)).state).toBe('pending');
    expect(await bridge.deferredVotes.count()).toBe(0);
    const dropped = await db.selectFrom('audit_entry').select(['actor', 'details']).where('action', '=', 'vote.deferred_dropped').executeTakeFirstOrThrow();
    expect(JSON.parse(dropped.details)).toMatchObject({ user: 'bob', option: 'Approve', code: 'not_found' });
  });

  it('drops a deferred vote whose token Airflow revoked meanwhile (signed out), counting nothing', async () => {
    bridge.airflowPermissions.down = true;
    expect((await vote(bob, { option: 'Approve' })).status).toBe(202);
    bridge.airflowPermissions.down = false;
    bridge.airflowPermissions.revoked.add(bob);
    await bridge.deferredVotes.kick();
    expect(await votes()).toEqual([]);
    const dropped = await db.selectFrom('audit_entry').select('details').where('action', '=', 'vote.deferred_dropped').executeTakeFirstOrThrow();
    expect(JSON.parse(dropped.details)).toMatchObject({ user: 'bob', code: 'token_invalid' });
  });

  it('refuses later what the policy refuses: a vote by someone the policy does not name is audited as refused', async () => {
    const mallory = await tokenFor('mallory');
    bridge.airflowPermissions.down = true;
    expect((await vote(mallory, { option: 'Approve' })).status).toBe(202);
    bridge.airflowPermissions.down = false;
    await bridge.deferredVotes.kick();
    expect(await votes()).toEqual([]);
    expect(await actions()).toEqual(['approval.registered', 'vote.deferred', 'vote.refused', 'vote.deferred_dropped']);
  });

  it("keeps the token only sealed, and a changed sealed token counts nothing", async () => {
    bridge.airflowPermissions.down = true;
    expect((await vote(bob, { option: 'Approve' })).status).toBe(202);
    const row = await db.selectFrom('deferred_vote').selectAll().executeTakeFirstOrThrow();
    expect(row.token_sealed).not.toContain(bob.split('.')[1]!);
    const [iv, tag, body] = row.token_sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    await db.updateTable('deferred_vote').set({ token_sealed: [iv, tag, flipped.toString('base64url')].join('.') }).execute();
    bridge.airflowPermissions.down = false;
    await bridge.deferredVotes.kick();
    expect(await votes()).toEqual([]);
    const dropped = await db.selectFrom('audit_entry').select('details').where('action', '=', 'vote.deferred_dropped').executeTakeFirstOrThrow();
    expect(JSON.parse(dropped.details)).toMatchObject({ code: 'unsealable' });
  });

  it('answers what it knows without Airflow: an unknown approval is 404, a decided one 409, and nothing is kept', async () => {
    await vote(alice, { option: 'Approve' }).expect(200);
    await vote(bob, { option: 'Approve' }).expect(200);
    bridge.airflowPermissions.down = true;
    const carol = await tokenFor('carol');
    expect((await vote(carol, { option: 'Approve' })).status).toBe(409);
    const unknown = await request(bridge.app).post('/api/v1/approvals/nope/votes').set('Authorization', `Bearer ${carol}`).send({ option: 'Approve' });
    expect(unknown.status).toBe(404);
    expect(await bridge.deferredVotes.count()).toBe(0);
  });
});
