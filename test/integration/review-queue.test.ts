/**
 * The review queue on the real Airflow and bridge, with 120_10_04_content_moderation: automated flagging fills the
 * queue with one mapped approval per flagged post; reviewers claim items, decide one at a time and in bulk with one
 * reason (an item one may not decide refused alone), the decisions are applied to the moderation store, and the
 * next run's flagging reads them back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, waitFor, waitForRunEnd } from '../support/clients.js';
import { type ApprovalView, type Person, signIn, tokens, triggerRun, vote, xcom } from '../support/scenarios.js';
import { expectRefusedAndUnchanged, snapshot } from '../support/unchanged.js';

beforeAll(signIn);

const DAG = '120_10_04_content_moderation';
const seg = encodeURIComponent;
// A community of its own: its flagging learns from this file's decisions only.
const CONF = { community: 'review-queue-integration' };

type Item = ApprovalView & { map_index: number; claim: { by: string; until: string } | null };

const claim = (user: Person, id: string, body: object = {}) =>
  bridge(`/api/v1/queue/${seg(id)}/claim`, { method: 'PUT', token: tokens[user], body: JSON.stringify(body) });
const release = (user: Person, id: string) => bridge(`/api/v1/queue/${seg(id)}/claim`, { method: 'DELETE', token: tokens[user] });
const decideMany = (user: Person, ids: string[], decision: { option: string; reason?: string }) =>
  bridge('/api/v1/queue/decisions', { method: 'POST', token: tokens[user], body: JSON.stringify({ approval_ids: ids, ...decision }) });

/** The run's flagged posts once all `count` wait in the queue: each review task's items in map index order. */
async function flaggedPosts(runId: string, count: number) {
  const items = await waitFor(`${count} flagged posts of ${runId} in the queue`, async () => {
    const res = await bridge(`/api/v1/approvals?state=pending&dag_id=${DAG}&run_id=${seg(runId)}&limit=100`, { token: tokens.admin });
    const pending = res.body.items as Item[];
    return pending.length === count ? pending : undefined;
  });
  const of = (task: string) => items.filter((a) => a.task_id === task).sort((a, b) => a.map_index - b.map_index);
  return { routine: of('review_routine'), severe: of('review_severe') };
}

/** What `user`'s queue lists of this run under `policy` (ids sorted: the list's order is the registrations'). */
const queueOf = async (user: Person, runId: string, policy: string) =>
  ((await bridge(`/api/v1/approvals?state=pending&mine=true&dag_id=${DAG}&policy=${policy}&limit=100`, { token: tokens[user] })).body.items as Item[])
    .filter((a) => a.run_id === runId)
    .map((a) => a.id)
    .sort();

const mappedStates = async (runId: string, taskId: string) =>
  ((await airflow(`/api/v2/dags/${DAG}/dagRuns/${seg(runId)}/taskInstances/${taskId}/listMapped`, { token: tokens.alice })).body.task_instances as Array<{ state: string }>).map(
    (t) => t.state,
  );

const expectDecided = (res: Awaited<ReturnType<typeof decideMany>>, expected: Array<[string, number, string | null]>) => {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect((res.body.items as Array<{ approval_id: string; status: number; state: string | null; error: { code: string } | null }>).map((i) => [i.approval_id, i.status, i.error?.code ?? i.state])).toEqual(
    expected,
  );
};

