import { describe, expect, it } from 'vitest';
import { parsePolicies } from './load.js';
import { checkVote, choiceOf, evaluateLevel, isRejecting, requestersOf, type LevelContext, type LevelVote } from './rules.js';
import type { Level } from './schema.js';

const people = {
  groups: {
    three: ['alice', 'bob', 'carol'],
    four: ['alice', 'bob', 'carol', 'dave'],
    legal: ['erin', 'frank'],
    security: ['bob', 'grace', 'heidi'],
  },
  managers: { alice: 'carol' },
};

/** A context for the only level of a policy written as an object (JSON is YAML). */
function level(policy: object, requester: string | null = null): [Level, LevelContext] {
  const set = parsePolicies(JSON.stringify({ version: 1, ...people, policies: [{ name: 'p', ...policy }] }));
  const only = set.policies[0]!;
  return [only.levels[0]!, { set, policy: only, requester }];
}

const single = (approvers: string[], rule: unknown, extra: object = {}) => ({ levels: [{ name: 'l', approvers, rule }], ...extra });
const approve = (user: string, role: string | null = null, option = 'Approve'): LevelVote => ({ user, role, option, rejecting: false, choice: option });
const reject = (user: string): LevelVote => ({ user, option: 'Reject', rejecting: true, choice: 'Reject' });

describe('isRejecting', () => {
  it('knows the options that say no', () => {
    expect(['Reject', 'deny', 'DECLINE', 'No'].map(isRejecting)).toEqual([true, true, true, true]);
    expect(['Approve', 'Defer', 'Yes', 'not now', 'Rejected'].map(isRejecting)).toEqual([false, false, false, false, false]);
  });
});

describe('evaluateLevel: quorum', () => {
  it('any: the first approval passes', () => {
    const [l, ctx] = level(single(['group:three'], 'any'));
    expect(evaluateLevel(l, [], ctx)).toEqual({ status: 'open', needed: 1, approvals: 0, rejections: 0, choice: null });
    expect(evaluateLevel(l, [approve('bob')], ctx)).toEqual({ status: 'approved', needed: 1, approvals: 1, rejections: 0, choice: 'Approve' });
  });

  it('n_of: needs N distinct people', () => {
    const [l, ctx] = level(single(['group:three'], { n_of: 2 }));
    expect(evaluateLevel(l, [approve('bob')], ctx)).toMatchObject({ status: 'open', needed: 2, approvals: 1 });
    expect(evaluateLevel(l, [approve('bob'), approve('bob')], ctx)).toMatchObject({ status: 'open', approvals: 1 });
    expect(evaluateLevel(l, [approve('bob'), approve('carol')], ctx)).toMatchObject({ status: 'approved', approvals: 2 });
  });

  it('majority of an odd number: 2 of 3', () => {
    const [l, ctx] = level(single(['group:three'], 'majority'));
    expect(evaluateLevel(l, [approve('alice')], ctx)).toMatchObject({ status: 'open', needed: 2 });
    expect(evaluateLevel(l, [approve('alice'), approve('carol')], ctx)).toMatchObject({ status: 'approved' });
  });

  it('majority of an even number: 3 of 4 (half is not a majority)', () => {
    const [l, ctx] = level(single(['group:four'], 'majority'));
    expect(evaluateLevel(l, [approve('alice'), approve('bob')], ctx)).toMatchObject({ status: 'open', needed: 3 });
    expect(evaluateLevel(l, [approve('alice'), approve('bob'), approve('dave')], ctx)).toMatchObject({ status: 'approved' });
  });

  it('unanimous: everyone named', () => {
    const [l, ctx] = level(single(['group:three'], 'unanimous'));
    expect(evaluateLevel(l, [approve('alice'), approve('bob')], ctx)).toMatchObject({ status: 'open', needed: 3 });
    expect(evaluateLevel(l, [approve('alice'), approve('bob'), approve('carol')], ctx)).toMatchObject({ status: 'approved' });
  });

  it('counts role holders’ votes, with M over the known people only', () => {
    const [l, ctx] = level(single(['user:alice', 'user:bob', 'user:carol', 'role:op'], 'majority'));
    expect(evaluateLevel(l, [approve('alice'), approve('ivan', 'op')], ctx)).toMatchObject({ status: 'approved', needed: 2, approvals: 2 });
    expect(evaluateLevel(l, [approve('alice'), approve('judy', 'viewer')], ctx)).toMatchObject({ status: 'open', approvals: 1 });
  });

  it('counts the requester’s manager', () => {
    const [l, ctx] = level(single(['manager', 'user:bob'], 'unanimous'), 'alice');
    expect(evaluateLevel(l, [approve('bob'), approve('carol')], ctx)).toMatchObject({ status: 'approved', needed: 2 });
  });

  it('ignores votes of people who are no longer approvers', () => {
    const [l, ctx] = level(single(['group:legal'], 'any'));
    expect(evaluateLevel(l, [approve('alice')], ctx)).toMatchObject({ status: 'open', approvals: 0 });
  });
});

