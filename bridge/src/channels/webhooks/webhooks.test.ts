import { http, HttpResponse } from 'msw';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { databases } from '../../testing/databases.js';
import { airflowServer } from '../../testing/fake-airflow.js';
import { parseChannels } from '../config.js';
import { channelBridge, request as approvalRequest } from '../../testing/channel-bridge.js';
import { webhookSignature } from './outbound.js';

const POLICIES = `version: 1
policies:
  - name: stewards
    levels:
      - { name: stewards, approvers: [user:alice, user:bob, role:op], rule: any }
`;
const ENV = { OUT_SECRET: 'outbound-secret-0123456789', OPS_SECRET: 'ops-portal-secret-0123456789' };
const CHANNELS_YAML = `version: 1
default: { channels: [webhook] }
delivery: { max_attempts: 2, backoff_ms: 1000 }
webhooks:
  outbound: { url: "http://hooks.test/airgate", secret_env: OUT_SECRET }
  inbound:
    ops: { secret_env: OPS_SECRET, users: [alice, mallory] }
`;
const CHANNELS = parseChannels(CHANNELS_YAML, 'channels.yaml', ENV);

describe('channels file', () => {
  it('refuses a webhook whose secret variable is not set', () => {
    expect(() => parseChannels(CHANNELS_YAML, 'channels.yaml', { OUT_SECRET: 'x' })).toThrow('channels.yaml: webhooks.inbound.ops.secret_env: environment variable OPS_SECRET is not set');
  });
});