describe('review queue', () => {
  it('120_10_04_content_moderation: claims, one-at-a-time and bulk decisions, the store and the feedback the next run reads', async () => {
    const runId = await triggerRun(DAG, tokens.alice, CONF);
    // Seed 1: four routine posts (p-1-03, -04, -06, -07) and two severe ones (p-1-02, -09).
    const { routine, severe } = await flaggedPosts(runId, 6);
    const [r0, r1, r2, r3] = routine.map((a) => a.id) as [string, string, string, string];
    const [s0, s1] = severe.map((a) => a.id) as [string, string];
    expect(routine[1]!.body).toContain('**Score 4.50** against threshold 2.50');
    // Each queue lists what its reviewer may decide: bob the routine posts, carol the severe ones too.
    expect(await queueOf('bob', runId, 'content-moderation')).toEqual([r0, r1, r2, r3].sort());
    expect(await queueOf('bob', runId, 'content-moderation-severe')).toEqual([]);
    expect(await queueOf('carol', runId, 'content-moderation-severe')).toEqual([s0, s1].sort());

    // bob claims a post: carol's vote on it is refused and changes nothing, in the bridge or in Airflow.
    const claimed = await claim('bob', r0, { ttl_seconds: 600 });
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
    expect(claimed.body.claim).toMatchObject({ by: 'bob' });
    expect((await claim('carol', r0)).body.error.code).toBe('claimed');
    await expectRefusedAndUnchanged(r0, tokens.admin, () => vote('carol', r0, { option: 'Keep' }), { status: 409, code: 'claimed' });
    // Only someone who may decide an item claims it.
    expect((await claim('bob', s0)).body.error.code).toBe('not_eligible');
    // A claim that ends frees the item: carol's one-second claim, then bob's.
    expect((await claim('carol', r3, { ttl_seconds: 1 })).status).toBe(200);
    await waitFor('carol’s claim to end', async () => ((await claim('bob', r3)).status === 200 ? true : undefined), 30_000);
    expect((await release('bob', r3)).body.claim).toBeNull();

    // bob removes three in bulk with one reason; one is a severe post he may not decide: refused alone, unchanged.
    const severeBefore = await snapshot(s0, tokens.admin);
    expectDecided(await decideMany('bob', [r1, r3, s0], { option: 'Remove', reason: 'spam wave' }), [
      [r1, 200, 'rejected'],
      [r3, 200, 'rejected'],
      [s0, 403, 'not_eligible'],
    ]);
    expect(await snapshot(s0, tokens.admin)).toEqual(severeBefore);
    // Each item of the bulk decision is audited on its own, naming the batch.
    const audit = (await bridge(`/api/v1/audit?approval_id=${seg(r1)}&limit=100`, { token: tokens.admin })).body.items as Array<{ action: string; reason: string; details: Record<string, unknown> }>;
    expect(audit.find((e) => e.action === 'vote.recorded')).toMatchObject({ reason: 'spam wave', details: { option: 'Remove', batch: expect.any(String) } });

    // The rest, one at a time and in bulk: bob keeps the post he holds (his vote ends his claim), carol the others.
    expect((await vote('bob', r0, { option: 'Keep' })).body).toMatchObject({ state: 'approved', claim: null });
    expect((await vote('carol', r2, { option: 'Keep' })).body).toMatchObject({ state: 'approved' });
    expectDecided(await decideMany('carol', [s0, s1], { option: 'Remove', reason: 'abuse' }), [
      [s0, 200, 'rejected'],
      [s1, 200, 'rejected'],
    ]);

    expect(await waitForRunEnd(DAG, runId, tokens.alice)).toBe('success');
    expect(await mappedStates(runId, 'review_routine')).toEqual(['success', 'success', 'success', 'success']);
    expect(await mappedStates(runId, 'review_severe')).toEqual(['success', 'success']);
    const applied = await xcom(DAG, runId, 'apply_decisions');
    expect(applied.store.removed).toEqual(['p-1-02', 'p-1-04', 'p-1-07', 'p-1-09']);
    expect(applied.store.published).toHaveLength(8);
    expect(applied.reviews.find((r: { post_id: string }) => r.post_id === 'p-1-04')).toMatchObject({ option: 'Remove', reviewer: 'bob', reason: 'spam wave' });
    expect(await xcom(DAG, runId, 'moderation_report')).toMatchObject({
      posts: 12,
      auto_published: 6,
      queued: { routine: 4, severe: 2 },
      kept: 2,
      removed: 4,
      timed_out: 0,
      feedback_read: { decisions: 0 },
      feedback_recorded: 6,
    });

    // The next run's flagging reads those decisions: weights and threshold moved, p-1-04 now goes to the senior queue.
    const next = await triggerRun(DAG, tokens.alice, CONF);
    const again = await flaggedPosts(next, 6);
    expect(again.routine).toHaveLength(3);
    expect(again.severe.map((a) => a.subject)).toEqual([expect.stringContaining('p-1-02'), expect.stringContaining('p-1-04'), expect.stringContaining('p-1-09')]);
    const all = [...again.routine, ...again.severe].map((a) => a.id);
    const kept = await decideMany('carol', all, { option: 'Keep' });
    expect(kept.body).toMatchObject({ counted: 6, refused: 0 });
    expect(await waitForRunEnd(DAG, next, tokens.alice)).toBe('success');
    expect(await xcom(DAG, next, 'moderation_report')).toMatchObject({
      queued: { routine: 3, severe: 3 },
      kept: 6,
      threshold: 2.17,
      feedback_read: { decisions: 6, kept: 2, removed: 4 },
      adjustments: {
        threshold: { from: 2.5, to: 2.17 },
        weights: {
          click: { from: 1.0, to: 1.5 },
          crypto: { from: 1.5, to: 1.25 },
          guaranteed: { from: 1.0, to: 1.5 },
          idiot: { from: 2.5, to: 3.25 },
          scam: { from: 2.0, to: 2.25 },
          winner: { from: 1.5, to: 1.75 },
        },
      },
    });
  });
});
