import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../approvals/store.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { buildBridge, policiesWith, request1 } from '../testing/harness.js';

// The harness's clock: 2026-11-25T11:00:00Z.
const ENDS = '2026-12-01T00:00:00Z';

// alice, bob and carol decide; dave, erin and frank are approvers of nothing in their own right.
const STEWARDS = `  - name: other
    match: { dag_id: "other_*" }
    levels:
      - { name: anyone, approvers: [user:alice], rule: any }
  - name: stewards
    levels:
      - { name: stewards, approvers: [user:alice, user:bob, user:carol], rule: { n_of: 2 } }
`;

/** Delegation (issue #15 point 4): a deputy votes in the delegator's seat, never twice, never on their own request. */
describe.each(databases)('delegation on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;
  const tokens: Record<string, string> = {};

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'requester']) tokens[user] = await tokenFor(user);
    tokens.admin = await tokenFor('admin', { role: 'admin' });
  });
  afterEach(() => drop());

  const start = async (policies = STEWARDS, overrides: Partial<ApprovalRequest> = {}) => {
    bridge = buildBridge(db, policiesWith(policies));
    return (await bridge.service.register({ ...request1, ...overrides }, 'test')).id;
  };
  const as = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });
  const delegate = (user: string, body: object) => request(bridge.app).post('/api/v1/delegations').set(as(user)).send(body);
  const revoke = (user: string, id: string) => request(bridge.app).delete(`/api/v1/delegations/${encodeURIComponent(id)}`).set(as(user));
  const listOf = (user: string, query = '') => request(bridge.app).get(`/api/v1/delegations${query}`).set(as(user));
  const vote = (user: string, id: string, body: object) => request(bridge.app).post(`/api/v1/approvals/${id}/votes`).set(as(user)).send(body);
  const view = async (id: string) => (await request(bridge.app).get(`/api/v1/approvals/${id}`).set(as('alice'))).body;
  const audit = async () => (await bridge.trail.list({ limit: 500 })).items;
  /** What a refusal must leave as it was: the approval, its effects, and the trail but for refusals' own entries. */
  const snapshot = async (id: string) => {
    const approval = await bridge.store.get(id);
    return {
      state: approval?.state,
      level: approval?.level,
      votes: approval?.votes,
      outcome: approval?.outcome,
      audit: (await audit()).filter((e) => !e.action.endsWith('.refused')).length,
      effects: await db.selectFrom('effect').selectAll().execute(),
      delegations: await db.selectFrom('delegation').selectAll().execute(),
    };
  };
  const expectRefusedAndUnchanged = async (id: string, attempt: () => Promise<request.Response>, status: number, code: string) => {
    const before = await snapshot(id);
    const res = await attempt();
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(await snapshot(id)).toEqual(before);
    return res;
  };
  const aliceToDave = async (extra: object = {}) => {
    const res = await delegate('alice', { to: 'dave', ends_at: ENDS, reason: 'on leave', ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string };
  };

  describe('making, listing and revoking', () => {
    it('a person delegates their own vote: stored as given, listed for both, audited without an approval id', async () => {
      await start();
      const res = await delegate('alice', { to: 'dave', ends_at: '2026-12-01T01:00:00+01:00', policies: ['stewards'], reason: 'on leave' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        from: 'alice',
        to: 'dave',
        starts_at: '2026-11-25T11:00:00.000Z',
        ends_at: '2026-12-01T00:00:00.000Z',
        policies: ['stewards'],
        reason: 'on leave',
        source: 'api',
        state: 'active',
        revoked_at: null,
      });
      expect((await listOf('alice')).body).toMatchObject({ given: [{ id: res.body.id }], received: [], others: [] });
      expect((await listOf('dave')).body).toMatchObject({ given: [], received: [{ id: res.body.id }], others: [] });
      expect((await listOf('bob')).body).toEqual({ given: [], received: [], others: [] });
      const created = (await audit()).filter((e) => e.action === 'delegation.created');
      expect(created).toEqual([
        expect.objectContaining({ actor: 'alice', approval_id: null, reason: 'on leave', details: expect.objectContaining({ delegation_id: res.body.id, from: 'alice', to: 'dave' }) }),
      ]);
      expect((await bridge.trail.verify()).ok).toBe(true);
    });

    it.each([
      [{ to: 'alice', ends_at: ENDS, reason: 'r' }, 'to'],
      [{ to: 'dave', reason: 'r' }, 'ends_at'],
      [{ to: 'dave', ends_at: '2027-03-01T00:00:00Z', reason: 'r' }, 'ends_at'],
      [{ to: 'dave', ends_at: '2026-11-20T00:00:00Z', reason: 'r' }, 'ends_at'],
      [{ to: 'dave', starts_at: '2026-11-24T00:00:00Z', ends_at: ENDS, reason: 'r' }, 'starts_at'],
      [{ to: 'dave', ends_at: ENDS, policies: ['nope'], reason: 'r' }, 'policies.0'],
      [{ to: 'dave', ends_at: ENDS }, 'reason'],
      [{ to: 'dave', ends_at: ENDS, reason: 'r', from: 'bob' }, 'from'],
    ])('refuses %j with 400 naming %s, storing nothing', async (body, field) => {
      await start();
      const res = await delegate('alice', body);
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe(field);
      expect(await db.selectFrom('delegation').selectAll().execute()).toEqual([]);
      expect((await audit()).filter((e) => e.action.startsWith('delegation.'))).toEqual([]);
    });

    it('only the delegator revokes, once; admins alone list everyone', async () => {
      await start();
      const { id } = await aliceToDave();
      expect((await revoke('dave', id)).body.error.code).toBe('not_delegator');
      expect((await revoke('bob', id)).status).toBe(404);
      expect((await listOf('bob', '?all=true')).status).toBe(403);
      expect((await listOf('admin', '?all=true')).body).toMatchObject({ given: [], received: [], others: [{ id }] });
      const revoked = await revoke('alice', id);
      expect(revoked.body).toMatchObject({ state: 'revoked', revoked_by: 'alice' });
      expect((await revoke('alice', id)).body.error.code).toBe('delegation_revoked');
      expect((await audit()).filter((e) => e.action === 'delegation.revoked').map((e) => [e.actor, e.approval_id])).toEqual([['alice', null]]);
    });
  });

  describe('voting as deputy', () => {
    it('dave votes for alice: recorded as dave for alice, counted in alice’s seat, in the note and the audit', async () => {
      const id = await start();
      const { id: delegationId } = await aliceToDave();
      expect((await view(id)).delegations).toEqual([expect.objectContaining({ id: delegationId, from: 'alice', to: 'dave', state: 'active' })]);
      // dave's inbox holds what he may decide for alice.
      const mine = await request(bridge.app).get('/api/v1/approvals?mine=true').set(as('dave'));
      expect(mine.body.items.map((a: { id: string }) => a.id)).toEqual([id]);
      const first = await vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.votes).toEqual([expect.objectContaining({ user: 'dave', on_behalf_of: 'alice', option: 'Approve' })]);
      expect(first.body.progress).toMatchObject({ needed: 2, approvals: 1 });
      const decided = await vote('bob', id, { option: 'Approve', reason: 'fine' });
      expect(decided.body).toMatchObject({ state: 'approved', delegations: [] });
      expect(decided.body.votes[1]).toMatchObject({ user: 'bob', on_behalf_of: null });
      const payloads = (await db.selectFrom('effect').select('payload').execute()).map((e) => JSON.parse(e.payload) as { note?: string });
      const note = payloads.find((p) => p.note)?.note ?? '';
      expect(note).toContain('Approve by dave for alice via api');
      expect(note).toContain('Approve by bob via api: fine');
      const recorded = (await audit()).find((e) => e.action === 'vote.recorded' && e.actor === 'dave');
      expect(recorded?.details).toMatchObject({ on_behalf_of: 'alice', delegation_id: delegationId });
      // The signed receipt says so too.
      const receipt = await request(bridge.app).get(`/api/v1/approvals/${id}/receipt`).set(as('alice'));
      expect(receipt.body.payload.votes.map((v: { user: string; on_behalf_of: string | null }) => [v.user, v.on_behalf_of])).toEqual([
        ['dave', 'alice'],
        ['bob', null],
      ]);
    });

    it('without a delegation in force for the approval’s policy, a deputy vote is refused and nothing changes', async () => {
      const id = await start();
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'not_delegated');
      await aliceToDave({ policies: ['other'] });
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'not_delegated');
      const later = await aliceToDave({ starts_at: '2026-11-26T00:00:00Z' });
      expect(later).toMatchObject({ state: 'scheduled' });
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'not_delegated');
      const refused = (await audit()).filter((e) => e.action === 'vote.refused');
      expect(refused.at(-1)?.details).toMatchObject({ on_behalf_of: 'alice', code: 'not_delegated' });
    });

    it('after a revoke the deputy is refused again', async () => {
      const id = await start();
      const { id: delegationId } = await aliceToDave();
      await revoke('alice', delegationId);
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'not_delegated');
    });

    it('on_behalf_of oneself is malformed (400)', async () => {
      const id = await start();
      await expectRefusedAndUnchanged(id, () => vote('alice', id, { option: 'Approve', on_behalf_of: 'alice' }), 400, 'bad_request');
    });

    it('chains are not followed: alice → bob → carol does not let carol vote for alice', async () => {
      const id = await start();
      await delegate('alice', { to: 'bob', ends_at: ENDS, reason: 'away' });
      await delegate('bob', { to: 'carol', ends_at: ENDS, reason: 'away' });
      await expectRefusedAndUnchanged(id, () => vote('carol', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'not_delegated');
    });

    it('a delegator who is no approver of the level gives nobody a vote', async () => {
      const id = await start();
      await delegate('frank', { to: 'dave', ends_at: ENDS, reason: 'away' });
      expect((await view(id)).delegations).toEqual([]);
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'frank' }), 403, 'not_eligible');
    });
  });

  describe('nobody votes twice', () => {
    it('the delegator’s own vote while the delegation is in force: 409 vote_delegated', async () => {
      const id = await start();
      await aliceToDave();
      await expectRefusedAndUnchanged(id, () => vote('alice', id, { option: 'Approve' }), 409, 'vote_delegated');
    });

    it('a deputy eligible in their own right holds one seat: own vote then for alice, or the other way, is 409 one_seat', async () => {
      const id = await start();
      await delegate('alice', { to: 'bob', ends_at: ENDS, reason: 'away' });
      expect((await vote('bob', id, { option: 'Approve' })).status).toBe(200);
      await expectRefusedAndUnchanged(id, () => vote('bob', id, { option: 'Approve', on_behalf_of: 'alice' }), 409, 'one_seat');
      const other = await bridge.service.register({ ...request1, run_id: 'manual__2' }, 'test');
      expect((await vote('bob', other.id, { option: 'Approve', on_behalf_of: 'alice' })).status).toBe(200);
      await expectRefusedAndUnchanged(other.id, () => vote('bob', other.id, { option: 'Approve' }), 409, 'one_seat');
    });

    it('a seat holds one person’s vote: alice’s own vote fills it before she delegates, and dave’s fills it after she revokes', async () => {
      const id = await start();
      expect((await vote('alice', id, { option: 'Approve' })).status).toBe(200);
      const { id: first } = await aliceToDave();
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 409, 'seat_taken');

      const other = (await bridge.service.register({ ...request1, run_id: 'manual__2' }, 'test')).id;
      expect((await vote('dave', other, { option: 'Approve', on_behalf_of: 'alice' })).status).toBe(200);
      await revoke('alice', first);
      await expectRefusedAndUnchanged(other, () => vote('alice', other, { option: 'Approve' }), 409, 'seat_taken');
      // The deputy may change the vote he cast in that seat while the delegation holds, like anyone their own.
      await aliceToDave();
      const changed = await vote('dave', other, { option: 'Reject', reason: 'second thoughts', on_behalf_of: 'alice' });
      expect(changed.body).toMatchObject({ state: 'rejected' });
    });
  });

  describe('never one’s own request, and segregation of duties for both', () => {
    it('a deputy who requested the run is refused, even under a policy with self-approval', async () => {
      const id = await start(STEWARDS.replace('  - name: stewards\n', '  - name: stewards\n    self_approval: true\n'), { requester: 'dave' });
      await aliceToDave();
      expect((await view(id)).delegations).toEqual([]);
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'self_approval');
    });

    it('nobody votes for a delegator who requested the run, even under a policy with self-approval', async () => {
      const id = await start(STEWARDS.replace('  - name: stewards\n', '  - name: stewards\n    self_approval: true\n'), { requester: 'alice' });
      await aliceToDave();
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'self_approval');
    });

    it('segregation of duties bars an excluded deputy and an excluded delegator', async () => {
      const id = await start(STEWARDS.replace('  - name: stewards\n', '  - name: stewards\n    segregation: { excluded: [user:dave, user:carol] }\n'));
      await aliceToDave();
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'segregation_of_duties');
      await delegate('carol', { to: 'erin', ends_at: ENDS, reason: 'away' });
      await expectRefusedAndUnchanged(id, () => vote('erin', id, { option: 'Approve', on_behalf_of: 'carol' }), 403, 'segregation_of_duties');
    });

    it('across levels, a deputy’s vote counts as a decision by both the deputy and the delegator', async () => {
      const TWO = `  - name: two-levels
    segregation: { across_levels: true }
    levels:
      - { name: first, approvers: [user:alice, user:bob], rule: any }
      - { name: second, approvers: [user:alice, user:bob], rule: any }
`;
      const id = await start(TWO);
      await aliceToDave();
      expect((await vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' })).body).toMatchObject({ level: 2 });
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve' }), 403, 'not_eligible');
      await delegate('bob', { to: 'dave', ends_at: ENDS, reason: 'away' });
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'bob' }), 403, 'segregation_of_duties');
    });

    it('Airflow’s permissions still bind the deputy: one who may not change the DAG’s tasks is refused', async () => {
      const id = await start();
      await aliceToDave();
      // A viewer reads the DAG but may not change its tasks, which deciding needs.
      tokens.dave = await tokenFor('dave', { role: 'viewer' });
      await expectRefusedAndUnchanged(id, () => vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' }), 403, 'airflow_forbidden');
    });
  });

  describe('the policies file', () => {
    const FILE = `${STEWARDS}delegations:
  - { from: alice, to: dave, ends_at: "2026-12-01T00:00:00Z", policies: [stewards], reason: parental leave }
`;

    it('names delegations that work like the API’s, listed and not revocable through it', async () => {
      const id = await start(FILE);
      const listed = (await listOf('dave')).body.received;
      expect(listed).toEqual([expect.objectContaining({ id: 'policies-file:0', from: 'alice', to: 'dave', source: 'policies_file', state: 'active' })]);
      expect((await revoke('alice', 'policies-file:0')).body.error.code).toBe('defined_in_policies_file');
      const res = await vote('dave', id, { option: 'Approve', on_behalf_of: 'alice' });
      expect(res.body.votes).toEqual([expect.objectContaining({ user: 'dave', on_behalf_of: 'alice' })]);
    });

    it.each([
      ['  - { from: alice, to: alice, ends_at: "2026-12-01T00:00:00Z" }', 'delegations[0].to: a person cannot delegate to themselves'],
      ['  - { from: alice, to: dave, ends_at: "2026-12-01T00:00:00Z", policies: [nope] }', 'delegations[0].policies[0]: unknown policy "nope"'],
      ['  - { from: alice, to: dave, starts_at: "2026-12-02T00:00:00Z", ends_at: "2026-12-01T00:00:00Z" }', 'delegations[0].ends_at: must be after starts_at'],
      ['  - { from: alice, to: dave, ends_at: tomorrow }', 'delegations[0].ends_at: expected an ISO 8601 date-time'],
    ])('refuses a file with %s', (line, message) => {
      expect(() => buildBridge(db, policiesWith(`${STEWARDS}delegations:\n${line}\n`))).toThrow(message);
    });
  });
});
