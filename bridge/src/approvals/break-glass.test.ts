import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { buildBridge, policiesWith, request1 } from '../testing/harness.js';

// alice may break the glass; the stewards review; bob and carol decide normally, two of them.
const POLICIES = policiesWith(`  - name: no-glass
    match: { task_id: "no_glass" }
    levels:
      - { name: stewards, approvers: [group:stewards], rule: any }
  - name: two-stewards
    levels:
      - { name: stewards, approvers: [group:stewards], rule: { n_of: 2 } }
    break_glass:
      allowed: [user:alice, user:requester]
      reviewers: [group:stewards]
`);

describe.each(databases)('break-glass bypass on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;
  let id: string;
  const token: Record<string, string> = {};

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    for (const user of ['alice', 'bob', 'carol', 'requester']) token[user] = await tokenFor(user);
    bridge = buildBridge(db, POLICIES);
    id = (await bridge.service.register(request1, 'test')).id;
  });
  afterEach(() => drop());

  const bypass = (user: string, body: unknown, approvalId = id) =>
    request(bridge.app).post(`/api/v1/approvals/${approvalId}/bypass`).set('Authorization', `Bearer ${token[user]}`).send(body as object);
  const get = (approvalId: string, user = 'bob') => request(bridge.app).get(`/api/v1/approvals/${approvalId}`).set('Authorization', `Bearer ${token[user]}`);
  const vote = (user: string, approvalId: string, body: object) =>
    request(bridge.app).post(`/api/v1/approvals/${approvalId}/votes`).set('Authorization', `Bearer ${token[user]}`).send(body);
  const unchanged = async () => {
    const approval = (await get(id)).body;
    expect(approval).toMatchObject({ state: 'pending', bypass: null, break_glass: true, outcome: null });
    expect(await db.selectFrom('effect').selectAll().execute()).toEqual([]);
    expect(await db.selectFrom('approval').select('id').execute()).toHaveLength(1);
  };
  const auditActions = async () => (await db.selectFrom('audit_entry').select(['action', 'actor']).orderBy('seq').execute()).map((e) => `${e.action}:${e.actor}`);

  it('decides at once as bypassed, answers Airflow with the approving option, and opens a review the bypasser may not decide', async () => {
    const res = await bypass('alice', { reason: 'prod is down; the fix must ship now' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      state: 'bypassed',
      outcome: { option: 'Approve', params_input: {} },
      break_glass: false,
      bypass: { by: 'alice', reason: 'prod is down; the fix must ship now', at: '2026-11-25T11:00:00.000Z', review_id: expect.any(String) },
    });
    const effects = await db.selectFrom('effect').select(['kind', 'payload']).where('approval_id', '=', id).orderBy('id').execute();
    expect(effects.map((e) => e.kind)).toEqual(['answer_hitl', 'task_note']);
    expect(JSON.parse(effects[0]!.payload)).toMatchObject({ chosen_options: ['Approve'] });
    expect(JSON.parse(effects[1]!.payload).note).toContain('break-glass by alice: prod is down; the fix must ship now');

    const reviewId = res.body.bypass.review_id as string;
    const review = (await get(reviewId)).body;
    expect(review).toMatchObject({
      state: 'pending',
      task_id: 'approve_load@review',
      options: ['Confirm', 'Dispute'],
      requester: 'alice',
      external: true,
      policy: 'two-stewards (break-glass review)',
      review_of: { approval_id: id, policy: 'two-stewards', by: 'alice', reason: 'prod is down; the fix must ship now' },
      progress: { needed: 1 },
    });
    expect(bridge.events.map((e) => `${e.kind}:${e.approval.id === id ? 'bypassed' : e.approval.id === reviewId ? 'review' : '?'}`)).toEqual([
      'registered:bypassed',
      'decided:bypassed',
      'registered:review',
    ]);

    // The bypasser is the review's requester: the review's own self-approval rule keeps them out.
    expect((await vote('alice', reviewId, { option: 'Confirm' })).body.error.code).toBe('self_approval');
    expect((await vote('bob', reviewId, { option: 'Dispute' })).body.error.code).toBe('reason_required');
    const reviewed = await vote('bob', reviewId, { option: 'Confirm', reason: 'the outage log agrees' });
    expect(reviewed.body).toMatchObject({ state: 'approved', outcome: { option: 'Confirm' } });
    // A review answers nothing in Airflow.
    expect(await db.selectFrom('effect').select('kind').where('approval_id', '=', reviewId).execute()).toEqual([]);
    expect(await auditActions()).toEqual(
      expect.arrayContaining(['approval.registered:system', 'approval.bypassed:alice', 'vote.refused:alice', 'vote.recorded:bob', 'approval.decided:system']),
    );
    const bypassed = (await db.selectFrom('audit_entry').selectAll().where('action', '=', 'approval.bypassed').executeTakeFirstOrThrow());
    expect([bypassed.reason, JSON.parse(bypassed.details)]).toEqual(['prod is down; the fix must ship now', expect.objectContaining({ break_glass: true, option: 'Approve', review_id: reviewId })]);
  });

  it('the signal names the bypasser as decider, on the break_glass channel', async () => {
    await bypass('alice', { reason: 'outage' });
    const { signalOf } = await import('./signals.js');
    expect(signalOf(await bridge.service.get(id))).toMatchObject({
      state: 'bypassed',
      option: 'Approve',
      deciders: [{ user: 'alice', option: 'Approve', reason: 'outage', channel: 'break_glass' }],
    });
  });

  it('refuses, audits and changes nothing: someone the policy does not allow, the requester, no reason, a rejecting option', async () => {
    const bob = await bypass('bob', { reason: 'I am in a hurry' });
    expect([bob.status, bob.body.error.code]).toEqual([403, 'break_glass_not_allowed']);
    await unchanged();
    const own = await bypass('requester', { reason: 'my own run' });
    expect([own.status, own.body.error.code]).toEqual([403, 'self_approval']);
    await unchanged();
    for (const [body, field] of [[{}, 'reason'], [{ reason: '   ' }, 'reason'], [{ reason: 'x', approved: true }, 'approved']] as const) {
      const bad = await bypass('alice', body);
      expect([bad.status, bad.body.error.field]).toEqual([400, field]);
    }
    await unchanged();
    const rejecting = await bypass('alice', { reason: 'x', option: 'Reject' });
    expect([rejecting.status, rejecting.body.error.field]).toEqual([422, 'option']);
    await unchanged();
    expect((await auditActions()).filter((a) => a.startsWith('bypass.refused'))).toEqual(['bypass.refused:bob', 'bypass.refused:requester', 'bypass.refused:alice']);
  });

  it('409 once decided, and a review itself cannot be bypassed; 403 under a policy without break_glass', async () => {
    const first = await bypass('alice', { reason: 'outage' });
    expect((await bypass('alice', { reason: 'again' })).status).toBe(409);
    const review = await bypass('alice', { reason: 'skip the review' }, first.body.bypass.review_id);
    expect([review.status, review.body.error.message]).toEqual([409, expect.stringContaining('review')]);
    const other = await bridge.service.register({ ...request1, task_id: 'no_glass' }, 'test');
    expect((await get(other.id)).body.break_glass).toBe(false);
    const none = await bypass('alice', { reason: 'outage' }, other.id);
    expect([none.status, none.body.error.code]).toEqual([403, 'break_glass_not_allowed']);
    expect((await get(other.id)).body.state).toBe('pending');
  });
});
