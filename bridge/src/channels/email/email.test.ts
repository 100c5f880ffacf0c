import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { databases } from '../../testing/databases.js';
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
  alice: { email: alice@example.test }
  bob: { email: bob@refused.test }
default: { channels: [email] }
email: { from: "airgate <airgate@example.test>" }
`);

/** A real SMTP server on a loopback port; refuses recipients at refused.test like a mailbox that does not exist. */
async function startSmtp(port = 0) {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.endsWith('@refused.test')) return callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.server.address() as AddressInfo).port;
  return { mails, port: bound, url: `smtp://127.0.0.1:${bound}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe.each(databases)('email over SMTP on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let bridge: ReturnType<typeof channelBridge>;

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    smtp = await startSmtp();
    bridge = channelBridge(db, { policies: POLICIES, config: CHANNELS, smtpUrl: smtp.url });
  });
  afterEach(async () => {
    await bridge.channels.stop();
    await smtp.close();
    await drop();
  });

  it('mails each approver a summary with a button per option; following one and confirming decides', async () => {
    const { id } = await bridge.service.register(approvalRequest, 'test');
    await bridge.settle();
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.subject).toBe('Approval needed: Load the report?');
    expect(mail.from?.value[0]).toMatchObject({ name: 'airgate', address: 'airgate@example.test' });
    expect(mail.headers.get('x-airgate-approval')).toBe(id);
    expect(mail.text).toContain('dag_a / approve_load (run manual__1)');
    const html = String(mail.html);
    const links = [...html.matchAll(/<a href="([^"]+)"[^>]*>([^<]+)<\/a>/g)].map((m) => ({ url: m[1]!.replace(/&amp;/g, '&'), label: m[2] }));
    expect(links.map((l) => l.label)).toEqual(['Approve', 'Reject']);
    expect(mail.text).toContain(`Approve: ${links[0]!.url}`);
    const path = new URL(links[0]!.url).pathname;
    expect((await request(bridge.app).get(path)).status).toBe(200);
    expect((await bridge.service.get(id)).state).toBe('pending');
    expect((await request(bridge.app).post(path).type('form').send({})).status).toBe(200);
    expect(await bridge.service.get(id)).toMatchObject({ state: 'approved', votes: [{ user: 'alice', channel: 'email' }] });
    // The delivery rows say what went where: alice's mail sent, bob's refused by the server for good.
    const rows = await db.selectFrom('delivery').select(['address', 'state', 'last_error']).where('address', 'in', ['alice@example.test', 'bob@refused.test']).orderBy('id').execute();
    expect(rows).toEqual([
      { address: 'alice@example.test', state: 'sent', last_error: null },
      { address: 'bob@refused.test', state: 'failed', last_error: expect.stringContaining('no such user') },
    ]);
  });

  it('retries while the mail server is down and sends once it is back', async () => {
    await bridge.channels.stop();
    const down = await startSmtp();
    await down.close();
    bridge = channelBridge(db, { policies: POLICIES, config: parseChannels('version: 1\npeople: { alice: { email: alice@example.test } }\ndefault: { channels: [email] }\ndelivery: { backoff_ms: 1000 }\n'), smtpUrl: down.url });
    await bridge.service.register(approvalRequest, 'test');
    await bridge.settle();
    const row = () => db.selectFrom('delivery').selectAll().where('address', '=', 'alice@example.test').executeTakeFirstOrThrow();
    expect(await row()).toMatchObject({ state: 'queued', attempts: 1, last_error: expect.stringContaining('ECONNREFUSED') });
    const back = await startSmtp(down.port);
    try {
      bridge.clock.advance(1000);
      await bridge.channels.deliveries.kick();
      expect(await row()).toMatchObject({ state: 'sent', attempts: 2, last_error: null });
      expect(back.mails.map((m) => m.subject)).toEqual(['Approval needed: Load the report?']);
    } finally {
      await back.close();
    }
  });
});
