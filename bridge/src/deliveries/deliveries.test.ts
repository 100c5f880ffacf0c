import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseChannels } from '../channels/config.js';
import { channelBridge, request as approvalRequest } from '../testing/channel-bridge.js';
import { type OutgoingMessage, PermanentDeliveryError } from '../channels/types.js';
import { createMetrics } from '../metrics/registry.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';

const POLICIES = `version: 1
groups:
  stewards: [alice, bob, requester]
policies:
  - name: two-levels
    levels:
      - { name: stewards, approvers: [group:stewards, role:op], rule: any }
      - { name: lead, approvers: [user:dave], rule: any }
`;

const CHANNELS = parseChannels(`version: 1
people:
  alice: { email: alice@example.test }
  dave: { email: dave@example.test }
  requester: { email: requester@example.test }
default: { channels: [email], fallback: messages }
delivery: { max_attempts: 3, backoff_ms: 1000 }
`);

/** An email channel that fails while `down` and records what it sent. */
class FlakyEmail {
  down = false;
  sent: OutgoingMessage[] = [];
  async send(message: OutgoingMessage) {
    if (message.address === 'bounce@example.test') throw new PermanentDeliveryError('mailbox does not exist');
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:25');
    this.sent.push(message);
  }
}

describe.each(databases)('notifications and deliveries on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let email: FlakyEmail;
  let bridge: ReturnType<typeof channelBridge>;
  let token: string;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    email = new FlakyEmail();
    bridge = channelBridge(db, { policies: POLICIES, config: CHANNELS, senders: { email } });
    token = await tokenFor('erin');
  });
  afterEach(async () => {
    await bridge.channels.stop();
    await drop();
  });

  const messages = (query = '', path = '/api/v1/messages') => request(bridge.app).get(`${path}${query}`).set('Authorization', `Bearer ${token}`);
  const register = async () => {
    const approval = await bridge.service.register(approvalRequest, 'test');
    await bridge.settle();
    return approval;
  };

  it('asks each approver of the open level, by name or by role, and never the requester who may not approve', async () => {
    const { id } = await register();
    const res = await messages(`?approval_id=${id}`);
    expect(res.status).toBe(200);
    const byRecipient = Object.fromEntries(res.body.items.map((m: { recipient: string }) => [m.recipient, m]));
    expect(Object.keys(byRecipient).sort()).toEqual(['alice', 'bob', 'role:op']);
    expect(byRecipient.alice).toMatchObject({ kind: 'request', subject: 'Approval needed: Load the report?' });
    expect(byRecipient.alice.text).toContain('Options: Approve, Reject');
    // alice has an email address: sent there too; bob has none: the email delivery failed and fell back.
    expect(byRecipient.alice.deliveries.map((d: { channel: string; state: string }) => [d.channel, d.state])).toEqual([
      ['messages', 'sent'],
      ['email', 'sent'],
    ]);
    expect(byRecipient.bob.deliveries).toMatchObject([
      { channel: 'messages', state: 'sent' },
      { channel: 'email', state: 'failed', last_error: 'no email address for bob' },
      { channel: 'messages', state: 'sent', fallback_of: byRecipient.bob.deliveries[1].id },
    ]);
    // A role is reached through `messages` only: nobody to email.
    expect(byRecipient['role:op'].deliveries).toMatchObject([{ channel: 'messages', state: 'sent' }]);
    expect(email.sent.map((m) => m.address)).toEqual(['alice@example.test']);
    expect(email.sent[0]!.approval.id).toBe(id);
  });

  it('notifies once per event even when the listener and the sweep both plan the level', async () => {
    const { id } = await register();
    await bridge.channels.timers.schedule(await bridge.service.get(id));
    await bridge.settle();
    const res = await messages(`?approval_id=${id}&recipient=alice`);
    expect(res.body.items).toHaveLength(1);
  });

  it('tells the next level when one opens, and the requester when it is decided', async () => {
    const { id } = await register();
    await bridge.service.vote(id, { user: 'alice', role: 'user' }, { option: 'Approve' }, { channel: 'ui', idempotencyKey: null });
    await bridge.settle();
    expect((await messages(`?approval_id=${id}&recipient=dave`)).body.items).toMatchObject([{ kind: 'request' }]);
    await bridge.service.vote(id, { user: 'dave', role: 'user' }, { option: 'Approve' }, { channel: 'ui', idempotencyKey: null });
    await bridge.settle();
    const decided = (await messages(`?approval_id=${id}&recipient=requester`)).body.items;
    expect(decided).toMatchObject([{ kind: 'decided', subject: 'Approved: Load the report?' }]);
    expect(decided[0].text).toContain('Approve by dave via ui');
    expect(email.sent.map((m) => [m.address, m.notification.kind])).toContainEqual(['requester@example.test', 'decided']);
  });

  it('retries a failing channel with backoff, then marks it failed, hands it to the fallback and audits it', async () => {
    email.down = true;
    const { id } = await register();
    const failedFor = async () =>
      (await request(bridge.app).get(`/api/v1/deliveries?state=failed&channel=email&approval_id=${id}`).set('Authorization', `Bearer ${token}`)).body.items
        .filter((d: { recipient: string }) => d.recipient === 'alice');
    const aliceEmail = async () => db.selectFrom('delivery').innerJoin('notification', 'notification.id', 'delivery.notification_id').selectAll('delivery').where('recipient', '=', 'alice').where('channel', '=', 'email').executeTakeFirstOrThrow();
    expect(await aliceEmail()).toMatchObject({ state: 'queued', attempts: 1, next_attempt_at: '2026-11-25T10:00:01.000Z' });
    // Not due yet: nothing happens.
    await bridge.channels.deliveries.kick();
    expect((await aliceEmail()).attempts).toBe(1);
    bridge.clock.advance(1000);
    await bridge.channels.deliveries.kick();
    expect(await aliceEmail()).toMatchObject({ state: 'queued', attempts: 2, next_attempt_at: '2026-11-25T10:00:03.000Z' });
    bridge.clock.advance(2000);
    await bridge.channels.deliveries.kick();
    expect(await aliceEmail()).toMatchObject({ state: 'failed', attempts: 3, last_error: 'connect ECONNREFUSED 127.0.0.1:25' });
    expect(await failedFor()).toMatchObject([{ channel: 'email', address: null, attempts: 3 }]);
    const fallback = await db.selectFrom('delivery').selectAll().where('fallback_of', '=', (await aliceEmail()).id).executeTakeFirstOrThrow();
    expect(fallback).toMatchObject({ channel: 'messages', state: 'sent' });
    const audit = await db.selectFrom('audit_entry').selectAll().where('action', '=', 'delivery.failed').where('approval_id', '=', id).execute();
    expect(audit.map((a) => JSON.parse(a.details))).toContainEqual(expect.objectContaining({ recipient: 'alice', attempts: 3, fallback: { channel: 'messages', delivery: fallback.id } }));
    // Nothing is sent twice, nothing more is tried.
    email.down = false;
    bridge.clock.advance(60_000);
    await bridge.channels.deliveries.kick();
    expect(email.sent).toEqual([]);
  });

  it('gives up at once when the channel refuses the message itself', async () => {
    const config = parseChannels(`version: 1
people: { alice: { email: bounce@example.test } }
default: { channels: [email] }
`);
    await bridge.channels.stop();
    bridge = channelBridge(db, { policies: POLICIES, config, senders: { email } });
    await register();
    const row = await db.selectFrom('delivery').selectAll().where('address', '=', 'bounce@example.test').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'failed', attempts: 1, last_error: 'mailbox does not exist' });
  });

  it('fails a delivery on a channel this bridge has not enabled, visibly', async () => {
    await bridge.channels.stop();
    bridge = channelBridge(db, { policies: POLICIES, config: CHANNELS, senders: {} });
    await register();
    const failed = (await request(bridge.app).get('/api/v1/deliveries?state=failed').set('Authorization', `Bearer ${token}`)).body.items;
    expect(failed.map((d: { last_error: string }) => d.last_error)).toContain('channel email is not enabled on this bridge');
  });

  it('counts queued and failed deliveries for Prometheus', async () => {
    email.down = true;
    await register();
    const metrics = createMetrics({ pendingApprovals: async () => 0, bypassedApprovals: async () => 0, effects: async () => ({ pending: 0, failed: 0 }) });
    bridge.channels.registerMetrics(metrics.registry);
    const text = await metrics.registry.metrics();
    expect(text).toContain('airgate_deliveries{state="queued"} 1');
    expect(text).toContain('airgate_deliveries{state="failed"} 1');
  });

  it('pages the messages newest first and filters by delivery state and channel', async () => {
    const { id } = await register();
    const first = await messages('?limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await messages(`?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    expect(new Set([...first.body.items, ...second.body.items].map((m: { id: string }) => m.id)).size).toBe(3);
    const failed = await messages(`?approval_id=${id}&state=failed&channel=email`);
    expect(failed.body.items.map((m: { recipient: string }) => m.recipient)).toEqual(['bob']);
    expect((await messages('?state=bogus')).status).toBe(400);
  });

  it('answers the deprecated /api/v1/outbox and channel=outbox exactly as /api/v1/messages and channel=messages', async () => {
    const { id } = await register();
    const current = await messages(`?approval_id=${id}`);
    const deprecated = await messages(`?approval_id=${id}`, '/api/v1/outbox');
    expect(deprecated.status).toBe(200);
    expect(current.body.items.length).toBeGreaterThan(0);
    expect(deprecated.body).toEqual(current.body);
    // So is `outbox`, the former name of the `messages` channel, in a filter.
    const onMessages = await messages(`?approval_id=${id}&channel=messages`);
    expect(onMessages.body.items.length).toBeGreaterThan(0);
    expect((await messages(`?approval_id=${id}&channel=outbox`)).body).toEqual(onMessages.body);
  });

  it('shows addresses, bearer secrets, to admins only', async () => {
    await register();
    const as = async (user: string, role: string) =>
      (await request(bridge.app).get('/api/v1/deliveries?channel=email').set('Authorization', `Bearer ${await tokenFor(user, { role })}`)).body.items as Array<{ address: string | null }>;
    expect((await as('admin', 'admin')).map((d) => d.address)).toContain('alice@example.test');
    const seen = await as('erin', 'user');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.map((d) => d.address)).toEqual(seen.map(() => null));
  });

  it("lists messages, deliveries and escalations of DAGs Airflow lets the person read, and no other DAG's", async () => {
    const { id } = await register();
    const other = await bridge.service.register({ ...approvalRequest, dag_id: 'dag_hidden', run_id: 'hidden__1' }, 'test');
    await bridge.settle();
    bridge.airflowPermissions.hide('erin', 'dag_hidden');
    const approvalsIn = (items: Array<{ approval_id: string }>) => [...new Set(items.map((i) => i.approval_id))];
    expect(approvalsIn((await messages('?limit=500')).body.items)).toEqual([id]);
    expect((await messages(`?approval_id=${other.id}`)).body.items).toEqual([]);
    const deliveries = await request(bridge.app).get('/api/v1/deliveries?limit=500').set('Authorization', `Bearer ${token}`);
    expect(approvalsIn(deliveries.body.items)).toEqual([id]);
    const escalations = await request(bridge.app).get(`/api/v1/approvals/${other.id}/escalations`).set('Authorization', `Bearer ${token}`);
    expect(escalations.status).toBe(404);
    // An admin reads both.
    const admin = await tokenFor('admin', { role: 'admin' });
    const all = await request(bridge.app).get('/api/v1/messages?limit=500').set('Authorization', `Bearer ${admin}`);
    expect(approvalsIn(all.body.items).sort()).toEqual([id, other.id].sort());
  });

  it('401 without a person token', async () => {
    for (const path of ['/api/v1/messages', '/api/v1/outbox', '/api/v1/deliveries', '/api/v1/approvals/x/escalations']) {
      const res = await request(bridge.app).get(path);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });
});
