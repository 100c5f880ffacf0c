import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServices } from '../../services.js';
import type { Db } from '../../store/db.js';
import { databases } from '../../testing/databases.js';
import { fakeAuthentication, silentLog, tokenFor } from '../../testing/fake-airflow.js';
import { ANYONE_ELSE, policiesWith, request1, testConfig } from '../../testing/harness.js';
import { parsePolicies } from '../load.js';

const FIRST = policiesWith(ANYONE_ELSE);
const STRICTER = policiesWith(`  - name: two-stewards
    levels:
      - { name: stewards, approvers: [group:stewards], rule: { n_of: 2 } }
`);

describe.each(databases)('four-eyes on policy changes on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof createServices>;
  let tokens: Record<'alice' | 'bob' | 'admin' | 'root', string>;

  const as = (who: keyof typeof tokens) => ({ Authorization: `Bearer ${tokens[who]}` });
  const propose = (who: keyof typeof tokens, text: string, reason: unknown = 'two people for every load') =>
    request(bridge.app).post('/api/v1/policies/changes').set(as(who)).send({ text, reason });
  const decide = (who: keyof typeof tokens, version: string, verb: 'approve' | 'reject', body: object = {}) =>
    request(bridge.app).post(`/api/v1/policies/changes/${version}/${verb}`).set(as(who)).send(body);
  const overview = async () => (await request(bridge.app).get('/api/v1/policies').set(as('alice'))).body;
  const auditActions = async () =>
    (await db.selectFrom('audit_entry').select('action').where('action', 'like', 'policy.%').orderBy('seq').execute()).map((r) => r.action);

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    const first = parsePolicies(FIRST);
    bridge = createServices(db, { current: () => first }, testConfig({ policyChanges: 'four-eyes', policiesPollMs: 60_000 }), silentLog, {
      authenticate: fakeAuthentication(db).authenticate,
      readiness: async () => ({ ok: true, status: 'ready' as const, details: {} }),
    });
    await bridge.start(3_600_000);
    tokens = {
      alice: await tokenFor('alice'),
      bob: await tokenFor('bob'),
      admin: await tokenFor('admin', { role: 'admin' }),
      root: await tokenFor('root', { role: 'admin' }),
    };
  });
  afterEach(async () => {
    await bridge.stop();
    await drop();
  });

  it('adopts the first text on a new store, audited, and shows it in force with nothing waiting', async () => {
    const { in_force, pending } = await overview();
    expect(in_force).toMatchObject({ version: parsePolicies(FIRST).version, state: 'approved', decided_by: 'system', base_version: null });
    expect(pending).toEqual([]);
    expect(await auditActions()).toEqual(['policy.adopted']);
  });

  it('a proposal waits with its diff; its author cannot approve it, another admin can, and it is in force at once', async () => {
    const before = parsePolicies(FIRST).version;
    const proposed = await propose('admin', STRICTER);
    expect(proposed.status).toBe(201);
    const version = proposed.body.version as string;
    expect(proposed.body).toMatchObject({ state: 'pending', proposed_by: 'admin', base_version: before, reason: 'two people for every load' });
    expect(proposed.body.diff).toContain('+  - name: two-stewards');
    expect(proposed.body.diff).toContain('-  - name: anyone-else');
    // Until approved, decisions are made under the version in force.
    expect(bridge.service.withProgress((await bridge.service.register(request1, 'push'))).policy).toBe('anyone-else');

    const self = await decide('admin', version, 'approve');
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('four_eyes');
    const notAdmin = await decide('alice', version, 'approve');
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.code).toBe('not_admin');
    expect((await overview()).in_force.version).toBe(before);
    expect((await overview()).pending.map((p: { version: string }) => p.version)).toEqual([version]);

    const approved = await decide('root', version, 'approve', { reason: 'reviewed the diff' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: 'approved', decided_by: 'root', decision_reason: 'reviewed the diff' });
    expect((await overview()).in_force.version).toBe(version);
    expect(bridge.service.withProgress(await bridge.service.register({ ...request1, run_id: 'manual__2' }, 'push')).policy).toBe('two-stewards');
    expect(await auditActions()).toEqual(['policy.adopted', 'policy.proposed', 'policy.refused', 'policy.refused', 'policy.approved']);

    const again = await decide('root', version, 'approve');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_decided');
  });

  it('anyone signed in may propose; a rejection needs a reason and leaves the version in force', async () => {
    const { body } = await propose('alice', STRICTER);
    const bare = await decide('admin', body.version, 'reject');
    expect(bare.status).toBe(422);
    expect(bare.body.error).toMatchObject({ code: 'reason_required', field: 'reason' });
    const rejected = await decide('admin', body.version, 'reject', { reason: 'n_of 2 would stall the night shift' });
    expect(rejected.body).toMatchObject({ state: 'rejected', decided_by: 'admin' });
    expect((await overview()).in_force.version).toBe(parsePolicies(FIRST).version);
    expect((await overview()).pending).toEqual([]);
  });

  it('refuses an invalid text naming the field and the line, a text already in force, and a body without a reason', async () => {
    const invalid = await propose('alice', `${STRICTER}      - { name: extra, approvers: [], rule: any }\n`);
    expect(invalid.status).toBe(422);
    expect(invalid.body.error).toMatchObject({ code: 'invalid_policies', field: 'text' });
    expect(invalid.body.error.message).toMatch(/:\d+:\d+: policies\[0\]\.levels\[1\]/);
    const same = await propose('alice', FIRST);
    expect(same.status).toBe(409);
    expect(same.body.error.code).toBe('already_in_force');
    const noReason = await propose('alice', STRICTER, null);
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe('reason');
    expect((await overview()).pending).toEqual([]);
    expect(await auditActions()).toEqual(['policy.adopted']);
  });

  it('a change proposed against a version no longer in force is stale: approving it would undo the other one', async () => {
    const first = await propose('alice', STRICTER);
    const other = await propose('bob', policiesWith(`  - name: anyone-at-all\n    levels:\n      - { name: approver, approvers: [role:user], rule: any }\n`));
    expect((await decide('admin', other.body.version, 'approve')).status).toBe(200);
    const stale = await decide('admin', first.body.version, 'approve');
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_change');
    expect((await overview()).in_force.version).toBe(other.body.version);
    expect((await request(bridge.app).get(`/api/v1/policies/changes/${first.body.version}`).set(as('alice'))).body.state).toBe('pending');
  });

  it('an edit of the watched file is proposed naming nobody, once; any admin may approve it', async () => {
    const proposed = await bridge.policyChanges!.proposeFile(STRICTER, '/etc/airgate/policies.yaml');
    expect(proposed).toMatchObject({ state: 'pending', proposed_by: null, source: '/etc/airgate/policies.yaml' });
    expect(await bridge.policyChanges!.proposeFile(STRICTER, '/etc/airgate/policies.yaml')).toBeUndefined();
    expect((await decide('admin', proposed!.version, 'approve')).status).toBe(200);
    const listed = await request(bridge.app).get('/api/v1/policies/changes?state=approved').set(as('alice'));
    expect(listed.body.items.map((v: { version: string }) => v.version)).toEqual([proposed!.version, parsePolicies(FIRST).version]);
  });

  it('another replica on the same store decides under the version approved here once it re-reads it', async () => {
    const replica = createServices(db, { current: () => parsePolicies(FIRST) }, testConfig({ policyChanges: 'four-eyes', policiesPollMs: 60_000 }), silentLog, {
      authenticate: fakeAuthentication(db).authenticate,
    });
    await replica.start(3_600_000);
    try {
      const { body } = await propose('alice', STRICTER);
      await decide('admin', body.version, 'approve');
      expect((await replica.policyChanges!.refresh()).version).toBe(body.version);
    } finally {
      await replica.stop();
    }
  });

  it('refuses a version that is no version (400 naming it) and an unknown one (404)', async () => {
    const bad = await decide('admin', 'latest', 'approve');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('version');
    const unknown = await decide('admin', '0123456789ab', 'approve');
    expect(unknown.status).toBe(404);
  });
});