describe('evaluateLevel: the quorum agrees on one choice', () => {
  it('votes for different approving options never add up', () => {
    const [l, ctx] = level(single(['group:three'], { n_of: 2 }));
    const split = [approve('alice', null, 'Ship'), approve('bob', null, 'Ship to canary')];
    expect(evaluateLevel(l, split, ctx)).toEqual({ status: 'open', needed: 2, approvals: 1, rejections: 0, choice: null });
    expect(evaluateLevel(l, [...split, approve('carol', null, 'Ship to canary')], ctx)).toMatchObject({
      status: 'approved',
      approvals: 2,
      choice: 'Ship to canary',
    });
  });

  it('a parallel level passes only when its groups passed the same choice', () => {
    const [l, ctx] = level({
      levels: [{ name: 'l', parallel: [{ name: 'legal', approvers: ['group:legal'] }, { name: 'security', approvers: ['group:security'] }] }],
    });
    expect(evaluateLevel(l, [approve('erin', null, 'Ship'), approve('grace', null, 'Canary')], ctx)).toMatchObject({ status: 'open', choice: null });
    expect(evaluateLevel(l, [approve('erin', null, 'Ship'), approve('grace', null, 'Ship')], ctx)).toMatchObject({ status: 'approved', choice: 'Ship' });
  });

  it('a choice is the option plus the form fields the policy says must agree', () => {
    const all = parsePolicies(JSON.stringify({ version: 1, policies: [{ name: 'p', ...single(['user:a'], 'any') }] })).policies[0]!;
    expect(choiceOf(all, 'Ship', { pct: 5, note: 'x' })).not.toBe(choiceOf(all, 'Ship', { pct: 5, note: 'y' }));
    expect(choiceOf(all, 'Ship', { pct: 5, note: 'x' })).toBe(choiceOf(all, 'Ship', { note: 'x', pct: 5 }));
    const some = parsePolicies(JSON.stringify({ version: 1, policies: [{ name: 'p', input: { agree: ['pct'] }, ...single(['user:a'], 'any') }] })).policies[0]!;
    expect(choiceOf(some, 'Ship', { pct: 5, note: 'x' })).toBe(choiceOf(some, 'Ship', { pct: 5, note: 'y' }));
    expect(choiceOf(some, 'Ship', { pct: 5 })).not.toBe(choiceOf(some, 'Ship', { pct: 10 }));
    expect(choiceOf(some, 'Ship', { pct: 5 })).not.toBe(choiceOf(some, 'Hold', { pct: 5 }));
    const last = parsePolicies(JSON.stringify({ version: 1, policies: [{ name: 'p', input: { winner: 'last_level' }, ...single(['user:a'], 'any') }] })).policies[0]!;
    expect(choiceOf(last, 'Ship', { pct: 5 })).toBe(choiceOf(last, 'Ship', { pct: 10 }));
  });
});

