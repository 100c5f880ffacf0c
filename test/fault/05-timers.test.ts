import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { receivedMail } from '../support/mailbox.js';
import { type ApprovalView, approvalsOf, fault, lb, report, tokenOf, triggerGates, waitFor } from './support/clients.js';

const APPROVALS = 5;

interface Message {
  approval_id: string;
  kind: string;
  recipient: string;
  subject: string;
  deliveries: Array<{ channel: string; state: string; attempts: number }>;
}

async function messagesOf(ids: Set<string>): Promise<Message[]> {
  const all: Message[] = [];
  for (let cursor: string | null = null; ; ) {
    const res = await lb(`/api/v1/messages?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { token: await tokenOf('v01') });
    if (res.status !== 200) throw new Error(`messages: ${res.status} ${JSON.stringify(res.body)}`);
    all.push(...(res.body.items as Message[]).filter((m) => ids.has(m.approval_id)));
    cursor = res.body.next_cursor as string | null;
    if (!cursor) return all;
  }
}

describe('due reminders and escalations with two replicas on one store', () => {
  // Read-only: which timers the store says fired, to hold the messages against.
  const store = new pg.Client({ connectionString: fault().storeUrl });
  afterAll(() => store.end());

  it('sends each fired reminder and escalation once, to each of its recipients, and none is lost', async () => {
    await store.connect();
    const { runId } = await triggerGates('timers', APPROVALS);
    // The policy's deadline (90 s) closes them (expired): by then every reminder and the escalation were due.
    const decided = await waitFor(
      'the deadline to close every timers approval',
      async () => {
        const all = await approvalsOf(runId);
        return all.every((a) => a.state === 'expired') ? all : undefined;
      },
      400_000,
    );
    const ids = new Set(decided.map((a: ApprovalView) => a.id));
    const { rows: fired } = await store.query<{ approval_id: string; kind: string; n: string }>(
      `SELECT approval_id, kind, count(*) AS n FROM timer WHERE approval_id = ANY($1) AND state = 'fired' GROUP BY approval_id, kind`,
      [[...ids]],
    );
    const firedCount = (id: string, kind: string) => Number(fired.find((r) => r.approval_id === id && r.kind === kind)?.n ?? 0);
    // Every message's deliveries have ended (sent, or failed over) before the mail is counted.
    const messages = await waitFor(
      'every delivery to end',
      async () => {
        const m = await messagesOf(ids);
        return m.every((msg) => msg.deliveries.every((d) => d.state !== 'queued')) ? m : undefined;
      },
      120_000,
    );
    const mails = (await receivedMail(fault().mailDir)).filter((m) => decided.some((a) => m.subject.includes(`timers gate ${a.map_index}`)));

    let expected = 0;
    let lost = 0;
    let duplicated = 0;
    for (const id of ids) {
      for (const [kind, recipients] of [
        ['reminder', ['v01']],
        ['escalation', ['lead1', 'lead2']],
      ] as const) {
        for (const recipient of recipients) {
          const want = firedCount(id, kind);
          const got = messages.filter((m) => m.approval_id === id && m.kind === kind && m.recipient === recipient).length;
          expected += want;
          lost += Math.max(0, want - got);
          duplicated += Math.max(0, got - want);
        }
      }
    }
    const sentByMail = messages.filter((m) => m.deliveries.some((d) => d.channel === 'email' && d.state === 'sent')).length;
    report({ scenario: '5 reminders and escalations, two replicas', sent: expected, acknowledged: expected, applied: expected - lost, lost, duplicated: duplicated + Math.max(0, mails.length - sentByMail) });

    for (const id of ids) {
      expect(firedCount(id, 'escalation')).toBe(1);
      expect(firedCount(id, 'reminder')).toBeGreaterThan(0);
    }
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    // One mail per sent email delivery: none mailed twice.
    expect(mails.length).toBe(sentByMail);
  });
});
