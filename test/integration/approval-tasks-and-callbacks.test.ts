/**
 * Scenarios of the reference DAGs of catalogue sections 1 (manual approval tasks) and 3 (callback-based
 * approvals) on the real Airflow and bridge. Decisions arrive the way each DAG teaches: votes through the
 * bridge's API, the bridge's own timers, a signed webhook, Slack interactions signed with the suite's signing
 * secret, one-click links from real mail (the suite's SMTP server) and from Teams cards (the suite's stand-in
 * for Teams URLs). Every scenario runs concurrently; the runs they trigger are created one at a time.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { receivedChats } from '../support/chat.js';
import { airflow, bridge, stack, waitFor } from '../support/clients.js';
import { clickAndConfirm, mailedLink } from '../support/links.js';
import { hookNow as now, opsHook as hook } from '../support/hooks.js';
import { receivedMail } from '../support/mailbox.js';
import { blockKitProblems, slackCalls, slackInteraction } from '../support/slack.js';
import { type ApprovalView, approval, approvalOf, decide, deliveriesOf, note, scenario, signIn, tokens, vote, waitForTask, xcom } from '../support/scenarios.js';

/** The approval id a one-click link's token is bound to (its payload is readable; only the signature is secret). */
const linkApproval = (url: string) => JSON.parse(Buffer.from(url.split('/a/')[1]!.split('.')[1]!, 'base64url').toString('utf8')).aid as string;

const messageKinds = async (approvalId: string) =>
  ((await bridge(`/api/v1/messages?approval_id=${approvalId}&limit=100`, { token: tokens.alice })).body.items as Array<{ kind: string; recipient: string }>).map(
    (m) => `${m.kind}:${m.recipient}`,
  );

beforeAll(signIn);

