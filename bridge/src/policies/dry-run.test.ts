import { describe, expect, it } from 'vitest';
import { parseChannels } from '../channels/config.js';
import { AddressBook } from '../deliveries/addresses.js';
import { type DryRunRequest, dryRun, quorumWarnings } from './dry-run.js';
import { parsePolicies } from './load.js';
import { resolvePolicy } from './match.js';

const NOW = new Date('2026-12-04T10:00:00.000Z');

const file = (policies: string) =>
  parsePolicies(`version: 1
groups:
  finance: [bob, carol, dave]
  controllers: [carol, admin]
  pair: [bob, carol]
  nobody: []
managers:
  alice: carol
  carol: erin
  erin: admin
absent: [erin]
policies:
${policies}`);

const request = (overrides: Partial<DryRunRequest> = {}): DryRunRequest => ({
  dag_id: 'payments',
  task_id: 'approve',
  tags: [],
  owners: [],
  values: {},
  options: ['Approve', 'Reject'],
  requester: 'alice',
  ...overrides,
});

describe('dry-run: which policy and why', () => {
  const set = file(`  - name: other-dag
    match: { dag_id: "reports_*" }
    levels: [{ name: l, approvers: [user:bob] }]
  - name: other-task
    match: { dag_id: payments, task_id: "pay_*" }
    levels: [{ name: l, approvers: [user:bob] }]
  - name: tagged
    match: { tags: [finance] }
    levels: [{ name: l, approvers: [user:bob] }]
  - name: large
    match: { dag_id: payments, when: "amount >= 10000" }
    levels: [{ name: l, approvers: [user:bob] }]
  - name: standard
    match: { dag_id: payments }
    levels: [{ name: l, approvers: [group:finance] }]
  - name: catch-all
    levels: [{ name: l, approvers: [role:admin] }]
`);

  it('names the policy that matches and, for every other one, the criterion it misses or that it comes too late', () => {
    const result = dryRun(set, null, request({ values: { amount: 500 } }), NOW);
    expect(result.policy).toBe('standard');
    expect(result.policies.map((p) => [p.name, p.verdict])).toEqual([
      ['other-dag', 'dag_id'],
      ['other-task', 'task_id'],
      ['tagged', 'tags'],
      ['large', 'condition_false'],
      ['standard', 'matched'],
      ['catch-all', 'shadowed'],
    ]);
    expect(result.policies[0]!.detail).toBe('dag_id does not match "reports_*"');
    expect(result.policies[3]!.detail).toBe('when "amount >= 10000" is false');
  });

  it('routes by the conf: a large amount takes the earlier policy', () => {
    expect(dryRun(set, null, request({ values: { amount: '25000' } }), NOW).policy).toBe('large');
  });

  it('reports a condition that cannot be evaluated as registration holds the approval: the same policy_error, nothing later applies', () => {
    const asked = request({ values: { amount: 'a lot' } });
    const result = dryRun(set, null, asked, NOW);
    expect(result.policy).toBeNull();
    expect(result.policy_error).toBe(resolvePolicy(set, asked).policy_error);
    expect(result.policy_error).toMatch(/^policy "large": cannot evaluate amount >= 10000/);
    expect(result.policies.slice(3).map((p) => p.verdict)).toEqual(['condition_error', 'not_reached', 'not_reached']);
    expect(result).toMatchObject({ reachable: false, levels: [], problems: [expect.stringContaining('the approval would be held')] });
  });

  it('says when a matching policy gives an option no outcome', () => {
    const result = dryRun(set, null, request({ values: { amount: 1 }, options: ['Ship it'] }), NOW);
    expect(result.policies[4]).toMatchObject({ name: 'standard', verdict: 'no_outcome' });
    expect(result.policies[5]).toMatchObject({ name: 'catch-all', verdict: 'not_reached' });
    expect(result.policy_error).toContain('"Ship it"');
  });

  it('with no policy matching, nobody could decide', () => {
    const only = file(`  - name: reports
    match: { dag_id: reports }
    levels: [{ name: l, approvers: [user:bob] }]
`);
    expect(dryRun(only, null, request(), NOW)).toMatchObject({ policy: null, policy_error: null, reachable: false, problems: ['no policy matches, so nobody could decide it'] });
  });
});

