import { SignJWT, decodeJwt } from 'jose';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { databases } from '../../testing/databases.js';
import { channelBridge, request as approvalRequest } from '../../testing/channel-bridge.js';

const POLICIES = `version: 1
groups:
  stewards: [alice, bob, requester]
policies:
  - name: stewards
    deadline: { after: 2h, action: reject }
    levels:
      - { name: stewards, approvers: [group:stewards], rule: any }
`;

const pathOf = (url: string) => new URL(url).pathname;

describe.each(databases)('one-click links on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof channelBridge>;
  let id: string;

  const register = async (overrides: Partial<typeof approvalRequest> = {}) => (await bridge.service.register({ ...approvalRequest, ...overrides }, 'test')).id;
  const linksFor = async (user: string, approvalId = id) => {
    const links = await bridge.channels.links!.forMessage(await bridge.service.get(approvalId), user, 'email');
    return Object.fromEntries(links.map((l) => [l.option, pathOf(l.url)]));
  };
  const refusals = async () =>
    (await db.selectFrom('audit_entry').selectAll().where('action', '=', 'link.refused').orderBy('seq').execute()).map((e) => ({ actor: e.actor, ...JSON.parse(e.details) }));

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    bridge = channelBridge(db, { policies: POLICIES });
    id = await register();
  });
  afterEach(async () => {
    await bridge.channels.stop();
    await drop();
  });

  it('GET shows a confirmation page and decides nothing, however often a scanner follows it', async () => {
    const { Approve } = await linksFor('alice');
    for (let i = 0; i < 3; i++) {
      const res = await request(bridge.app).get(Approve!);
      expect(res.status).toBe(200);
      expect(res.type).toBe('text/html');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toContain('Load the report?');
      expect(res.text).toContain('Confirm: Approve');
      expect(res.text).toContain('<strong>alice</strong>');
      expect(res.text).toContain('<form method="post">');
    }
    const approval = await bridge.service.get(id);
    expect(approval).toMatchObject({ state: 'pending', votes: [] });
  });

  it('POST decides as the bound approver on the email channel, once', async () => {
    const { Approve, Reject } = await linksFor('alice');
    const res = await request(bridge.app).post(Approve!).type('form').send({ reason: 'looks right' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Approve by alice is recorded. The approval is now approved.');
    expect(await bridge.service.get(id)).toMatchObject({ state: 'approved', votes: [{ user: 'alice', option: 'Approve', reason: 'looks right', channel: 'email' }] });
    // Used: this link and its sibling from the same message.
    for (const path of [Approve!, Reject!]) {
      expect((await request(bridge.app).get(path)).status).toBe(410);
      expect((await request(bridge.app).post(path).type('form').send({ reason: 'x' })).status).toBe(410);
    }
    expect((await refusals()).map((r) => [r.actor, r.why, r.status])).toEqual(Array(4).fill(['alice', 'used', 410]));
  });

  it('a required reason is asked for on the page and enforced on POST, leaving the link usable', async () => {
    const { Reject } = await linksFor('alice');
    const page = await request(bridge.app).get(Reject!);
    expect(page.text).toMatch(/<textarea id="reason" name="reason"[^>]* required>/);
    const missing = await request(bridge.app).post(Reject!).type('form').send({ reason: '  ' });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('a reason is required to reject');
    const ok = await request(bridge.app).post(Reject!).type('form').send({ reason: 'numbers are off' });
    expect(ok.status).toBe(200);
    expect((await bridge.service.get(id)).state).toBe('rejected');
  });

  it('without a channel that sends links, /a/* is not served at all (404) and nothing changes', async () => {
    const token = (await linksFor('alice')).Approve!;
    await bridge.settle();
    const auditBefore = (await db.selectFrom('audit_entry').select('seq').execute()).length;
    await bridge.channels.stop();
    bridge = channelBridge(db, { policies: POLICIES, linkSecret: null });
    expect(bridge.channels.links).toBeNull();
    expect((await request(bridge.app).get(token)).status).toBe(404);
    expect((await request(bridge.app).post(token).type('form').send({})).status).toBe(404);
    expect(await bridge.service.get(id)).toMatchObject({ state: 'pending', votes: [] });
    expect((await db.selectFrom('audit_entry').select('seq').execute()).length).toBe(auditBefore);
  });

  it('401 for a forged link: another key, a tampered claim, garbage', async () => {
    const { Approve } = await linksFor('alice');
    const token = Approve!.slice('/a/'.length);
    const claims = decodeJwt(token);
    const otherKey = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('not-the-bridge-secret-0123456789abcdef'));
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'bob' })).toString('base64url')}.${signature}`;
    for (const forged of [otherKey, tampered, 'not-a-token']) {
      const get = await request(bridge.app).get(`/a/${forged}`);
      expect(get.status).toBe(401);
      expect(get.text).toContain('This link is not valid');
      expect((await request(bridge.app).post(`/a/${forged}`).type('form').send({})).status).toBe(401);
    }
    expect((await bridge.service.get(id)).votes).toEqual([]);
    expect((await refusals()).every((r) => r.why === 'forged' && r.actor === 'anonymous')).toBe(true);
  });

  it('410 once expired: after 24 hours, or at the approval deadline when that is sooner', async () => {
    const { Approve } = await linksFor('alice');
    expect(decodeJwt(Approve!.slice(3)).exp).toBe(Date.parse('2026-11-25T12:00:00Z') / 1000);
    bridge.clock.set('2026-11-25T12:00:01Z');
    const res = await request(bridge.app).post(Approve!).type('form').send({});
    expect(res.status).toBe(410);
    expect(res.text).toContain('This link has expired');
    expect(await refusals()).toMatchObject([{ actor: 'alice', why: 'expired', status: 410 }]);
    expect((await db.selectFrom('audit_entry').select('approval_id').where('action', '=', 'link.refused').executeTakeFirstOrThrow()).approval_id).toBe(id);
    const undated = await register({ run_id: 'manual__2' });
    await db.updateTable('approval').set({ due_at: null }).where('id', '=', undated).execute();
    bridge.clock.set('2026-11-25T10:00:00Z');
    const links = await linksFor('alice', undated);
    expect(decodeJwt(links.Approve!.slice(3)).exp).toBe(Date.parse('2026-11-26T10:00:00Z') / 1000);
  });

  it('403 when the bound person is not, or no longer, an approver; the requester may not approve', async () => {
    const mallory = await linksFor('mallory');
    const self = await linksFor('requester');
    for (const path of [mallory.Approve!, self.Approve!]) {
      expect((await request(bridge.app).get(path)).status).toBe(403);
      const res = await request(bridge.app).post(path).type('form').send({});
      expect(res.status).toBe(403);
      expect(res.text).toContain('may not decide this approval');
    }
    expect((await bridge.service.get(id)).votes).toEqual([]);
    expect((await refusals()).map((r) => [r.actor, r.why])).toEqual([
      ['mallory', 'not_eligible'],
      ['mallory', 'not_eligible'],
      ['requester', 'not_eligible'],
      ['requester', 'not_eligible'],
    ]);
  });

  it('409 once someone else decided', async () => {
    const { Approve } = await linksFor('alice');
    await bridge.service.vote(id, { user: 'bob', role: 'user' }, { option: 'Approve' }, { channel: 'ui', idempotencyKey: null });
    const res = await request(bridge.app).get(Approve!);
    expect(res.status).toBe(409);
    expect(res.text).toContain('already approved');
  });

  it('shows the request form and sends typed values, refusing ones that fail its schema', async () => {
    const formId = await register({
      run_id: 'manual__form',
      params: { rows: { value: 10, schema: { type: 'integer', minimum: 1 }, description: 'Rows to load' }, note: { value: 'n/a', schema: { type: 'string' } } },
    });
    const { Approve } = await linksFor('alice', formId);
    const page = await request(bridge.app).get(Approve!);
    expect(page.text).toContain('name="params.rows" value="10"');
    expect(page.text).toContain('Rows to load');
    const bad = await request(bridge.app).post(Approve!).type('form').send({ 'params.rows': '0', 'params.note': 'x' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('rows must be &gt;= 1');
    const ok = await request(bridge.app).post(Approve!).type('form').send({ 'params.rows': '25', 'params.note': 'checked' });
    expect(ok.status).toBe(200);
    expect((await bridge.service.get(formId)).outcome).toEqual({ option: 'Approve', params_input: { rows: 25, note: 'checked' } });
  });
});