describe('evaluateLevel: changed votes', () => {
  it('counts only a person’s latest vote', () => {
    const [l, ctx] = level(single(['group:three'], { n_of: 2 }));
    expect(evaluateLevel(l, [reject('alice'), approve('alice'), approve('bob')], ctx)).toEqual({
      status: 'approved',
      needed: 2,
      approvals: 2,
      rejections: 0,
      choice: 'Approve',
    });
    expect(evaluateLevel(l, [approve('alice'), reject('alice')], ctx)).toMatchObject({ status: 'rejected', approvals: 0, rejections: 1 });
  });
});

describe('evaluateLevel: reject modes', () => {
  it('any: one rejection rejects the level', () => {
    const [l, ctx] = level(single(['group:three'], { n_of: 2 }));
    expect(evaluateLevel(l, [approve('alice'), reject('bob')], ctx)).toMatchObject({ status: 'rejected', rejections: 1 });
  });

  it('quorum: rejected only once the rule can no longer be met', () => {
    const [l, ctx] = level(single(['group:three'], { n_of: 2 }, { reject: 'quorum' }));
    expect(evaluateLevel(l, [reject('bob')], ctx)).toMatchObject({ status: 'open', rejections: 1 });
    expect(evaluateLevel(l, [reject('bob'), approve('alice')], ctx)).toMatchObject({ status: 'open' });
    expect(evaluateLevel(l, [reject('bob'), approve('alice'), approve('carol')], ctx)).toMatchObject({ status: 'approved' });
    expect(evaluateLevel(l, [reject('bob'), reject('carol')], ctx)).toMatchObject({ status: 'rejected', rejections: 2 });
  });

  it('quorum with rule any: rejected when every approver said no', () => {
    const [l, ctx] = level(single(['group:three'], 'any', { reject: 'quorum' }));
    expect(evaluateLevel(l, [reject('alice'), reject('bob')], ctx)).toMatchObject({ status: 'open' });
    expect(evaluateLevel(l, [reject('alice'), reject('bob'), reject('carol')], ctx)).toMatchObject({ status: 'rejected' });
  });

  it('quorum: a level naming a role stays open, since more role holders may still approve', () => {
    const [l, ctx] = level(single(['user:alice', 'role:op'], 'any', { reject: 'quorum' }));
    expect(evaluateLevel(l, [reject('alice')], ctx)).toMatchObject({ status: 'open' });
  });
});

describe('evaluateLevel: parallel groups', () => {
  const parallel = (extra: object = {}) => ({
    levels: [
      {
        name: 'legal-and-security',
        parallel: [
          { name: 'legal', approvers: ['group:legal'], rule: 'any' },
          { name: 'security', approvers: ['group:security'], rule: { n_of: 2 } },
        ],
      },
    ],
    ...extra,
  });

  it('stays open while one group is done and the other is not', () => {
    const [l, ctx] = level(parallel());
    const tally = evaluateLevel(l, [approve('erin'), approve('grace')], ctx);
    expect(tally).toMatchObject({ status: 'open', needed: 3, approvals: 2 });
    expect(tally.groups?.map((group) => [group.name, group.status])).toEqual([
      ['legal', 'approved'],
      ['security', 'open'],
    ]);
  });

  it('is approved when every group is', () => {
    const [l, ctx] = level(parallel());
    expect(evaluateLevel(l, [approve('erin'), approve('grace'), approve('heidi')], ctx)).toMatchObject({ status: 'approved', approvals: 3 });
  });

  it('under reject any, a rejection in one group rejects the level', () => {
    const [l, ctx] = level(parallel());
    const tally = evaluateLevel(l, [approve('erin'), reject('heidi')], ctx);
    expect(tally.status).toBe('rejected');
    expect(tally.groups?.map((group) => group.status)).toEqual(['approved', 'rejected']);
  });

  it('under reject quorum, a group fails only when it can no longer pass', () => {
    const [l, ctx] = level(parallel({ reject: 'quorum' }));
    expect(evaluateLevel(l, [approve('erin'), reject('heidi')], ctx).status).toBe('open');
    expect(evaluateLevel(l, [approve('erin'), reject('heidi'), reject('grace')], ctx).status).toBe('rejected');
  });

  it('counts a person eligible in two groups in each', () => {
    const [l, ctx] = level({
      levels: [
        {
          name: 'both',
          parallel: [
            { name: 'three', approvers: ['group:three'] },
            { name: 'security', approvers: ['group:security'] },
          ],
        },
      ],
    });
    expect(evaluateLevel(l, [approve('bob')], ctx)).toMatchObject({ status: 'approved', approvals: 2 });
  });
});