describe('dry-run: who may decide and whether the quorum can be met', () => {
  it('lists each level with its rule and the people resolved now, the requester excluded with the reason', () => {
    const set = file(`  - name: p
    self_approval: false
    levels:
      - { name: finance, approvers: [group:finance, user:alice], rule: { n_of: 2 } }
      - { name: controllers, approvers: [group:controllers, role:admin], rule: unanimous }
`);
    const result = dryRun(set, null, request(), NOW);
    expect(result.reachable).toBe(true);
    expect(result.levels).toEqual([
      {
        name: 'finance',
        reachable: true,
        problems: [],
        groups: [
          {
            name: 'finance',
            rule: 'n_of',
            needed: 2,
            people: ['bob', 'carol', 'dave'].map((user) => ({ user, absent: false, channels: [], undeliverable: [] })),
            roles: [],
            excluded: [{ user: 'alice', reason: 'policy "p" does not let alice, the requester, approve their own request' }],
          },
        ],
      },
      expect.objectContaining({ name: 'controllers', reachable: true, groups: [expect.objectContaining({ rule: 'unanimous', needed: 2, roles: ['admin'] })] }),
    ]);
    expect(result.notes).toContain('"controllers" also counts anyone with Airflow role admin: only Airflow knows who holds it');
  });

  it('3 of a group of 2 is not reachable', () => {
    const set = file(`  - name: p
    levels: [{ name: pair, approvers: [group:pair], rule: { n_of: 3 } }]
`);
    const result = dryRun(set, null, request(), NOW);
    expect(result.reachable).toBe(false);
    expect(result.levels[0]).toMatchObject({ reachable: false, problems: ['"pair" needs 3 of bob, carol'] });
    expect(result.problems).toEqual(['level "pair": "pair" needs 3 of bob, carol']);
  });

  it('unanimity of an empty group is not reachable', () => {
    const set = file(`  - name: p
    levels: [{ name: empty, approvers: [group:nobody], rule: unanimous }]
`);
    expect(dryRun(set, null, request(), NOW).levels[0]).toMatchObject({ reachable: false, problems: ['"empty" needs unanimous (1) of nobody'] });
  });

  it('a quorum the requester would have to be part of is not reachable without self-approval', () => {
    const set = file(`  - name: p
    self_approval: false
    levels: [{ name: pair, approvers: [group:pair], rule: unanimous }]
`);
    const result = dryRun(set, null, request({ requester: 'bob' }), NOW);
    // Unanimity counts the people who may decide: without bob it is carol alone, and reachable.
    expect(result.levels[0]).toMatchObject({ reachable: true, groups: [{ needed: 1, excluded: [{ user: 'bob' }] }] });
    const twoOf = file(`  - name: p
    self_approval: false
    levels: [{ name: pair, approvers: [group:pair], rule: { n_of: 2 } }]
`);
    expect(dryRun(twoOf, null, request({ requester: 'bob' }), NOW).levels[0]).toMatchObject({ reachable: false, problems: ['"pair" needs 2 of carol (barred: bob)'] });
  });

  it('segregation: the owners are excluded, and nobody deciding at two levels leaves a later level too few people', () => {
    const set = file(`  - name: p
    segregation: { across_levels: true, excluded: [owners] }
    levels:
      - { name: finance, approvers: [group:finance], rule: { n_of: 2 } }
      - { name: controllers, approvers: [user:bob, user:carol], rule: any }
`);
    const result = dryRun(set, null, request({ owners: ['dave'] }), NOW);
    expect(result.levels[0]!.groups[0]!.excluded).toEqual([{ user: 'dave', reason: 'policy "p" excludes dave from deciding it' }]);
    // finance needs bob and carol (dave is excluded), so nobody is left for the controllers.
    expect(result.levels.map((l) => l.reachable)).toEqual([true, false]);
    expect(result.levels[1]!.problems).toEqual(['"controllers" cannot be met by people who did not decide an earlier level: nobody may decide at two levels of this policy']);
    expect(result.reachable).toBe(false);
    // Without the owner excluded, dave can take finance's second place.
    expect(dryRun(set, null, request({ owners: [] }), NOW).reachable).toBe(true);
  });

  it('finds an assignment a greedy one would miss (carol is in both groups of the financial policy)', () => {
    const set = file(`  - name: p
    segregation: { across_levels: true, excluded: [owners] }
    levels:
      - { name: finance, approvers: [group:finance], rule: any }
      - { name: controllers, approvers: [group:controllers], rule: { n_of: 2 } }
`);
    // controllers needs carol and admin, so finance must be bob (dave is the owner).
    expect(dryRun(set, null, request({ owners: ['dave'] }), NOW).reachable).toBe(true);
    expect(dryRun(set, null, request({ owners: ['dave'], requester: 'bob' }), NOW).reachable).toBe(false);
  });

  it('a person in two parallel groups of one level counts in each', () => {
    const set = file(`  - name: p
    segregation: { across_levels: true }
    levels:
      - name: both
        parallel:
          - { name: legal, approvers: [user:carol], rule: any }
          - { name: security, approvers: [user:carol], rule: any }
`);
    expect(dryRun(set, null, request(), NOW).reachable).toBe(true);
  });

  it('absent people are listed but not counted towards the quorum; the manager skips them', () => {
    const set = file(`  - name: p
    levels:
      - { name: managers, approvers: [user:erin, user:bob], rule: unanimous }
      - { name: manager, approvers: [manager], rule: any }
`);
    const result = dryRun(set, null, request({ requester: 'carol' }), NOW);
    expect(result.levels[0]!.groups[0]!.people.map((p) => [p.user, p.absent])).toEqual([
      ['erin', true],
      ['bob', false],
    ]);
    expect(result.levels[0]!.problems).toEqual(['"managers" needs unanimous (2) of bob (absent: erin)']);
    // carol's manager erin is absent: the one above her decides.
    expect(result.levels[1]!.groups[0]!.people.map((p) => p.user)).toEqual(['admin']);
  });

  it('an approval registered under an unreachable policy gets the same problems as warnings', () => {
    const set = file(`  - name: p
    levels: [{ name: pair, approvers: [group:pair], rule: { n_of: 3 } }]
`);
    expect(quorumWarnings(set, set.policies[0]!, request())).toEqual(['level "pair": "pair" needs 3 of bob, carol']);
  });
});

