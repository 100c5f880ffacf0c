import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { airflowKnows, airflowServer, tokenFor } from '../testing/fake-airflow.js';
import { SERVICE_TOKEN, buildBridge, policiesWith, request1 } from '../testing/harness.js';
import type { ApprovalRequest } from './store.js';

/** Decision integrity: only the policy decides (issue #10, points 1, 2, 3 and 13). */
describe.each(databases)('decision rules on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof buildBridge>;
  const tokens: Record<string, string> = {};

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    for (const user of ['alice', 'bob', 'carol', 'dave']) tokens[user] = await tokenFor(user);
  });
  afterEach(() => drop());

  const start = async (policies: string, overrides: Partial<ApprovalRequest> = {}) => {
    bridge = buildBridge(db, policiesWith(policies));
    return (await bridge.service.register({ ...request1, ...overrides }, 'test')).id;
  };
  const vote = (user: string, id: string, body: object) =>
    request(bridge.app).post(`/api/v1/approvals/${id}/votes`).set('Authorization', `Bearer ${tokens[user]}`).send(body);
  const view = async (id: string) => (await request(bridge.app).get(`/api/v1/approvals/${id}`).set('Authorization', `Bearer ${tokens.alice}`)).body;
  const auditCount = async () => (await bridge.trail.list({ limit: 500 })).items.length;
  /** What a refusal must leave untouched. */
  const snapshot = async (id: string) => {
    const approval = await bridge.store.get(id);
    return { state: approval?.state, votes: approval?.votes, audit: await auditCount(), effects: await db.selectFrom('effect').selectAll().execute() };
  };

  describe('the quorum agrees on one option', () => {
    const RELEASE = `  - name: release
    options:
      Ship: { outcome: approve }
      Ship to canary: { outcome: approve }
      Hold: { outcome: reject }
    reason: never
    levels:
      - { name: stewards, approvers: [group:stewards], rule: { n_of: 2 } }
`;
    const release = { options: ['Ship', 'Ship to canary', 'Hold'] };

    it('votes for different approving options never add up, and the agreed option is the outcome', async () => {
      const id = await start(RELEASE, release);
      expect((await vote('alice', id, { option: 'Ship' })).body).toMatchObject({ state: 'pending', progress: { needed: 2, approvals: 1 } });
      const split = await vote('bob', id, { option: 'Ship to canary' });
      expect(split.body).toMatchObject({ state: 'pending', outcome: null, progress: { needed: 2, approvals: 1 } });
      const decided = await vote('carol', id, { option: 'Ship to canary' });
      expect(decided.body).toMatchObject({ state: 'approved', outcome: { option: 'Ship to canary' } });
      const answer = await db.selectFrom('effect').select('payload').where('kind', '=', 'answer_hitl').executeTakeFirstOrThrow();
      expect(JSON.parse(answer.payload)).toMatchObject({ chosen_options: ['Ship to canary'] });
    });

    it('one Ship and one Hold is no approval with Ship: Hold says no, as the policy defines it', async () => {
      const id = await start(RELEASE, release);
      await vote('alice', id, { option: 'Ship' });
      const res = await vote('bob', id, { option: 'Hold' });
      expect(res.body).toMatchObject({ state: 'rejected', outcome: { option: 'Hold', params_input: {} } });
      // Were Hold an approving option, the two votes still would not add up.
      const other = await start(RELEASE.replace('Hold: { outcome: reject }', 'Hold: { outcome: approve }'), { ...release, run_id: 'manual__2' });
      await vote('alice', other, { option: 'Ship' });
      expect((await vote('bob', other, { option: 'Hold' })).body).toMatchObject({ state: 'pending', progress: { approvals: 1 } });
    });

    it('exposes what each option means, for the UI to colour buttons and votes by', async () => {
      const id = await start(RELEASE, release);
      expect((await view(id)).option_outcomes).toEqual([
        { option: 'Ship', outcome: 'approve' },
        { option: 'Ship to canary', outcome: 'approve' },
        { option: 'Hold', outcome: 'reject' },
      ]);
    });

    const FORM = { canary_percent: { value: 5, schema: { type: 'integer' } }, note: { value: '', schema: { type: 'string' } } };

    it('form input must agree too: the deciding voters’ input is what Airflow gets', async () => {
      const id = await start(RELEASE, { ...release, params: FORM });
      await vote('alice', id, { option: 'Ship to canary', params_input: { canary_percent: 10 } });
      const differs = await vote('bob', id, { option: 'Ship to canary', params_input: { canary_percent: 50 } });
      expect(differs.body).toMatchObject({ state: 'pending', progress: { approvals: 1 } });
      const agrees = await vote('carol', id, { option: 'Ship to canary', params_input: { canary_percent: 10 } });
      expect(agrees.body).toMatchObject({ state: 'approved', outcome: { option: 'Ship to canary', params_input: { canary_percent: 10, note: '' } } });
      expect(agrees.body.votes.map((v: { user: string; params_input: unknown }) => [v.user, v.params_input])).toEqual([
        ['alice', { canary_percent: 10 }],
        ['bob', { canary_percent: 50 }],
        ['carol', { canary_percent: 10 }],
      ]);
    });

    it('input: {agree: [fields]} compares those fields only; the latest deciding vote gives the rest', async () => {
      const id = await start(RELEASE.replace('    reason: never', '    reason: never\n    input: { agree: [canary_percent] }'), { ...release, params: FORM });
      await vote('alice', id, { option: 'Ship to canary', params_input: { canary_percent: 10, note: 'a' } });
      const res = await vote('bob', id, { option: 'Ship to canary', params_input: { canary_percent: 10, note: 'b' } });
      expect(res.body).toMatchObject({ state: 'approved', outcome: { params_input: { canary_percent: 10, note: 'b' } } });
    });

    it('input: {winner: last_level} counts by option; the last level’s deciding vote gives the input', async () => {
      const id = await start(RELEASE.replace('    reason: never', '    reason: never\n    input: { winner: last_level }'), { ...release, params: FORM });
      await vote('alice', id, { option: 'Ship', params_input: { canary_percent: 10 } });
      const res = await vote('bob', id, { option: 'Ship', params_input: { canary_percent: 20 } });
      expect(res.body).toMatchObject({ state: 'approved', outcome: { option: 'Ship', params_input: { canary_percent: 20 } } });
    });
  });

  describe('a policy condition that cannot be evaluated fails closed', () => {
    const PAYMENTS = `  - name: large-payments
    match: { dag_id: "dag_a", when: "amount >= 10000" }
    levels:
      - { name: finance, approvers: [user:dave], rule: any }
  - name: lax
    levels:
      - { name: anyone, approvers: [role:user], rule: any }
`;

    it('holds the approval with a visible policy_error, audited, and refuses votes with 409 changing nothing', async () => {
      const id = await start(PAYMENTS, { values: { amount: 'lots' } });
      const held = await view(id);
      expect(held).toMatchObject({ state: 'pending', policy: null, progress: null });
      expect(held.policy_error).toMatch(/^policy "large-payments": cannot evaluate amount >= 10000: Expected a number, but got a text instead/);
      const registered = (await bridge.trail.list({ limit: 10 })).items.find((e) => e.action === 'approval.registered');
      expect(registered?.details).toMatchObject({ policy: null, policy_error: held.policy_error });

      const before = await snapshot(id);
      for (const user of ['alice', 'dave']) {
        const res = await vote(user, id, { option: 'Approve' });
        expect(res.status).toBe(409);
        expect(res.body.error.code).toBe('policy_error');
        expect(res.body.error.message).toContain('cannot evaluate amount >= 10000');
      }
      expect(await snapshot(id)).toEqual(before);
      // The laxer policy's approver finds nothing to do in their inbox either.
      const mine = await request(bridge.app).get('/api/v1/approvals?mine=true').set('Authorization', `Bearer ${tokens.alice}`);
      expect(mine.body.items).toEqual([]);
    });

    it('an admin fixing the file lifts the hold: the view re-evaluates, and the strict policy decides', async () => {
      const id = await start(PAYMENTS);
      expect((await view(id)).policy_error).toMatch(/got a undefined instead/);
      bridge.setPolicies(policiesWith(PAYMENTS.replace('when: "amount >= 10000"', 'when: "exists(amount) and amount >= 10000"')));
      expect(await view(id)).toMatchObject({ policy_error: null, policy: null });
      expect((await vote('bob', id, { option: 'Approve' })).body).toMatchObject({ state: 'approved', policy: 'lax' });
    });

    it('numbers given as text compare as numbers and select the strict policy', async () => {
      const id = await start(PAYMENTS, { values: { amount: '25000' } });
      expect(await view(id)).toMatchObject({ policy: 'large-payments', policy_error: null });
      expect((await vote('alice', id, { option: 'Approve' })).status).toBe(403);
      expect((await vote('dave', id, { option: 'Approve' })).body.state).toBe('approved');
    });

    it('an option the policy gives no outcome holds the approval the same way', async () => {
      const id = await start(PAYMENTS, { values: { amount: 1 }, options: ['Approve', 'Defer'] });
      const before = await snapshot(id);
      expect((await view(id)).policy_error).toBe('policy "lax" gives no outcome (approve or reject) to "Defer": add it under options');
      expect((await vote('alice', id, { option: 'Approve' })).body.error.code).toBe('policy_error');
      expect(await snapshot(id)).toEqual(before);
    });
  });

  describe('runs nobody triggered: who counts as requester', () => {
    const SCHEDULED = `  - name: scheduled
    unattended_requester: [owners, group:level2]
    levels:
      - { name: stewards, approvers: [group:stewards], rule: any }
`;

    it('the DAG owners and the named group may not approve; someone else may', async () => {
      const id = await start(SCHEDULED, { requester: null, owners: ['alice'] });
      const before = await snapshot(id);
      for (const user of ['alice', 'bob']) {
        const res = await vote(user, id, { option: 'Approve' });
        expect(res.status).toBe(403);
        expect(res.body.error).toMatchObject({ code: 'self_approval', message: 'policy "scheduled" does not let who counts as requester of this unattended run approve their own request' });
      }
      const after = await snapshot(id);
      expect({ ...after, audit: before.audit }).toEqual(before);
      expect(after.audit).toBe(before.audit + 2); // each refusal is audited, as every 403 is
      expect((await vote('carol', id, { option: 'Approve' })).body.state).toBe('approved');
    });

    it('registration records the owners the Airflow side sends', async () => {
      bridge = buildBridge(db, policiesWith(SCHEDULED));
      const { run_id, dag_id, task_id, map_index, try_number, subject, options } = request1;
      // Owners are Airflow's (the DAG's), not the registration's word.
      airflowServer.use(...airflowKnows({ dag_id, run_id, task_id, owners: ['dave'] }));
      const res = await request(bridge.app)
        .post('/api/v1/approvals')
        .set('Authorization', `Bearer ${SERVICE_TOKEN}`)
        .send({ dag_id, run_id, task_id, map_index, try_number, subject, options, requester: null, owners: ['dave'] });
      expect(res.status).toBe(201);
      expect((await vote('dave', res.body.id, { option: 'Approve' })).body.error.code).toBe('self_approval');
    });
  });

  describe('segregation of duties: nobody decides at two levels, excluded people never decide', () => {
    const TWO_LEVELS = (segregation: string) => `  - name: payment
    segregation: ${segregation}
    levels:
      - { name: finance, approvers: [group:stewards], rule: any }
      - { name: controllers, approvers: [group:stewards], rule: { n_of: 2 } }
`;

    it('who decided at the first level is refused at the second, and nothing changes', async () => {
      const id = await start(TWO_LEVELS('{ across_levels: true }'));
      expect((await vote('alice', id, { option: 'Approve' })).body).toMatchObject({ state: 'pending', level: 2 });
      const before = await snapshot(id);
      const res = await vote('alice', id, { option: 'Approve' });
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({
        code: 'segregation_of_duties',
        message: 'policy "payment" lets nobody decide at two levels, and alice decided at an earlier one',
      });
      const after = await snapshot(id);
      expect({ ...after, audit: before.audit }).toEqual(before);
      expect(after.audit).toBe(before.audit + 1);
      // Two other people complete the second level; alice's first-level vote is not counted twice.
      expect((await vote('bob', id, { option: 'Approve' })).body).toMatchObject({ state: 'pending', progress: { approvals: 1, needed: 2 } });
      expect((await vote('dave', id, { option: 'Approve' })).body.state).toBe('approved');
    });

    it('without the rule one person may decide at both levels, as before', async () => {
      const id = await start(TWO_LEVELS('{ across_levels: false }'));
      await vote('alice', id, { option: 'Approve' });
      expect((await vote('alice', id, { option: 'Approve' })).body).toMatchObject({ state: 'pending', progress: { approvals: 1 } });
    });

    it('excluded people and the DAG owners never decide, and are not asked', async () => {
      const id = await start(TWO_LEVELS('{ excluded: [owners, user:bob] }'), { owners: ['dave'] });
      const before = await snapshot(id);
      for (const user of ['bob', 'dave']) {
        const res = await vote(user, id, { option: 'Approve' });
        expect(res.status).toBe(403);
        expect(res.body.error).toMatchObject({ code: 'segregation_of_duties', message: `policy "payment" excludes ${user} from deciding it` });
      }
      expect({ ...(await snapshot(id)), audit: before.audit }).toEqual(before);
      const inbox = async (user: string) =>
        (await request(bridge.app).get('/api/v1/approvals?mine=true').set('Authorization', `Bearer ${tokens[user]}`)).body.items.map((a: { id: string }) => a.id);
      expect(await inbox('bob')).toEqual([]);
      expect(await inbox('carol')).toEqual([id]);
    });

    it('a policy that excludes an unknown group does not load', () => {
      expect(() => buildBridge(db, policiesWith(TWO_LEVELS('{ excluded: [group:nobody] }')))).toThrow(/segregation.*excluded.*unknown group "nobody"/s);
    });
  });

  describe("the deadline people see is the earliest of the policy's and Airflow's response_timeout", () => {
    const TIMED = (deadline: string) => `  - name: timed
${deadline}    levels:
      - { name: stewards, approvers: [group:stewards], rule: any }
`;

    it.each([
      ['no policy deadline: Airflow’s timeout', '', '2026-11-26T10:00:00+00:00', '2026-11-26T10:00:00.000Z'],
      ['Airflow’s timeout first', '    deadline: { after: 2d, action: reject }\n', '2026-11-26T10:00:00+00:00', '2026-11-26T10:00:00.000Z'],
      ['the policy first', '    deadline: { after: 1h, action: reject }\n', '2026-11-26T10:00:00Z', '2026-11-25T11:00:00.000Z'],
      ['no timeout: the policy’s', '    deadline: { after: 1h, action: reject }\n', null, '2026-11-25T11:00:00.000Z'],
    ])('%s', async (_name, deadline, timeout_at, due_at) => {
      const id = await start(TIMED(deadline), { timeout_at });
      expect(await view(id)).toMatchObject({ due_at, timeout_at: timeout_at === null ? null : new Date(timeout_at).toISOString() });
    });

    it('the Airflow side sends the timeout with its offset; the bridge keeps it in UTC', async () => {
      bridge = buildBridge(db, policiesWith(TIMED('')));
      const { run_id, dag_id, task_id, map_index, try_number, subject, options } = request1;
      airflowServer.use(...airflowKnows({ dag_id, run_id, task_id }));
      const res = await request(bridge.app)
        .post('/api/v1/approvals')
        .set('Authorization', `Bearer ${SERVICE_TOKEN}`)
        .send({ dag_id, run_id, task_id, map_index, try_number, subject, options, timeout_at: '2026-11-26T11:00:00+01:00' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ timeout_at: '2026-11-26T10:00:00.000Z', due_at: '2026-11-26T10:00:00.000Z' });
    });

    it('a push after the reconcile loop registered the task try adds Airflow’s timeout', async () => {
      bridge = buildBridge(db, policiesWith(TIMED('    deadline: { after: 2d, action: reject }\n')));
      const { id } = await bridge.service.register({ ...request1, requester: null, tags: [], timeout_at: null }, 'reconcile');
      const { run_id, dag_id, task_id, map_index, try_number, subject, options } = request1;
      airflowServer.use(...airflowKnows({ dag_id, run_id, task_id }));
      const res = await request(bridge.app)
        .post('/api/v1/approvals')
        .set('Authorization', `Bearer ${SERVICE_TOKEN}`)
        .send({ dag_id, run_id, task_id, map_index, try_number, subject, options, timeout_at: '2026-11-26T10:00:00Z' });
      expect(res.body).toMatchObject({ id });
      expect(await view(id)).toMatchObject({ timeout_at: '2026-11-26T10:00:00.000Z', due_at: '2026-11-26T10:00:00.000Z' });
    });

    it('the policy’s deadline action still fires at the policy’s time, not at Airflow’s timeout', async () => {
      const id = await start(TIMED('    deadline: { after: 1h, action: reject }\n'), { timeout_at: '2026-11-25T10:30:00.000Z' });
      const approval = await bridge.store.get(id);
      expect(approval).toMatchObject({ due_at: '2026-11-25T10:30:00.000Z', policy_due_at: '2026-11-25T11:00:00.000Z' });
    });
  });
  describe('a quorum that cannot be met', () => {
    const PAIR = `  - name: pair
    levels:
      - { name: first, approvers: [group:level1], rule: any }
      - { name: both, approvers: [group:level1, group:level2], rule: { n_of: 3 } }
`;

    it('is registered all the same, with warnings in the audit entry and on the approval until escalation or the file makes it reachable', async () => {
      const id = await start(PAIR);
      const warning = 'level "both": "both" needs 3 of alice, bob';
      const registered = (await bridge.trail.list({ limit: 10 })).items.find((e) => e.action === 'approval.registered');
      expect(registered?.details).toMatchObject({ policy: 'pair', warnings: [warning] });
      expect(await view(id)).toMatchObject({ state: 'pending', policy_error: null, warnings: [warning] });
      expect((await vote('alice', id, { option: 'Approve' })).body).toMatchObject({ level: 2, warnings: [warning] });
      bridge.setPolicies(policiesWith(PAIR.replace('n_of: 3', 'n_of: 2')));
      expect((await view(id)).warnings).toEqual([]);
    });

    it('a reachable one has none, and the audit entry says nothing of them', async () => {
      const id = await start(PAIR.replace('n_of: 3', 'n_of: 1'));
      expect((await view(id)).warnings).toEqual([]);
      const registered = (await bridge.trail.list({ limit: 10 })).items.find((e) => e.action === 'approval.registered');
      expect(registered?.details).not.toHaveProperty('warnings');
    });
  });
});
