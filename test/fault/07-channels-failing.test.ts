import { describe, expect, it } from 'vitest';
import { receivedMail } from '../support/mailbox.js';
import { receivedChats } from '../support/chat.js';
import type { Delivery } from '../support/clients.js';
import { fault, lb, report, tokenOf, triggerGates, waitFor } from './support/clients.js';

/** The ended deliveries of the request message of `approvalId`, once none is queued any more. */
const endedDeliveries = (approvalId: string, wanted: number) =>
  waitFor(
    `${wanted} deliveries of ${approvalId} to end`,
    async () => {
      const res = await lb(`/api/v1/deliveries?approval_id=${approvalId}&limit=500`, { token: await tokenOf('v01') });
      const items = res.body.items as Delivery[];
      return items.length >= wanted && items.every((d) => d.state !== 'queued') ? items : undefined;
    },
    180_000,
  );

describe('channels failing: Slack answering 5xx and 429, SMTP refusing', () => {
  it('retries each send, falls back, and shows every attempt; nothing is silent', async () => {
    const slackBefore = receivedChats(fault().slackDir).length;
    const slack = (await triggerGates('slack', 1)).approvals[0]!;
    const smtp = (await triggerGates('smtp', 1)).approvals[0]!;

    // Slack: every attempt failed (503, 429, 503...), then the fallback channel (email) delivered it.
    const viaSlack = await endedDeliveries(slack.id, 2);
    const slackDelivery = viaSlack.find((d) => d.channel === 'slack')!;
    const fallback = viaSlack.find((d) => d.fallback_of === slackDelivery.id)!;
    const mails = (await receivedMail(fault().mailDir)).filter((m) => m.to.includes('v01@airgate.test') && m.subject.includes('slack gate 0'));

    // SMTP: the sink refused every attempt (451), then the bridge's `messages` channel kept it.
    const viaEmail = await endedDeliveries(smtp.id, 2);
    const emailDelivery = viaEmail.find((d) => d.channel === 'email')!;
    const kept = viaEmail.find((d) => d.fallback_of === emailDelivery.id)!;

    const attempts = slackDelivery.attempts + emailDelivery.attempts;
    const silent = [fallback, kept].filter((d) => d?.state !== 'sent').length;
    report({ scenario: '7 Slack 5xx/429 and SMTP refusing', sent: 2, acknowledged: 2, applied: 2 - silent, lost: silent, duplicated: Math.max(0, mails.length - 1) });

    expect(slackDelivery).toMatchObject({ state: 'failed', attempts: 3 });
    expect(slackDelivery.last_error).toBeTruthy();
    // Each attempt reached Slack: none was swallowed or retried behind the delivery's back.
    expect(receivedChats(fault().slackDir).length - slackBefore).toBe(slackDelivery.attempts);
    expect(fallback).toMatchObject({ channel: 'email', state: 'sent' });
    expect(mails).toHaveLength(1);
    expect(emailDelivery).toMatchObject({ state: 'failed', attempts: 3 });
    expect(emailDelivery.last_error).toContain('451');
    expect(kept).toMatchObject({ channel: 'messages', state: 'sent' });
  });
});