describe('self-approval', () => {
  it('is refused by default, and the requester does not count towards unanimity', () => {
    const [l, ctx] = level(single(['group:three'], 'unanimous'), 'alice');
    expect(checkVote(l, { user: 'alice', role: null }, { option: 'Approve' }, ctx)).toMatchObject({
      ok: false,
      kind: 'self_approval',
      refusal: 'forbidden',
    });
    expect(evaluateLevel(l, [approve('alice')], ctx)).toMatchObject({ status: 'open', needed: 2, approvals: 0 });
    expect(evaluateLevel(l, [approve('bob'), approve('carol')], ctx)).toMatchObject({ status: 'approved', needed: 2 });
  });

  it('is allowed when the policy says so', () => {
    const [l, ctx] = level(single(['group:three'], 'unanimous', { self_approval: true }), 'alice');
    expect(checkVote(l, { user: 'alice', role: null }, { option: 'Approve' }, ctx)).toEqual({ ok: true });
    expect(evaluateLevel(l, [approve('bob'), approve('carol')], ctx)).toMatchObject({ status: 'open', needed: 3 });
  });
});

describe('unattended runs: who counts as requester', () => {
  const unattended = { self_approval: false, unattended_requester: ['owners', 'group:legal'] };

  it('names the DAG owners and the groups the policy lists, only when nobody triggered the run', () => {
    const [l, ctx] = level(single(['group:three', 'group:legal'], 'any', unattended), null);
    expect(requestersOf({ ...ctx, owners: ['bob'] })).toEqual(['bob', 'erin', 'frank']);
    expect(requestersOf({ ...ctx, requester: 'carol', owners: ['bob'] })).toEqual(['carol']);
  });

  it('refuses them as self-approval and leaves them out of M', () => {
    const [l, base] = level(single(['group:three', 'group:legal'], 'unanimous', unattended), null);
    const ctx = { ...base, owners: ['bob'] };
    expect(checkVote(l, { user: 'bob', role: null }, { option: 'Approve' }, ctx)).toMatchObject({ ok: false, kind: 'self_approval', refusal: 'forbidden' });
    expect(checkVote(l, { user: 'erin', role: null }, { option: 'Approve' }, ctx)).toMatchObject({ ok: false, kind: 'self_approval' });
    expect(checkVote(l, { user: 'carol', role: null }, { option: 'Approve' }, ctx)).toEqual({ ok: true });
    expect(evaluateLevel(l, [approve('alice'), approve('carol')], ctx)).toMatchObject({ status: 'approved', needed: 2 });
  });

  it('without the setting, an unattended run has no requester to refuse (as before)', () => {
    const [l, ctx] = level(single(['group:three'], 'any'), null);
    expect(checkVote(l, { user: 'bob', role: null }, { option: 'Approve' }, { ...ctx, owners: ['bob'] })).toEqual({ ok: true });
  });
});

