import { http, HttpResponse } from 'msw';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { databases } from '../../testing/databases.js';
import { airflowServer } from '../../testing/fake-airflow.js';
import { parseChannels } from '../config.js';
import { channelBridge, request as approvalRequest } from '../../testing/channel-bridge.js';

const POLICIES = `version: 1
policies:
  - name: stewards
    levels:
      - { name: stewards, approvers: [user:alice, user:bob], rule: any }
`;
const CHANNELS = parseChannels(`version: 1
people:
  alice: { teams: "http://teams.test/workflows/alice" }
  bob: { teams: "http://teams.test/workflows/gone" }
default: { channels: [teams] }
`);

describe.each(databases)('Teams on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof channelBridge>;
  let cards: { url: string; body: { attachments: { content: { actions: { type: string; title: string; url: string }[]; body: { text: string }[] } }[] } }[];

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    cards = [];
    airflowServer.use(
      http.post('http://teams.test/workflows/alice', async ({ request: req }) => {
        cards.push({ url: req.url, body: (await req.json()) as (typeof cards)[number]['body'] });
        return new HttpResponse(null, { status: 202 });
      }),
      http.post('http://teams.test/workflows/gone', () => new HttpResponse('Workflow not found', { status: 404 })),
    );
    bridge = channelBridge(db, { policies: POLICIES, config: CHANNELS });
  });
  afterEach(async () => {
    await bridge.channels.stop();
    await drop();
  });

  it('posts an Adaptive Card whose actions are one-click links; a decision through one is a Teams decision', async () => {
    const { id } = await bridge.service.register(approvalRequest, 'test');
    await bridge.settle();
    expect(cards).toHaveLength(1);
    const card = cards[0]!.body.attachments[0]!.content;
    expect(card.body[0]!.text).toBe('Approval needed: Load the report?');
    expect(card.actions.map((a) => [a.type, a.title])).toEqual([
      ['Action.OpenUrl', 'Approve'],
      ['Action.OpenUrl', 'Reject'],
    ]);
    const path = new URL(card.actions[0]!.url).pathname;
    expect((await request(bridge.app).get(path)).status).toBe(200);
    expect((await request(bridge.app).post(path).type('form').send({})).status).toBe(200);
    expect(await bridge.service.get(id)).toMatchObject({ state: 'approved', votes: [{ user: 'alice', channel: 'teams' }] });
    // The card to a removed workflow is recorded as failed for good and falls back to `messages`.
    const rows = await db.selectFrom('delivery').select(['address', 'state', 'last_error']).where('channel', '=', 'teams').where('address', '!=', '').orderBy('address').execute();
    expect(rows).toEqual([
      { address: 'http://teams.test/workflows/alice', state: 'sent', last_error: null },
      { address: 'http://teams.test/workflows/gone', state: 'failed', last_error: 'teams answered 404' },
    ]);
  });
});
