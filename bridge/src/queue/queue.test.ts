import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { buildBridge, policiesWith, request1 } from '../testing/harness.js';

// Moderators decide one each; "Remove" says no and needs a reason. The requester may decide nothing.
const POLICIES = policiesWith(`  - name: moderation
    reason: on_reject
    options:
      Keep: { outcome: approve }
      Remove: { outcome: reject }
    levels:
      - { name: moderators, approvers: [user:bob, user:carol, user:dave], rule: any }
`);
const START = Date.parse('2026-11-25T11:00:00Z');

describe.each(databases)('review queue on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;
  let clock: number;
  let ids: string[];
  const token: Record<string, string> = {};

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    for (const user of ['bob', 'carol', 'dave', 'requester']) token[user] = await tokenFor(user);
    clock = START;
    bridge = buildBridge(db, POLICIES, () => new Date(clock));
    ids = [];
    for (const n of [0, 1, 2, 3]) {
      const post = { ...request1, task_id: 'review_post', map_index: n, options: ['Keep', 'Remove'], created_at: `2026-11-25T10:00:0${n}.000Z` };
      ids.push((await bridge.service.register(post, 'test')).id);
    }
  });
  afterEach(() => drop());

  const as = (user: string) => ({
    claim: (id: string, body: object = {}) => request(bridge.app).put(`/api/v1/queue/${id}/claim`).set('Authorization', `Bearer ${token[user]}`).send(body),
    release: (id: string) => request(bridge.app).delete(`/api/v1/queue/${id}/claim`).set('Authorization', `Bearer ${token[user]}`),
    vote: (id: string, body: object) => request(bridge.app).post(`/api/v1/approvals/${id}/votes`).set('Authorization', `Bearer ${token[user]}`).send(body),
    bulk: (body: object, key?: string) => {
      const req = request(bridge.app).post('/api/v1/queue/decisions').set('Authorization', `Bearer ${token[user]}`);
      if (key) req.set('Idempotency-Key', key);
      return req.send(body);
    },
    get: (id: string) => request(bridge.app).get(`/api/v1/approvals/${id}`).set('Authorization', `Bearer ${token[user]}`),
  });
  const { bob, carol, dave, requester } = { bob: as('bob'), carol: as('carol'), dave: as('dave'), requester: as('requester') };
  const audit = async (id: string) =>
    (await db.selectFrom('audit_entry').select(['action', 'actor', 'reason', 'details']).where('approval_id', '=', id).orderBy('seq').execute()).map((e) => ({
      ...e,
      details: JSON.parse(e.details) as Record<string, unknown>,
    }));
  /** Everything a refused vote must leave as it was: the approval's row, its votes, effects and audit entries. */
  const stateOf = async (id: string) => ({
    approval: await db.selectFrom('approval').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    votes: await db.selectFrom('vote').selectAll().where('approval_id', '=', id).execute(),
    effects: await db.selectFrom('effect').selectAll().where('approval_id', '=', id).execute(),
    audit: await audit(id),
  });

  it('a claim holds the approval for its holder: another moderator’s vote is refused with 409 claimed and changes nothing', async () => {
    const claimed = await bob.claim(ids[0]!, { ttl_seconds: 120 });
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
    expect(claimed.body).toMatchObject({ state: 'pending', claim: { by: 'bob', until: '2026-11-25T11:02:00.000Z' } });
    expect((await carol.get(ids[0]!)).body.claim).toEqual({ by: 'bob', until: '2026-11-25T11:02:00.000Z' });

    const before = await stateOf(ids[0]!);
    const refused = await carol.vote(ids[0]!, { option: 'Keep' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'claimed', message: expect.stringContaining('bob is reviewing this approval') });
    expect(await carol.claim(ids[0]!)).toMatchObject({ status: 409, body: { error: { code: 'claimed' } } });
    expect(await carol.release(ids[0]!)).toMatchObject({ status: 409, body: { error: { code: 'claimed' } } });
    expect(await stateOf(ids[0]!)).toEqual(before);

    // The holder decides; their vote ends the claim.
    const decided = await bob.vote(ids[0]!, { option: 'Remove', reason: 'spam' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ state: 'rejected', claim: null });
    expect((await audit(ids[0]!)).map((e) => `${e.action}:${e.actor}`)).toEqual([
      'approval.registered:system',
      'approval.claimed:bob',
      'vote.recorded:bob',
      'approval.decided:system',
    ]);
  });

  it('claiming again renews the holder’s claim (audited once); a release frees the approval for the others', async () => {
    await bob.claim(ids[0]!, { ttl_seconds: 60 });
    clock += 30_000;
    expect((await bob.claim(ids[0]!, { ttl_seconds: 60 })).body.claim).toEqual({ by: 'bob', until: '2026-11-25T11:01:30.000Z' });

    const released = await bob.release(ids[0]!);
    expect(released.status).toBe(200);
    expect(released.body.claim).toBeNull();
    // Releasing what nobody holds changes nothing.
    expect((await bob.release(ids[0]!)).status).toBe(200);
    expect((await carol.vote(ids[0]!, { option: 'Keep' })).body).toMatchObject({ state: 'approved' });
    expect((await audit(ids[0]!)).map((e) => e.action)).toEqual(['approval.registered', 'approval.claimed', 'approval.released', 'vote.recorded', 'approval.decided']);
  });

  it('an expired claim frees the item: it is shown unclaimed, and anyone may claim or decide it', async () => {
    await bob.claim(ids[0]!, { ttl_seconds: 60 });
    clock += 59_000;
    expect((await carol.vote(ids[0]!, { option: 'Keep' })).body.error.code).toBe('claimed');
    clock += 1_000;
    expect((await carol.get(ids[0]!)).body.claim).toBeNull();
    expect((await carol.claim(ids[0]!)).body.claim).toEqual({ by: 'carol', until: '2026-11-25T11:06:00.000Z' });
    clock += 300_000;
    expect((await dave.vote(ids[0]!, { option: 'Keep' })).body).toMatchObject({ state: 'approved', claim: null });
  });

  it('only someone who may decide the approval claims it, and only while it is pending', async () => {
    const before = await stateOf(ids[0]!);
    expect(await requester.claim(ids[0]!)).toMatchObject({ status: 403, body: { error: { code: 'not_eligible' } } });
    bridge.airflowPermissions.hide('dave', 'dag_a');
    expect(await dave.claim(ids[0]!)).toMatchObject({ status: 404 });
    expect(await bob.claim('no-such-approval')).toMatchObject({ status: 404 });
    expect(await bob.claim(ids[0]!, { ttl_seconds: 0 })).toMatchObject({ status: 400, body: { error: { field: 'ttl_seconds' } } });
    expect(await bob.claim(ids[0]!, { ttl_seconds: 3600 })).toMatchObject({ status: 400 });
    expect(await stateOf(ids[0]!)).toEqual(before);

    await carol.vote(ids[0]!, { option: 'Keep' });
    expect(await bob.claim(ids[0]!)).toMatchObject({ status: 409, body: { error: { code: 'conflict', message: 'approval is already approved' } } });
  });

  it('decides many in bulk with one reason: each item is a vote of its own, audited on its own; a refused item stops none of the others', async () => {
    await carol.claim(ids[2]!);
    await bob.vote(ids[3]!, { option: 'Keep' });
    const refusedBefore = await stateOf(ids[2]!);

    const res = await bob.bulk({ approval_ids: [ids[0], ids[1], ids[2], ids[3], 'no-such-approval'], option: 'Remove', reason: 'spam wave' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ batch: expect.any(String), counted: 2, deferred: 0, refused: 3 });
    expect(res.body.items).toEqual([
      { approval_id: ids[0], status: 200, state: 'rejected', error: null },
      { approval_id: ids[1], status: 200, state: 'rejected', error: null },
      { approval_id: ids[2], status: 409, state: null, error: { code: 'claimed', message: expect.stringContaining('carol is reviewing') } },
      { approval_id: ids[3], status: 409, state: null, error: { code: 'conflict', message: 'approval is already approved' } },
      { approval_id: 'no-such-approval', status: 404, state: null, error: { code: 'not_found', message: 'approval no-such-approval not found' } },
    ]);
    for (const id of [ids[0]!, ids[1]!]) {
      const entries = await audit(id);
      expect(entries.find((e) => e.action === 'vote.recorded')).toMatchObject({ actor: 'bob', reason: 'spam wave', details: { option: 'Remove', batch: res.body.batch } });
      expect(entries.at(-1)).toMatchObject({ action: 'approval.decided', details: { state: 'rejected' } });
      expect(await db.selectFrom('effect').select('kind').where('approval_id', '=', id).execute()).toHaveLength(2);
    }
    expect(await stateOf(ids[2]!)).toEqual(refusedBefore);
  });

  it('refuses in bulk what a single vote refuses, audited as a single refusal is, and leaves those items unchanged', async () => {
    const before = await Promise.all(ids.slice(0, 2).map(stateOf));
    const noReason = await bob.bulk({ approval_ids: ids.slice(0, 2), option: 'Remove' });
    expect(noReason.body).toMatchObject({ counted: 0, refused: 2 });
    expect(noReason.body.items.map((i: { status: number; error: { code: string } }) => `${i.status}:${i.error.code}`)).toEqual(['422:reason_required', '422:reason_required']);
    const self = await requester.bulk({ approval_ids: ids.slice(0, 2), option: 'Keep' });
    expect(self.body.items.map((i: { status: number; error: { code: string } }) => `${i.status}:${i.error.code}`)).toEqual(['403:not_eligible', '403:not_eligible']);

    for (const [n, id] of ids.slice(0, 2).entries()) {
      const after = await stateOf(id);
      expect(after.approval).toEqual(before[n]!.approval);
      expect([after.votes, after.effects]).toEqual([[], []]);
      // As for a single vote: the refusals of policy rules are audited, each with the bulk decision it was part of.
      const refusals = after.audit.filter((e) => e.action === 'vote.refused');
      expect(refusals.map((e) => [e.actor, e.details.code, typeof e.details.batch])).toEqual([
        ['bob', 'reason_required', 'string'],
        ['requester', 'not_eligible', 'string'],
      ]);
    }
  });

  it('a bulk decision retried with the same Idempotency-Key counts no vote twice', async () => {
    const body = { approval_ids: ids.slice(0, 2), option: 'Keep' };
    const first = await bob.bulk(body, 'bulk-1');
    const again = await bob.bulk(body, 'bulk-1');
    expect(again.body.items).toEqual(first.body.items);
    expect(await db.selectFrom('vote').select('id').execute()).toHaveLength(2);
  });

  it('refuses a malformed bulk decision whole, before any vote', async () => {
    for (const body of [
      { approval_ids: [], option: 'Keep' },
      { approval_ids: [ids[0], ids[0]], option: 'Keep' },
      { approval_ids: Array.from({ length: 101 }, (_, n) => `a${n}`), option: 'Keep' },
      { approval_ids: [ids[0]] },
      { approval_ids: [ids[0]], option: 'Keep', user: 'carol' },
    ]) {
      expect((await bob.bulk(body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(await db.selectFrom('vote').select('id').execute()).toEqual([]);
  });

  it('lists the queue by policy: the approvals a person may decide under it', async () => {
    const list = (user: string, policy: string) =>
      request(bridge.app).get(`/api/v1/approvals?state=pending&mine=true&policy=${policy}`).set('Authorization', `Bearer ${token[user]}`);
    expect((await list('bob', 'moderation')).body.items.map((a: { id: string }) => a.id)).toEqual(ids);
    expect((await list('bob', 'other')).body.items).toEqual([]);
    expect((await list('requester', 'moderation')).body.items).toEqual([]);
  });
});
