import { http, HttpResponse } from 'msw';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { databases } from '../../testing/databases.js';
import { airflowServer } from '../../testing/fake-airflow.js';
import { parseChannels } from '../config.js';
import { channelBridge, request as approvalRequest } from '../../testing/channel-bridge.js';
import { slackSignature } from './interactions.js';

const SLACK = 'http://slack.test/api/';
const ENV = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'slack-signing-secret-0123456789' };
const POLICIES = `version: 1
policies:
  - name: stewards
    reason: on_reject
    levels:
      - { name: stewards, approvers: [user:alice, user:bob], rule: any }
`;
const CHANNELS = parseChannels(
  `version: 1
people:
  alice: { slack: U_ALICE }
  bob: { email: bob@example.test }
  mallory: { slack: U_MALLORY }
default: { channels: [slack] }
slack: { bot_token_env: SLACK_BOT_TOKEN, signing_secret_env: SLACK_SIGNING_SECRET }
`,
  'channels.yaml',
  ENV,
);
const NOW_S = String(Date.parse('2026-11-25T10:00:00Z') / 1000);

describe.each(databases)('Slack on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof channelBridge>;
  let id: string;
  let calls: { method: string; args: Record<string, string> }[];

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    calls = [];
    airflowServer.use(
      http.post(`${SLACK}:method`, async ({ request: req, params }) => {
        const args = Object.fromEntries(new URLSearchParams(await req.text()));
        calls.push({ method: String(params.method), args });
        if (params.method === 'users.info') {
          const email = args.user === 'U_BOB' ? 'Bob@Example.test' : 'stranger@example.test';
          return HttpResponse.json({ ok: true, user: { id: args.user, profile: { email } } });
        }
        return HttpResponse.json({ ok: true, channel: args.channel, ts: '1700000000.000100' });
      }),
    );
    bridge = channelBridge(db, { policies: POLICIES, config: CHANNELS, env: ENV, slackApiUrl: SLACK });
    id = (await bridge.service.register(approvalRequest, 'test')).id;
    await bridge.settle();
  });
  afterEach(async () => {
    await bridge.channels.stop();
    await drop();
  });

  const interact = (payload: unknown, o: { timestamp?: string; secret?: string } = {}) => {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = o.timestamp ?? NOW_S;
    return request(bridge.app)
      .post('/channels/slack/interactions')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('X-Slack-Request-Timestamp', timestamp)
      .set('X-Slack-Signature', slackSignature(o.secret ?? ENV.SLACK_SIGNING_SECRET, timestamp, body))
      .send(body);
  };
  const click = (user: string, option: string, trigger = `trig-${user}-${option}`) => ({
    type: 'block_actions',
    user: { id: user },
    trigger_id: trigger,
    container: { channel_id: 'D_DM', message_ts: '1700000000.000100' },
    actions: [{ action_id: 'vote_0', value: JSON.stringify({ a: id, o: option }) }],
  });
  const submit = (user: string, reason: string | null, option = 'Reject') => ({
    type: 'view_submission',
    user: { id: user },
    view: {
      id: `V-${user}`,
      callback_id: 'airgate_reason',
      private_metadata: JSON.stringify({ a: id, o: option, c: 'D_DM', t: '1700000000.000100' }),
      state: { values: { reason: { reason: { value: reason } } } },
    },
  });
  const called = (method: string) => calls.filter((c) => c.method === method);

  it('DMs each mapped approver a Block Kit message with a button per option', async () => {
    const posts = called('chat.postMessage');
    expect(posts.map((p) => p.args.channel)).toEqual(['U_ALICE']);
    expect(posts[0]!.args.text).toBe('Approval needed: Load the report?');
    const blocks = JSON.parse(posts[0]!.args.blocks!);
    expect(blocks[1].elements.map((b: { text: { text: string }; value: string }) => [b.text.text, JSON.parse(b.value)])).toEqual([
      ['Approve', { a: id, o: 'Approve' }],
      ['Reject', { a: id, o: 'Reject' }],
    ]);
    // bob has no Slack id: that delivery failed visibly and fell back to `messages`.
    const bobs = await db.selectFrom('delivery').innerJoin('notification', 'notification.id', 'delivery.notification_id').select(['channel', 'state', 'last_error']).where('recipient', '=', 'bob').orderBy('delivery.id').execute();
    expect(bobs).toEqual([
      { channel: 'messages', state: 'sent', last_error: null },
      { channel: 'slack', state: 'failed', last_error: 'no slack address for bob' },
      { channel: 'messages', state: 'sent', last_error: null },
    ]);
  });

  it('an approve button decides as the mapped user and updates the message with who decided', async () => {
    const res = await interact(click('U_ALICE', 'Approve'));
    expect(res.status).toBe(200);
    expect(await bridge.service.get(id)).toMatchObject({ state: 'approved', votes: [{ user: 'alice', option: 'Approve', channel: 'slack' }] });
    const update = called('chat.update')[0]!;
    expect(update.args).toMatchObject({ channel: 'D_DM', ts: '1700000000.000100' });
    expect(update.args.blocks).toContain('Approve by alice via Slack · the approval is approved');
    // A replay of the same signed request (inside the window) is the same interaction: no second vote.
    expect((await interact(click('U_ALICE', 'Approve'))).status).toBe(200);
    expect((await bridge.service.get(id)).votes).toHaveLength(1);
  });

  it('a reject opens a modal for the reason; submitting without one keeps it open, with one decides', async () => {
    await interact(click('U_ALICE', 'Reject'));
    const opened = called('views.open');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.args.trigger_id).toBe('trig-U_ALICE-Reject');
    expect(JSON.parse(opened[0]!.args.view!)).toMatchObject({ callback_id: 'airgate_reason', blocks: [{ block_id: 'reason', optional: false }] });
    expect((await bridge.service.get(id)).votes).toEqual([]);
    const empty = await interact(submit('U_ALICE', null));
    expect(empty.body).toEqual({ response_action: 'errors', errors: { reason: 'a reason is required to reject' } });
    const ok = await interact(submit('U_ALICE', 'wrong numbers'));
    expect(ok.status).toBe(200);
    expect(await bridge.service.get(id)).toMatchObject({ state: 'rejected', votes: [{ user: 'alice', reason: 'wrong numbers', channel: 'slack' }] });
    expect(called('chat.update')[0]!.args.blocks).toContain('Reject by alice via Slack');
  });

  it('maps a Slack user without a configured id by their profile email', async () => {
    await interact(click('U_BOB', 'Approve'));
    expect(called('users.info').map((c) => c.args.user)).toEqual(['U_BOB']);
    expect((await bridge.service.get(id)).votes).toMatchObject([{ user: 'bob', channel: 'slack' }]);
  });

  it('an unmapped Slack user or a mapped non-approver is told privately and decides nothing', async () => {
    await interact(click('U_STRANGER', 'Approve'));
    await interact(click('U_MALLORY', 'Approve'));
    expect(called('chat.postEphemeral').map((c) => [c.args.user, c.args.text])).toEqual([
      ['U_STRANGER', 'Your Slack account is not linked to an Airflow user, so it cannot decide approvals.'],
      ['U_MALLORY', 'Not recorded: mallory is not an approver at level "stewards"'],
    ]);
    expect((await bridge.service.get(id)).votes).toEqual([]);
    const audit = await db.selectFrom('audit_entry').select(['action', 'details']).where('action', 'in', ['slack.refused', 'vote.refused']).orderBy('seq').execute();
    expect(audit.map((a) => [a.action, JSON.parse(a.details).why ?? JSON.parse(a.details).code])).toEqual([
      ['slack.refused', 'unmapped_user'],
      ['vote.refused', 'not_eligible'],
    ]);
  });

  it('401 for a bad signature or a stale timestamp, with nothing decided', async () => {
    expect((await interact(click('U_ALICE', 'Approve'), { secret: 'not-the-signing-secret' })).status).toBe(401);
    expect((await interact(click('U_ALICE', 'Approve'), { timestamp: String(Number(NOW_S) - 301) })).status).toBe(401);
    const body = new URLSearchParams({ payload: JSON.stringify(click('U_ALICE', 'Approve')) }).toString();
    const tampered = await request(bridge.app)
      .post('/channels/slack/interactions')
      .set('X-Slack-Request-Timestamp', NOW_S)
      .set('X-Slack-Signature', slackSignature(ENV.SLACK_SIGNING_SECRET, NOW_S, body))
      .send(body.replace('U_ALICE', 'U_BOB'));
    expect(tampered.status).toBe(401);
    expect((await bridge.service.get(id)).votes).toEqual([]);
    expect(called('chat.update')).toEqual([]);
  });
});