describe.each(databases)('webhooks on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof channelBridge>;
  let id: string;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    bridge = channelBridge(db, { policies: POLICIES, config: CHANNELS, env: ENV });
    id = (await bridge.service.register(approvalRequest, 'test')).id;
  });
  afterEach(async () => {
    await bridge.channels.stop();
    await drop();
  });

  it('POSTs every message as JSON signed over timestamp, delivery id and raw body', async () => {
    const received: { body: string; headers: Headers }[] = [];
    airflowServer.use(
      http.post('http://hooks.test/airgate', async ({ request: req }) => {
        received.push({ body: await req.text(), headers: req.headers });
        return HttpResponse.json({ ok: true });
      }),
    );
    await bridge.settle();
    expect(received).toHaveLength(3);
    for (const { body, headers } of received) {
      const timestamp = headers.get('x-airgate-timestamp')!;
      expect(timestamp).toBe(String(Date.parse('2026-11-25T10:00:00Z') / 1000));
      expect(headers.get('x-airgate-signature')).toBe(webhookSignature(ENV.OUT_SECRET, timestamp, headers.get('x-airgate-delivery')!, body));
    }
    const bodies = received.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.message.recipient).sort()).toEqual(['alice', 'bob', 'role:op']);
    expect(bodies[0]).toMatchObject({ approval: { id, options: ['Approve', 'Reject'], state: 'pending' }, message: { kind: 'request' } });
    expect(received.map((r) => r.headers.get('x-airgate-delivery'))).toEqual(bodies.map((b) => String(b.delivery_id)));
  });

  it('retries a receiver that errors and gives up at once on one that refuses the request', async () => {
    let status = 503;
    airflowServer.use(http.post('http://hooks.test/airgate', () => new HttpResponse(null, { status })));
    await bridge.settle();
    const states = () => db.selectFrom('delivery').select(['state', 'attempts', 'last_error']).where('channel', '=', 'webhook').execute();
    expect(await states()).toEqual(Array(3).fill({ state: 'queued', attempts: 1, last_error: 'webhook answered 503' }));
    status = 400;
    bridge.clock.advance(1000);
    await bridge.channels.deliveries.kick();
    expect(await states()).toEqual(Array(3).fill({ state: 'failed', attempts: 2, last_error: 'webhook answered 400' }));
  });

  describe('inbound', () => {
    const NOW_S = Date.parse('2026-11-25T10:00:00Z') / 1000;
    const post = (body: unknown, o: { secret?: string; timestamp?: number; delivery?: string | null; source?: string } = {}) => {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const timestamp = String(o.timestamp ?? NOW_S);
      const delivery = o.delivery === null ? '' : (o.delivery ?? 'd-1');
      const req = request(bridge.app)
        .post(`/hooks/${o.source ?? 'ops'}`)
        .set('Content-Type', 'application/json')
        .set('X-Airgate-Timestamp', timestamp)
        .set('X-Airgate-Signature', webhookSignature(o.secret ?? ENV.OPS_SECRET, timestamp, delivery, raw));
      if (o.delivery !== null) req.set('X-Airgate-Delivery', delivery);
      return req.send(raw);
    };
    const refusals = async () => (await db.selectFrom('audit_entry').select('details').where('action', '=', 'hook.refused').orderBy('seq').execute()).map((e) => JSON.parse(e.details).why);

    it('a signed vote decides as the user the source vouches for, on channel webhook:ops', async () => {
      const res = await post({ approval_id: id, user: 'alice', option: 'Approve', reason: 'ticket OPS-1 closed' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, state: 'approved', votes: [{ user: 'alice', option: 'Approve', channel: 'webhook:ops', reason: 'ticket OPS-1 closed' }] });
    });

    it('a replayed delivery id gets the first answer and changes nothing', async () => {
      const first = await post({ approval_id: id, user: 'alice', option: 'Reject', reason: 'no' });
      expect(first.status).toBe(200);
      const replay = await post({ approval_id: id, user: 'alice', option: 'Reject', reason: 'no' });
      expect(replay.status).toBe(200);
      expect(replay.headers['x-airgate-replay']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect((await bridge.service.get(id)).votes).toHaveLength(1);
      expect(await db.selectFrom('audit_entry').select('seq').where('action', '=', 'hook.replayed').execute()).toHaveLength(1);
      // A refusal is remembered too: the same id does not get a second chance with another body.
      const refused = await post({ approval_id: id, user: 'bob', option: 'Approve' }, { delivery: 'd-2' });
      expect(refused.status).toBe(403);
      expect((await post({ approval_id: id, user: 'alice', option: 'Approve' }, { delivery: 'd-2' })).status).toBe(403);
    });

    it('401 for a bad signature or a timestamp more than 5 minutes off; 400 without a delivery id', async () => {
      const vote = { approval_id: id, user: 'alice', option: 'Approve' };
      expect((await post(vote, { secret: 'wrong-secret' })).status).toBe(401);
      expect((await post(vote, { timestamp: NOW_S - 301 })).status).toBe(401);
      expect((await post(vote, { timestamp: NOW_S + 301 })).status).toBe(401);
      expect((await post(vote, { timestamp: NOW_S - 299 })).status).toBe(200);
      const tampered = await request(bridge.app)
        .post('/hooks/ops')
        .set('Content-Type', 'application/json')
        .set('X-Airgate-Timestamp', String(NOW_S))
        .set('X-Airgate-Signature', webhookSignature(ENV.OPS_SECRET, String(NOW_S), 'd-9', JSON.stringify(vote)))
        .set('X-Airgate-Delivery', 'd-9')
        .send(JSON.stringify({ ...vote, user: 'mallory' }));
      expect(tampered.status).toBe(401);
      expect(await refusals()).toEqual(['bad_signature', 'stale_timestamp', 'stale_timestamp', 'bad_signature']);
      expect((await post(vote, { delivery: null })).status).toBe(400);
    });

    it('a captured request re-sent under a new delivery id is refused (401) and changes nothing', async () => {
      const raw = JSON.stringify({ approval_id: id, user: 'alice', option: 'Approve' });
      const timestamp = String(NOW_S);
      const captured = { 'Content-Type': 'application/json', 'X-Airgate-Timestamp': timestamp, 'X-Airgate-Signature': webhookSignature(ENV.OPS_SECRET, timestamp, 'd-1', raw) };
      await bridge.settle();
      const auditBefore = (await db.selectFrom('audit_entry').select('seq').execute()).length;
      const resent = await request(bridge.app).post('/hooks/ops').set(captured).set('X-Airgate-Delivery', 'd-replayed').send(raw);
      expect(resent.status).toBe(401);
      expect(resent.body.error.code).toBe('unauthorized');
      expect(await bridge.service.get(id)).toMatchObject({ state: 'pending', votes: [] });
      expect(await refusals()).toEqual(['bad_signature']);
      expect((await db.selectFrom('audit_entry').select('seq').execute()).length).toBe(auditBefore + 1);
      expect(await db.selectFrom('hook_delivery').selectAll().execute()).toEqual([]);
    });

    it('a source named like an Object.prototype member is unknown (4xx), even signed with an empty key', async () => {
      for (const source of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isprototypeof']) {
        const res = await post({ approval_id: id, user: 'alice', option: 'Approve' }, { source, secret: '', delivery: `d-${source}` });
        expect(res.status, source).toBeGreaterThanOrEqual(400);
        expect(res.status, source).toBeLessThan(500);
      }
      expect((await post({ approval_id: id, user: 'alice', option: 'Approve' }, { source: 'constructor', secret: '' })).status).toBe(404);
      expect(await bridge.service.get(id)).toMatchObject({ state: 'pending', votes: [] });
      expect(await db.selectFrom('hook_delivery').selectAll().execute()).toEqual([]);
    });

    it('403 for a user the source may not vote as, or one who is not an approver; 404 for an unknown source', async () => {
      const notMapped = await post({ approval_id: id, user: 'bob', option: 'Approve' });
      expect(notMapped.status).toBe(403);
      expect(notMapped.body.error.message).toBe('source ops may not vote as bob');
      const notApprover = await post({ approval_id: id, user: 'mallory', option: 'Approve' }, { delivery: 'd-3' });
      expect(notApprover.status).toBe(403);
      expect(notApprover.body.error.code).toBe('not_eligible');
      expect((await post({ approval_id: id, user: 'alice', option: 'Approve' }, { source: 'other', delivery: 'd-4' })).status).toBe(404);
      expect((await post('{not json', { delivery: 'd-5' })).status).toBe(400);
      expect((await bridge.service.get(id)).votes).toEqual([]);
    });
  });
});
