import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseChannels } from '../channels/config.js';
import type { OutgoingMessage } from '../channels/types.js';
import type { Db } from '../store/db.js';
import { channelBridge, request as approvalRequest } from '../testing/channel-bridge.js';
import { databases } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { SERVICE_TOKEN } from '../testing/harness.js';

const POLICIES = `version: 1
policies:
  - name: redundant
    levels:
      - { name: approver, approvers: [user:alice], rule: any }
`;

// Slack first, email when Slack gives up: two paths to alice besides the bridge's own messages.
const CHANNELS = parseChannels(`version: 1
people:
  alice: { email: alice@example.test, slack: U0ALICE }
policies:
  redundant: { channels: [slack], fallback: email }
delivery: { max_attempts: 2, backoff_ms: 1000 }
`);

class DownSlack {
  async send(_message: OutgoingMessage) {
    throw new Error('slack answered 503');
  }
}

describe.each(databases)("an approval's deliveries for the service token on $name", (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof channelBridge>;
  beforeEach(async () => {
    ({ db, drop } = await database.create());
    const email = { send: async (_message: OutgoingMessage) => undefined };
    bridge = channelBridge(db, { policies: POLICIES, config: CHANNELS, senders: { slack: new DownSlack(), email } });
  });
  afterEach(async () => {
    await bridge.channels.stop();
    await drop();
  });

  const path = (taskId = approvalRequest.task_id) =>
    `/api/v1/signals/deliveries?dag_id=${approvalRequest.dag_id}&run_id=${encodeURIComponent(approvalRequest.run_id)}&task_id=${taskId}`;

  it('lists every delivery oldest first, the failed channel and the fallback that took over, without addresses', async () => {
    const { id } = await bridge.service.register(approvalRequest, 'test');
    await bridge.settle();
    bridge.clock.advance(1000);
    await bridge.channels.deliveries.kick();
    await bridge.channels.deliveries.kick();

    const res = await request(bridge.app).get(path()).set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body.approval_id).toBe(id);
    const [messages, slack, email] = res.body.items;
    expect(res.body.items).toHaveLength(3);
    expect(messages).toMatchObject({ recipient: 'alice', channel: 'messages', state: 'sent', address: null });
    expect(slack).toMatchObject({ channel: 'slack', state: 'failed', attempts: 2, last_error: 'slack answered 503', address: null, fallback_of: null });
    expect(email).toMatchObject({ channel: 'email', state: 'sent', attempts: 1, address: null, fallback_of: slack.id, sent_at: '2026-11-25T10:00:01.000Z' });
  });

  it('is for the service token only, and names no approval it does not have', async () => {
    await bridge.service.register(approvalRequest, 'test');
    expect((await request(bridge.app).get(path()).set('Authorization', `Bearer ${await tokenFor('alice')}`)).status).toBe(401);
    expect((await request(bridge.app).get(path('other_task')).set('Authorization', `Bearer ${SERVICE_TOKEN}`)).status).toBe(404);
    expect((await request(bridge.app).get('/api/v1/signals/deliveries?dag_id=x').set('Authorization', `Bearer ${SERVICE_TOKEN}`)).status).toBe(400);
  });
});