describe('checkVote', () => {
  it('refuses someone who is not an approver of the level', () => {
    const [l, ctx] = level(single(['group:three'], 'any'));
    expect(checkVote(l, { user: 'ivan', role: 'admin' }, { option: 'Approve' }, ctx)).toEqual({
      ok: false,
      kind: 'not_eligible',
      refusal: 'forbidden',
      message: 'ivan is not an approver at level "l"',
    });
  });

  it('admits a member of any group of a parallel level, by role too', () => {
    const [l, ctx] = level({
      levels: [{ name: 'l', parallel: [{ name: 'legal', approvers: ['group:legal'] }, { name: 'ops', approvers: ['role:op'] }] }],
    });
    expect(checkVote(l, { user: 'frank', role: null }, { option: 'Approve' }, ctx)).toEqual({ ok: true });
    expect(checkVote(l, { user: 'ivan', role: 'op' }, { option: 'Approve' }, ctx)).toEqual({ ok: true });
  });

  it('reason on_reject (default): required to reject, not to approve', () => {
    const [l, ctx] = level(single(['group:three'], 'any'));
    const bob = { user: 'bob', role: null };
    expect(checkVote(l, bob, { option: 'Approve' }, ctx)).toEqual({ ok: true });
    expect(checkVote(l, bob, { option: 'Reject', reason: '  ' }, ctx)).toEqual({
      ok: false,
      kind: 'reason_required',
      refusal: 'unprocessable',
      field: 'reason',
      message: 'a reason is required to reject',
    });
    expect(checkVote(l, bob, { option: 'Reject', reason: 'numbers are off' }, ctx)).toEqual({ ok: true });
  });

  it('reason always: required for every vote', () => {
    const [l, ctx] = level(single(['group:three'], 'any', { reason: 'always' }));
    expect(checkVote(l, { user: 'bob', role: null }, { option: 'Approve', reason: null }, ctx)).toMatchObject({
      kind: 'reason_required',
      field: 'reason',
    });
    expect(checkVote(l, { user: 'bob', role: null }, { option: 'Approve', reason: 'checked' }, ctx)).toEqual({ ok: true });
  });

  it('reason never: not required, even to reject', () => {
    const [l, ctx] = level(single(['group:three'], 'any', { reason: 'never' }));
    expect(checkVote(l, { user: 'bob', role: null }, { option: 'Reject' }, ctx)).toEqual({ ok: true });
  });

  describe('form', () => {
    const form = {
      form: {
        amount: { type: 'number', minimum: 0 },
        cost_center: { type: 'string', enum: ['ops', 'research'] },
        note: { type: 'string', default: '' },
      },
    };
    const [l, ctx] = level(single(['group:three'], 'any', form));
    const bob = { user: 'bob', role: null };
    const vote = (params_input: Record<string, unknown>) => checkVote(l, bob, { option: 'Approve', params_input }, ctx);

    it('accepts a filled form; a field with a default may be left out', () => {
      expect(vote({ amount: 12, cost_center: 'ops' })).toEqual({ ok: true });
    });

    it('names the field that is missing or invalid, with ajv’s message', () => {
      expect(vote({ cost_center: 'ops' })).toEqual({
        ok: false,
        kind: 'form_invalid',
        refusal: 'unprocessable',
        field: 'amount',
        message: 'amount is required',
      });
      expect(vote({ amount: -1, cost_center: 'ops' })).toMatchObject({ field: 'amount', message: 'amount must be >= 0' });
      expect(vote({ amount: 'ten', cost_center: 'ops' })).toMatchObject({ field: 'amount', message: 'amount must be number' });
      expect(vote({ amount: 1, cost_center: 'legal' })).toMatchObject({
        field: 'cost_center',
        message: 'cost_center must be equal to one of the allowed values: ops, research',
      });
      expect(vote({ amount: 1, cost_center: 'ops', note: 3 })).toMatchObject({ field: 'note', message: 'note must be string' });
    });

    it('asks the policy what an option means: an option it calls reject needs a reason and no form', () => {
      const [hl, hctx] = level(single(['group:three'], 'any', { ...form, options: { Hold: { outcome: 'reject' } } }));
      expect(checkVote(hl, bob, { option: 'Hold' }, hctx)).toMatchObject({ kind: 'reason_required' });
      expect(checkVote(hl, bob, { option: 'Hold', reason: 'not today' }, hctx)).toEqual({ ok: true });
    });

    it('does not ask a rejection to fill the form', () => {
      expect(checkVote(l, bob, { option: 'Reject', reason: 'no budget' }, ctx)).toEqual({ ok: true });
    });
  });
});