describe.concurrent('reference DAGs of sections 1 and 3', () => {
  describe('section 1: manual approval tasks', () => {
    it('120_01_02_pause_resume: a reschedule-mode sensor pauses the pipeline until the approval, then it resumes or stops', async () => {
      const DAG = '120_01_02_pause_resume';
      const [approved, rejected] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          // Paused: between pokes the sensor holds no worker slot.
          await waitForTask(DAG, run, 'wait_for_approval', ['up_for_reschedule']);
          await decide(run, 'request_approval', 'bob', { option: 'Approve' });
        }),
        scenario(DAG, {}, (run) => decide(run, 'request_approval', 'carol', { option: 'Reject', reason: 'totals do not match the ledger' })),
      ]);
      expect(approved.state).toBe('success');
      expect(approved.tasks).toMatchObject({ request_approval: 'success', wait_for_approval: 'success', publish_changes: 'success', discard_changes: 'skipped' });
      expect((await xcom(DAG, approved.runId, 'wait_for_approval')).chosen_options).toEqual(['Approve']);
      expect(await xcom(DAG, approved.runId, 'publish_changes')).toBe('published 214 rows to billing.invoices');
      expect(rejected.state).toBe('success');
      expect(rejected.tasks).toMatchObject({ wait_for_approval: 'success', publish_changes: 'skipped', discard_changes: 'success' });
      expect(await xcom(DAG, rejected.runId, 'discard_changes')).toBe('discarded 214 rows (Reject)');
    });

    it('120_01_03_approval_state: a downstream task reads back from the bridge who decided, why and when; the record links to the audit trail', async () => {
      const DAG = '120_01_03_approval_state';
      let approvedId = '';
      const [approved, rejected] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          approvedId = await decide(run, 'approve_release', 'bob', { option: 'Approve', reason: 'release notes checked' });
        }),
        scenario(DAG, {}, (run) => decide(run, 'approve_release', 'carol', { option: 'Reject', reason: 'load test pending' })),
      ]);
      expect(approved.state).toBe('success');
      expect(approved.tasks).toMatchObject({ release: 'success', record_decision: 'success' });
      const record = await xcom(DAG, approved.runId, 'record_decision');
      expect(record).toMatchObject({
        task_id: 'approve_release',
        approval_id: approvedId,
        state: 'approved',
        policy: 'approval-state',
        option: 'Approve',
        answered_by: 'airgate',
        // Read back by the task from the bridge: who decided, why, through which channel, and when.
        deciders: [{ user: 'bob', option: 'Approve', reason: 'release notes checked', channel: 'api' }],
        record_url: `${stack().bridgeUrl}/api/v1/approvals/${approvedId}`,
        audit_url: `${stack().bridgeUrl}/api/v1/audit?approval_id=${approvedId}`,
      });
      expect(Date.parse(record.decided_at)).toBeGreaterThan(Date.parse(record.requested_at));
      expect(Date.parse(record.deciders[0].at)).toBeLessThanOrEqual(Date.parse(record.decided_at));

      // The full record and audit trail the run links to, read as a person.
      const stored = (await fetch(record.record_url, { headers: { Authorization: `Bearer ${tokens.carol}` } }).then((r) => r.json())) as ApprovalView;
      expect(stored).toMatchObject({ state: 'approved', votes: [{ user: 'bob', at: record.deciders[0].at }] });
      const trail = (await fetch(record.audit_url, { headers: { Authorization: `Bearer ${tokens.carol}` } }).then((r) => r.json())) as { items: Array<{ actor: string; action: string }> };
      const actions = trail.items.map((e) => `${e.actor}:${e.action}`);
      expect(actions).toEqual(expect.arrayContaining(['bob:vote.recorded']));
      expect(actions.length).toBeGreaterThanOrEqual(3);
      expect((await bridge('/api/v1/audit/verify', { token: tokens.alice })).body.ok).toBe(true);
      expect(await note(DAG, approved.runId, 'approve_release')).toContain('Approve by bob');

      expect(rejected.state).toBe('success');
      expect(rejected.tasks).toMatchObject({ release: 'skipped', record_decision: 'success' });
      expect(await xcom(DAG, rejected.runId, 'record_decision')).toMatchObject({
        state: 'rejected',
        option: 'Reject',
        answered_by: 'airgate',
        deciders: [{ user: 'carol', option: 'Reject', reason: 'load test pending' }],
      });
    });

    it('120_01_05_approval_timeout: reminders, escalation to the manager who approves, and auto-rejection at the deadline', async () => {
      const DAG = '120_01_05_approval_timeout';
      let escalatedId = '';
      let expiredId = '';
      const [escalated, expired] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          const pending = await approvalOf(run, 'approve_spend');
          escalatedId = pending.id;
          // carol is alice's manager: she may decide only once the escalation added her.
          expect((await vote('carol', pending.id, { option: 'Approve' })).status).toBe(403);
          const added = await waitFor('the escalation to alice\'s manager', async () => {
            const res = await bridge(`/api/v1/approvals/${pending.id}/escalations`, { token: tokens.alice });
            return (res.body.items as Array<{ approver: string; step: number }>).find((e) => e.approver === 'carol');
          });
          expect(added.step).toBe(0);
          expect((await vote('carol', pending.id, { option: 'Approve' })).status).toBe(200);
        }),
        scenario(DAG, {}, async (run) => {
          expiredId = (await approvalOf(run, 'approve_spend')).id;
        }),
      ]);
      expect(escalated.state).toBe('success');
      expect(escalated.tasks).toMatchObject({ approve_spend: 'success', commit_spend: 'success', report_outcome: 'success' });
      expect(await messageKinds(escalatedId)).toEqual(expect.arrayContaining(['request:bob', 'reminder:bob', 'escalation:carol']));
      expect(await xcom(DAG, escalated.runId, 'report_outcome')).toMatchObject({ state: 'approved', deciders: [{ user: 'carol', option: 'Approve' }] });

      // Nobody answered: reminded, escalated, warned, and rejected by the bridge at the deadline.
      expect(expired.state).toBe('success');
      expect(expired.tasks).toMatchObject({ approve_spend: 'success', commit_spend: 'skipped', report_outcome: 'success' });
      const timedOut = await approval(expiredId);
      expect(timedOut).toMatchObject({ state: 'expired', votes: [] });
      expect(Date.parse(timedOut.decided_at!) - Date.parse(timedOut.due_at!)).toBeLessThan(5_000);
      const kinds = await messageKinds(expiredId);
      expect(kinds).toEqual(expect.arrayContaining(['request:bob', 'reminder:bob', 'escalation:carol', 'sla_warning:bob']));
      expect(kinds.filter((k) => k === 'reminder:bob').length).toBeGreaterThanOrEqual(2);
      expect(await note(DAG, expired.runId, 'approve_spend')).toContain('deadline: answered Reject');
      expect(await xcom(DAG, expired.runId, 'report_outcome')).toMatchObject({ state: 'expired', option: 'Reject', answered_by: 'airgate', deciders: [] });
    });
  });

  describe('section 3: callback-based approvals', () => {
    it('120_03_01_webhook_callback: a signed callback decides; bad signatures, stale or foreign callers and bad payloads are refused', async () => {
      const DAG = '120_03_01_webhook_callback';
      const [approved, rejected] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          const { id } = await approvalOf(run, 'approve_change');
          const body = { approval_id: id, user: 'carol', option: 'Approve', reason: 'CAB approved', params_input: { change_ticket: 'CHG-4711' } };
          expect((await hook(body, { secret: 'not-the-secret' })).status).toBe(401);
          expect((await hook(body, { timestamp: String(Number(now()) - 600) })).status).toBe(401);
          const foreign = await hook({ ...body, user: 'alice' });
          expect(foreign.status).toBe(403);
          const unknownField = await hook({ ...body, approved: true });
          expect(unknownField.status).toBe(400);
          const badTicket = await hook({ ...body, params_input: { change_ticket: 'tomorrow' } });
          expect(badTicket.body.error).toMatchObject({ code: 'form_invalid', field: 'params_input.change_ticket' });
          expect((await approval(id)).state).toBe('pending');

          const delivery = randomUUID();
          const accepted = await hook(body, { delivery });
          expect(accepted.status).toBe(200);
          expect(accepted.body).toMatchObject({ state: 'approved', votes: [{ user: 'carol', channel: 'webhook:ops' }] });
          const replay = await hook(body, { delivery });
          expect([replay.status, replay.replay]).toEqual([200, 'true']);
          const refusals = (await bridge('/api/v1/audit?action=hook.refused&limit=500', { token: tokens.alice })).body.items as Array<{ action: string; details: { why?: string } }>;
          expect(refusals.filter((e) => e.action === 'hook.refused').map((e) => e.details.why)).toEqual(expect.arrayContaining(['bad_signature', 'stale_timestamp', 'user_not_allowed']));
        }),
        scenario(DAG, {}, async (run) => {
          const { id } = await approvalOf(run, 'approve_change');
          const bare = await hook({ approval_id: id, user: 'bob', option: 'Reject' });
          expect(bare.body.error.code).toBe('reason_required');
          expect((await hook({ approval_id: id, user: 'bob', option: 'Reject', reason: 'outside the change window' })).status).toBe(200);
        }),
      ]);
      expect(approved.state).toBe('success');
      expect(approved.tasks).toMatchObject({ approve_change: 'success', apply_change: 'success' });
      expect(await xcom(DAG, approved.runId, 'apply_change')).toMatchObject({ ticket: 'CHG-4711' });
      expect(await note(DAG, approved.runId, 'approve_change')).toContain('Approve by carol via webhook:ops');
      expect(rejected.state).toBe('success');
      expect(rejected.tasks).toMatchObject({ apply_change: 'skipped' });
    });

    it('120_03_02_slack_approval: the request goes to Slack as Block Kit; its own Approve button, clicked and signed, approves; a signed modal rejects', async () => {
      const DAG = '120_03_02_slack_approval';
      let approvedId = '';
      let message: Record<string, any> = {};
      const [approved, rejected] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          const { id } = await approvalOf(run, 'approve_deploy');
          approvedId = id;
          // What Slack received for bob (its Web API stand-in keeps every call, answered or not).
          message = await waitFor('the Slack message to bob', async () =>
            slackCalls('chat.postMessage').find((m) => m.channel === 'U0BOB' && JSON.stringify(m.blocks).includes(id)),
          );
          const approve = message.blocks.find((b: any) => b.type === 'actions').elements.find((b: any) => b.text.text === 'Approve');
          const click = {
            type: 'block_actions',
            user: { id: 'U0BOB' },
            trigger_id: `trigger-${id}`,
            container: { channel_id: 'D0BOB', message_ts: '1767225600.000100' },
            actions: [{ action_id: approve.action_id, value: approve.value }],
          };
          expect(await slackInteraction(click, 'forged-secret')).toBe(401);
          expect((await approval(id)).state).toBe('pending');
          expect(await slackInteraction(click)).toBe(200);
        }),
        scenario(DAG, {}, async (run) => {
          const { id } = await approvalOf(run, 'approve_deploy');
          // Reject opens Slack's reason modal; its submission is what votes.
          const submission = {
            type: 'view_submission',
            user: { id: 'U0CAROL' },
            view: {
              id: `view-${id}`,
              callback_id: 'airgate_reason',
              private_metadata: JSON.stringify({ a: id, o: 'Reject', c: 'D0CAROL', t: '1767225600.000200' }),
              state: { values: { reason: { reason: { value: 'error budget exhausted' } } } },
            },
          };
          expect(await slackInteraction(submission)).toBe(200);
        }),
      ]);
      expect(blockKitProblems(message.blocks)).toEqual([]);
      expect(message.text).toMatch(/^Approval needed: /);
      const buttons = message.blocks.find((b: any) => b.type === 'actions').elements;
      expect(buttons.map((b: any) => [b.text.text, JSON.parse(b.value), b.style])).toEqual([
        ['Approve', { a: approvedId, o: 'Approve' }, 'primary'],
        ['Reject', { a: approvedId, o: 'Reject' }, 'danger'],
      ]);
      expect(approved.state).toBe('success');
      expect(approved.tasks).toMatchObject({ deploy: 'success', cancel_deploy: 'skipped' });
      expect((await approval(approvedId)).votes).toMatchObject([{ user: 'bob', option: 'Approve', channel: 'slack' }]);
      expect(await note(DAG, approved.runId, 'approve_deploy')).toContain('Approve by bob via slack');
      // The request went to Slack for each approver; Slack is unreachable from the suite, so each delivery
      // failed after its retries and the fallback channel (email) took over.
      const sent = await waitFor('the Slack deliveries to fail over to email', async () => {
        const list = await deliveriesOf(approvedId);
        const slack = list.filter((d) => d.channel === 'slack' && d.state === 'failed');
        const fallback = list.filter((d) => d.channel === 'email' && slack.some((s) => s.id === d.fallback_of));
        return slack.length >= 2 && fallback.length === slack.length ? { slack, fallback } : undefined;
      });
      expect(sent.slack.map((d) => d.recipient).sort()).toEqual(expect.arrayContaining(['bob', 'carol']));
      expect(sent.slack[0]!.attempts).toBe(3);

      expect(rejected.state).toBe('success');
      expect(rejected.tasks).toMatchObject({ deploy: 'skipped', cancel_deploy: 'success' });
      expect(await note(DAG, rejected.runId, 'approve_deploy')).toContain('error budget exhausted');
    });

    it('120_03_03_email_approval: a mailed link approves once; after the deadline a link is refused and the request is rejected', async () => {
      const DAG = '120_03_03_email_approval';
      const approveLink = (runId: string) => mailedLink(runId, 'bob@airgate.test', 'Approve');
      const [approved, expired] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          const link = await approveLink(run);
          expect(await clickAndConfirm(link, 'refund agreed with the customer')).toBe(200);
          expect((await fetch(link, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' })).status).toBe(410);
        }),
        scenario(DAG, {}, async (run) => {
          const link = await approveLink(run);
          const { id } = await approvalOf(run, 'approve_refund');
          await waitFor('the deadline to pass', async () => ((await approval(id)).state === 'expired' ? true : undefined));
          expect((await fetch(link, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' })).status).toBe(410);
        }),
      ]);
      expect(approved.state).toBe('success');
      expect(approved.tasks).toMatchObject({ approve_refund: 'success', refund: 'success' });
      expect(await note(DAG, approved.runId, 'approve_refund')).toContain('Approve by bob via email: refund agreed with the customer');
      expect(expired.state).toBe('success');
      expect(expired.tasks).toMatchObject({ approve_refund: 'success', refund: 'skipped' });
      expect(await note(DAG, expired.runId, 'approve_refund')).toContain('deadline: answered Reject');
    });

    it('120_03_04_teams_approval: an Adaptive Card with link actions reaches Teams; its buttons decide, tracked as teams', async () => {
      const DAG = '120_03_04_teams_approval';
      const card = (approvalId: string) =>
        waitFor(`a Teams card for ${approvalId}`, async () => {
          const post = receivedChats(stack().chatDir).find((p) => (p.body.attachments?.[0]?.content?.actions ?? []).some((a: { url: string }) => linkApproval(a.url) === approvalId));
          return post && { path: post.path, attachment: post.body.attachments[0] };
        });
      const button = (actions: Array<{ title: string; url: string }>, title: string) => actions.find((a) => a.title === title)!.url;
      let approvedId = '';
      const [approved, rejected] = await Promise.all([
        scenario(DAG, {}, async (run) => {
          const { id } = await approvalOf(run, 'approve_access');
          approvedId = id;
          const sent = await card(id);
          expect(sent.path).toBe('/teams/bob');
          expect(sent.attachment).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4' } });
          const actions = sent.attachment.content.actions as Array<{ type: string; title: string; url: string }>;
          expect(actions.map((a) => [a.type, a.title])).toEqual([
            ['Action.OpenUrl', 'Approve'],
            ['Action.OpenUrl', 'Reject'],
          ]);
          expect(await clickAndConfirm(button(actions, 'Approve'))).toBe(200);
        }),
        scenario(DAG, {}, async (run) => {
          const { id } = await approvalOf(run, 'approve_access');
          const actions = (await card(id)).attachment.content.actions as Array<{ title: string; url: string }>;
          expect(await clickAndConfirm(button(actions, 'Reject'), 'dana has no ticket for this')).toBe(200);
        }),
      ]);
      expect(approved.state).toBe('success');
      expect(approved.tasks).toMatchObject({ grant_access: 'success', track_decision: 'success' });
      expect(await xcom(DAG, approved.runId, 'track_decision')).toMatchObject({ option: 'Approve' });
      expect((await approval(approvedId)).votes).toMatchObject([{ user: 'bob', option: 'Approve', channel: 'teams' }]);
      expect(await deliveriesOf(approvedId)).toEqual(expect.arrayContaining([expect.objectContaining({ recipient: 'bob', channel: 'teams', state: 'sent' })]));
      expect(await note(DAG, approved.runId, 'approve_access')).toContain('Approve by bob via teams');
      expect(rejected.state).toBe('success');
      expect(rejected.tasks).toMatchObject({ grant_access: 'skipped', track_decision: 'success' });
      expect(await xcom(DAG, rejected.runId, 'track_decision')).toMatchObject({ option: 'Reject' });
    });

    it('120_03_05_custom_approval: the bridge applies a one-level or a two-level policy by amount and answers Airflow', async () => {
      const DAG = '120_03_05_custom_approval';
      let largeId = '';
      const [small, large, refused] = await Promise.all([
        scenario(DAG, { amount: 900 }, (run) => decide(run, 'approve_payment', 'bob', { option: 'Approve' })),
        scenario(DAG, { amount: 25000 }, async (run) => {
          const { id } = await approvalOf(run, 'approve_payment');
          largeId = id;
          expect((await vote('alice', id, { option: 'Approve' })).status).toBe(403);
          expect((await vote('bob', id, { option: 'Approve' })).status).toBe(200);
          const second = await approval(id);
          expect(second).toMatchObject({ state: 'pending', policy: 'custom-payment-large', level: 2, progress: { levels: 2, level_name: 'controllers', needed: 2, approvals: 0 } });
          expect((await vote('carol', id, { option: 'Approve' })).body).toMatchObject({ state: 'pending', progress: { approvals: 1 } });
          expect((await vote('admin', id, { option: 'Approve' })).body.state).toBe('approved');
        }),
        scenario(DAG, { amount: 40000 }, async (run) => {
          const { id } = await approvalOf(run, 'approve_payment');
          expect((await vote('carol', id, { option: 'Approve' })).status).toBe(200);
          expect((await vote('admin', id, { option: 'Reject', reason: 'payee not on the vendor list' })).body.state).toBe('rejected');
        }),
      ]);
      expect(small.state).toBe('success');
      expect(small.tasks).toMatchObject({ execute_payment: 'success' });
      expect(await xcom(DAG, small.runId, 'record_decision')).toMatchObject({ state: 'approved', policy: 'custom-payment', deciders: [{ user: 'bob' }] });

      expect(large.state).toBe('success');
      expect(large.tasks).toMatchObject({ execute_payment: 'success' });
      expect((await approval(largeId)).votes.map((v) => [v.user, v.level])).toEqual([
        ['bob', 1],
        ['carol', 2],
        ['admin', 2],
      ]);
      // Airflow's side of the integration: the bridge's service account answered the HITL request.
      const hitl = await airflow(`/api/v2/dags/${DAG}/dagRuns/${encodeURIComponent(large.runId)}/taskInstances/approve_payment/-1/hitlDetails`, { token: tokens.admin });
      expect(hitl.body).toMatchObject({ chosen_options: ['Approve'], responded_by_user: { name: 'airgate' } });
      expect(await note(DAG, large.runId, 'approve_payment')).toMatch(/bob[\s\S]*carol[\s\S]*admin|admin[\s\S]*carol[\s\S]*bob/);

      expect(refused.state).toBe('success');
      expect(refused.tasks).toMatchObject({ execute_payment: 'skipped' });
      expect(await xcom(DAG, refused.runId, 'record_decision')).toMatchObject({
        state: 'rejected',
        policy: 'custom-payment-large',
        deciders: [
          { user: 'carol', option: 'Approve' },
          { user: 'admin', option: 'Reject', reason: 'payee not on the vendor list' },
        ],
      });
    });
  });
});