describe('dry-run: the clock, break-glass and channels', () => {
  const set = file(`  - name: p
    levels: [{ name: owner, approvers: [user:bob, user:dave], rule: any }]
    reminders: { every: 20s }
    escalation:
      - { after: 30s, to: [manager] }
      - { after: 1m, to: [user:admin, role:op] }
    sla: { warn_before: 15s }
    deadline: { after: 2m, action: escalate }
    break_glass: { allowed: [group:controllers], reviewers: [group:pair, role:admin] }
`);

  it('counts the deadline, reminders and escalations from now, with whom each escalation adds', () => {
    const result = dryRun(set, null, request(), NOW);
    expect(result.deadline).toEqual({ due_at: '2026-12-04T10:02:00.000Z', action: 'escalate', sla_warning_at: '2026-12-04T10:01:45.000Z', escalate_to: ['carol', 'admin', 'role:op'] });
    expect(result.reminders).toEqual({ every: '20s', first_at: '2026-12-04T10:00:20.000Z' });
    expect(result.escalations).toEqual([
      { after: '30s', at: '2026-12-04T10:00:30.000Z', to: ['carol'] },
      { after: '1m', at: '2026-12-04T10:01:00.000Z', to: ['admin', 'role:op'] },
    ]);
    expect(result.break_glass).toEqual({ allowed: ['carol', 'admin'], reviewers: ['bob', 'carol', 'role:admin'] });
    expect(result.notifications).toBeNull();
  });

  it("names each person's channels from the channels file, and those without an address for them", () => {
    const book = new AddressBook(
      parseChannels(`version: 1
people:
  bob: { email: bob@example.com, slack: U1 }
  dave: { email: dave@example.com }
policies:
  p: { channels: [slack, email], fallback: email }
`),
    );
    const result = dryRun(set, book, request(), NOW);
    expect(result.notifications).toEqual({ channels: ['slack', 'email'], fallback: 'email' });
    expect(result.levels[0]!.groups[0]!.people).toEqual([
      { user: 'bob', absent: false, channels: ['messages', 'slack', 'email'], undeliverable: [] },
      { user: 'dave', absent: false, channels: ['messages', 'email'], undeliverable: [{ channel: 'slack', error: 'no slack address for dave' }] },
    ]);
  });
});
