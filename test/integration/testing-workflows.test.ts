/**
 * Scenarios of the reference DAGs of catalogue section 8 (testing human-in-the-loop workflows) on the real
 * Airflow and bridge: the same paths their pytest files simulate with airgate.testing, decided here by
 * people's votes through the bridge and by the bridge's own deadline.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { clickAndConfirm, mailedLink } from '../support/links.js';
import { receivedMail } from '../support/mailbox.js';
import { blockKitProblems, slackCalls, slackInteraction } from '../support/slack.js';
import { airflow, bridge, stack, waitFor, waitForRunEnd } from '../support/clients.js';
import { type ApprovalView, type Person, approval, approvalOf, decide, deliveriesOf, scenario, signIn, tokens, triggerRun, vote, xcom } from '../support/scenarios.js';

beforeAll(signIn);

describe.concurrent('reference DAGs of section 8', () => {
  it('120_08_01_unit_testing_approval: approved ships, rejected reworks with the reason, expired escalates', async () => {
    const DAG = '120_08_01_unit_testing_approval';
    const [approved, rejected, expired] = await Promise.all([
      scenario(DAG, {}, (run) => decide(run, 'approve_release', 'bob', { option: 'Approve' })),
      scenario(DAG, {}, (run) => decide(run, 'approve_release', 'carol', { option: 'Reject', reason: 'changelog missing' })),
      // Nobody votes: the policy's 20 s deadline answers Reject, and carol approves the escalation.
      scenario(DAG, {}, (run) => decide(run, 'escalate_release', 'carol', { option: 'Approve' })),
    ]);

    expect(approved.state).toBe('success');
    expect(approved.tasks).toMatchObject({ approve_release: 'success', ship_release: 'success', rework: 'skipped', escalate_release: 'skipped' });
    expect(await xcom(DAG, approved.runId, 'route', 'skipmixin_key')).toEqual({ followed: ['ship_release'] });
    const approvedRecord = await xcom(DAG, approved.runId, 'record_decision');
    expect(approvedRecord).toMatchObject({ state: 'approved', option: 'Approve', answered_by: 'airgate', policy: 'unit-testing-approval' });
    expect(approvedRecord.deciders.map((d: { user: string }) => d.user)).toEqual(['bob']);

    expect(rejected.state).toBe('success');
    expect(rejected.tasks).toMatchObject({ rework: 'success', ship_release: 'skipped', escalate_release: 'skipped' });
    expect(await xcom(DAG, rejected.runId, 'rework')).toBe('rework: changelog missing');

    expect(expired.state).toBe('success');
    expect(expired.tasks).toMatchObject({ escalate_release: 'success', ship_escalated: 'success', ship_release: 'skipped', rework: 'skipped' });
    const expiredRecord = await xcom(DAG, expired.runId, 'record_decision');
    expect(expiredRecord).toMatchObject({ state: 'expired', option: 'Reject', deciders: [] });
    expect(await xcom(DAG, expired.runId, 'route', 'skipmixin_key')).toEqual({ followed: ['escalate_release'] });
    expect((await approval(expiredRecord.approval_id)).state).toBe('expired');
  });

  it('120_08_02_integration_testing: request, mail delivered, the link callback decides, both sides persist the same answer', async () => {
    const DAG = '120_08_02_integration_testing';
    let approvalId = '';
    const run = await scenario(DAG, {}, async (runId) => {
      approvalId = (await approvalOf(runId, 'approve_export')).id;
      const link = await mailedLink(runId, 'bob@airgate.test', 'Approve');
      expect(await clickAndConfirm(link, 'auditors asked for it')).toBe(200);
      // The callback is single-use: the same link again changes nothing.
      expect((await fetch(link, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' })).status).toBe(410);
    });

    expect(run.state).toBe('success');
    expect(run.tasks).toEqual({ approve_export: 'success', export: 'success', check_persistence: 'success' });
    expect(await xcom(DAG, run.runId, 'check_persistence')).toEqual({ airflow_option: 'Approve', bridge_option: 'Approve', bridge_state: 'approved', deciders: ['bob'] });
    const sent = (await bridge(`/api/v1/deliveries?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ recipient: string; channel: string; state: string }>;
    expect(sent).toEqual(expect.arrayContaining([expect.objectContaining({ recipient: 'bob', channel: 'email', state: 'sent' })]));
    const decided = await approval(approvalId);
    expect(decided.votes).toMatchObject([{ user: 'bob', option: 'Approve', channel: 'email', reason: 'auditors asked for it' }]);
    const trail = (await bridge(`/api/v1/audit?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ action: string }>;
    const actions = trail.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['approval.registered', 'vote.recorded', 'approval.decided']));
    expect(actions.indexOf('approval.registered')).toBeLessThan(actions.indexOf('approval.decided'));
    expect((await bridge('/api/v1/audit/verify', { token: tokens.alice })).body).toMatchObject({ ok: true });
  });

  it('120_08_04_escalation_testing: nobody answers, carol then admin are added and told, admin approves', async () => {
    const DAG = '120_08_04_escalation_testing';
    let approvalId = '';
    const escalations = () => bridge(`/api/v1/approvals/${approvalId}/escalations`, { token: tokens.alice }).then((r) => r.body.items as Array<{ approver: string; step: number }>);
    const run = await scenario(DAG, {}, async (runId) => {
      approvalId = (await approvalOf(runId, 'approve_change')).id;
      // Before step 1 adds admin, admin may not decide, and the refusal changes nothing.
      const early = await vote('admin', approvalId, { option: 'Approve' });
      if (early.status !== 403) throw new Error(`admin voted before the escalation: ${early.status}`);
      expect((await approval(approvalId)).votes).toEqual([]);
      await waitFor('escalation step 1 (admin)', async () => ((await escalations()).some((e) => e.approver === 'admin') ? true : undefined));
      await decide(runId, 'approve_change', 'admin', { option: 'Approve', reason: 'escalated to me' });
    });

    expect(run.state).toBe('success');
    expect(run.tasks).toEqual({ approve_change: 'success', apply_change: 'success', record_decision: 'success' });
    // The chain, in order: the requester's manager at step 0, admin at step 1.
    expect((await escalations()).map((e) => [e.step, e.approver])).toEqual([[0, 'carol'], [1, 'admin']]);
    const told = ((await bridge(`/api/v1/messages?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ kind: string; recipient: string }>)
      .filter((m) => m.kind === 'escalation')
      .map((m) => m.recipient);
    expect(told).toEqual(expect.arrayContaining(['carol', 'admin']));
    expect(await xcom(DAG, run.runId, 'record_decision')).toMatchObject({ state: 'approved', deciders: [{ user: 'admin', option: 'Approve', reason: 'escalated to me' }] });
  });

  // Longer than the suite's 180 s: one decision answers six tasks in Airflow, and on a loaded machine the bridge's
  // answers queue behind SQLite's lock.
  it('120_08_05_concurrent_testing: six approvals pending at once, voters racing on each, every one decided exactly once', { timeout: 480_000 }, async () => {
    const DAG = '120_08_05_concurrent_testing';
    const SHARDS = 6;
    const RACED_REJECT = 4;
    const runId = await triggerRun(DAG, tokens.alice);
    const pending = await waitFor('every shard to be pending at once', async () => {
      const listed = (await bridge('/api/v1/approvals?state=pending&limit=500', { token: tokens.alice })).body.items as Array<ApprovalView & { map_index: number }>;
      const ours = listed.filter((a) => a.run_id === runId);
      return ours.length === SHARDS ? ours : undefined;
    });

    // The load test: every vote at the same instant. On each shard bob, carol and admin race for a quorum of two;
    // on shard 4 an approval and a rejection race.
    const ballots = pending.flatMap((a) =>
      a.map_index === RACED_REJECT
        ? [{ a, user: 'bob' as Person, option: 'Approve' }, { a, user: 'carol' as Person, option: 'Reject', reason: 'row count drifted' }]
        : (['bob', 'carol', 'admin'] as const).map((user) => ({ a, user, option: 'Approve' })),
    );
    const started = performance.now();
    const cast = await Promise.all(
      ballots.map(async ({ a, user, option, reason }) => {
        const t0 = performance.now();
        const res = await vote(user, a.id, { option, ...(reason ? { reason } : {}) });
        return { id: a.id, shard: a.map_index, status: res.status, ms: performance.now() - t0 };
      }),
    );
    const elapsed = performance.now() - started;
    const ms = cast.map((c) => c.ms).sort((x, y) => x - y);
    console.log(
      `120_08_05 load: ${cast.length} votes on ${pending.length} approvals in ${elapsed.toFixed(0)} ms (${((cast.length / elapsed) * 1000).toFixed(1)} votes/s); ` +
        `latency median ${ms[Math.floor(ms.length / 2)]!.toFixed(0)} ms, p90 ${ms[Math.floor(ms.length * 0.9)]!.toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms`,
    );

    // Race handling: on a quorum shard exactly two votes count and the late one is refused; nothing else is answered.
    for (const a of pending) {
      const statuses = cast.filter((c) => c.id === a.id).map((c) => c.status).sort();
      expect(statuses, `shard ${a.map_index}`).toEqual(a.map_index === RACED_REJECT ? expect.arrayContaining([200]) : [200, 200, 409]);
      expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
      const settled = await approval(a.id);
      expect(settled.state).toBe(a.map_index === RACED_REJECT ? 'rejected' : 'approved');
      if (a.map_index !== RACED_REJECT) expect(new Set(settled.votes.map((v) => v.user)).size).toBe(2);
    }

    expect(await waitForRunEnd(DAG, runId, tokens.alice)).toBe('success');
    const tis = (await airflow(`/api/v2/dags/${DAG}/dagRuns/${encodeURIComponent(runId)}/taskInstances?limit=100`, { token: tokens.alice })).body.task_instances as Array<{
      task_id: string;
      map_index: number;
      state: string;
    }>;
    expect(tis.filter((t) => t.task_id === 'approve_shard').map((t) => [t.map_index, t.state]).sort()).toEqual([...Array(SHARDS).keys()].map((i) => [i, 'success']));
    // State consistency, checked by the DAG itself against the bridge, shard by shard.
    expect(await xcom(DAG, runId, 'check_consistency')).toEqual({
      shards: Object.fromEntries([...Array(SHARDS).keys()].map((i) => [String(i), i === RACED_REJECT ? 'rejected' : 'approved'])),
      approved: [0, 1, 2, 3, 5],
    });
    expect(await xcom(DAG, runId, 'load_approved')).toEqual({ shards: 5, rows: 365 });
  });

  // A loaded machine runs the two short runs' last tasks slowly: each may take up to 4 minutes to end.
  const RUN_END_MS = 300_000;
  it('120_08_03_notification_testing: the Slack Block Kit and the mail as the bridge renders them, a Slack click ships, a mailed link holds', { timeout: 420_000 }, async () => {
    const DAG = '120_08_03_notification_testing';
    const ESCAPED = '- Escape &lt;script&gt; &amp; quotes in report titles';
    const sentTo = (id: string, channel: string) => slackCalls('chat.postMessage').find((m) => m.channel === channel && JSON.stringify(m.blocks).includes(id));
    let shipId = '';
    let posted: Record<string, any> = {};
    const [shipped, held] = await Promise.all([
      scenario(DAG, {}, async (runId) => {
        shipId = (await approvalOf(runId, 'approve_release')).id;
        posted = await waitFor('the Slack message to admin', async () => sentTo(shipId, 'U0ADMIN'));
        const ship = posted.blocks[1].elements[0];
        const click = {
          type: 'block_actions',
          user: { id: 'U0ADMIN' },
          trigger_id: `trigger-${shipId}`,
          container: { channel_id: 'D0ADMIN', message_ts: '1767225600.000300' },
          actions: [{ action_id: ship.action_id, value: ship.value }],
        };
        expect(await slackInteraction(click)).toBe(200);
      }, RUN_END_MS),
      scenario(DAG, {}, async (runId) => {
        const link = await mailedLink(runId, 'bob@airgate.test', 'Hold');
        expect(await clickAndConfirm(link, 'changelog incomplete')).toBe(200);
      }, RUN_END_MS),
    ]);

    // Slack: the payload format, from the bridge's own Block Kit template.
    expect(blockKitProblems(posted.blocks)).toEqual([]);
    expect(posted.text).toBe('Approval needed: Ship notifier 5.0.1?');
    expect(posted.blocks[0].text.type).toBe('mrkdwn');
    expect(posted.blocks[0].text.text).toMatch(/^\*Approval needed: Ship notifier 5\.0\.1\?\*\n/);
    expect(posted.blocks[0].text.text).toContain(ESCAPED);
    expect(posted.blocks[0].text.text).not.toContain('<script>');
    expect(posted.blocks[1].elements.map((b: any) => [b.text.text, JSON.parse(b.value), b.style])).toEqual([
      ['Ship', { a: shipId, o: 'Ship' }, 'primary'],
      // Only the built-in rejecting names are styled danger: the template does not read the policies' options map.
      ['Hold', { a: shipId, o: 'Hold' }, undefined],
    ]);
    // The action's handling: admin's click shipped, and the message now says who decided instead of offering buttons.
    expect(shipped.state).toBe('success');
    expect(shipped.tasks).toMatchObject({ approve_release: 'success', ship_release: 'success', hold_release: 'skipped', record_decision: 'success' });
    expect(await xcom(DAG, shipped.runId, 'record_decision')).toMatchObject({ state: 'approved', deciders: [{ user: 'admin', option: 'Ship', channel: 'slack' }] });
    const updated = await waitFor('the Slack message to be updated', async () => slackCalls('chat.update').find((m) => m.channel === 'D0ADMIN' && m.ts === '1767225600.000300'));
    expect(blockKitProblems(updated.blocks)).toEqual([]);
    expect(JSON.stringify(updated.blocks)).toContain('Ship by admin via Slack · the approval is approved');
    expect(updated.blocks.some((b: any) => b.type === 'actions')).toBe(false);
    // Delivery: admin's Slack message was sent; bob's Slack failed after its retries and email took over.
    const deliveries = await waitFor('bob\'s Slack delivery to fail over to email', async () => {
      const list = await deliveriesOf(shipId);
      const slack = list.find((d) => d.recipient === 'bob' && d.channel === 'slack' && d.state === 'failed');
      return slack && list.some((d) => d.channel === 'email' && d.state === 'sent' && d.fallback_of === slack.id) ? list : undefined;
    });
    expect(deliveries.filter((d) => d.recipient === 'admin').map((d) => [d.channel, d.state])).toEqual(expect.arrayContaining([['slack', 'sent']]));
    expect(deliveries.find((d) => d.recipient === 'bob' && d.channel === 'slack')).toMatchObject({ state: 'failed', attempts: 3, last_error: expect.stringContaining('internal_error') });
    const stored = (await bridge(`/api/v1/messages?approval_id=${shipId}&limit=100`, { token: tokens.alice })).body.items as Array<{ kind: string; recipient: string; subject: string }>;
    expect(stored.filter((m) => m.kind === 'request').map((m) => [m.recipient, m.subject]).sort()).toEqual([
      ['admin', 'Approval needed: Ship notifier 5.0.1?'],
      ['bob', 'Approval needed: Ship notifier 5.0.1?'],
    ]);

    // Email: the mail bob received, rendered by the bridge's email template, and its link's handling.
    const mail = (await receivedMail(stack().mailDir)).find((m) => m.to.includes('bob@airgate.test') && m.text.includes(held.runId))!;
    expect(mail.subject).toBe('Approval needed: Ship notifier 5.0.1?');
    expect(mail.text).toContain('- Escape <script> & quotes in report titles');
    expect(mail.text).toMatch(/^Ship: http\S+\/a\/\S+$/m);
    expect(mail.text).toMatch(/^Hold: http\S+\/a\/\S+$/m);
    expect(mail.html).toContain(ESCAPED);
    expect(mail.html).not.toContain('<script>');
    expect(held.state).toBe('success');
    expect(held.tasks).toMatchObject({ ship_release: 'skipped', hold_release: 'success', record_decision: 'success' });
    expect(await xcom(DAG, held.runId, 'record_decision')).toMatchObject({
      state: 'rejected',
      deciders: [{ user: 'bob', option: 'Hold', reason: 'changelog incomplete', channel: 'email' }],
    });
  });
});
