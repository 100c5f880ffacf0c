import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';

import AirgatePlugin from '../../main';
import { fixtures } from '../../mocks/approvals';
import { approvalUrl, bypassUrl, RECEIPT_KID, votesUrl } from '../../mocks/handlers/approvals';
import { bridgeError } from '../../mocks/handlers/common';
import { server } from '../../mocks/server';
import { recordRequests } from '../../test/requests';
import { renderApp } from '../../test/renderApp';

const openApproval = async (id: string) => {
  window.history.replaceState(null, '', `/plugin/approvals?approval=${id}`);
  const user = userEvent.setup();
  render(<AirgatePlugin />);
  await screen.findByRole('heading', { level: 2 });
  return user;
};

const field = (name: string) => screen.getByRole('textbox', { name: new RegExp(`^${name}`) });
const decide = (option: string) => screen.getByRole('button', { name: `Vote ${option}` });

describe('Approval detail', () => {
  it('shows the request, its progress, votes, escalations and audit timeline', async () => {
    await openApproval(fixtures.release.id);

    expect(screen.getByRole('heading', { name: 'Release 2.4 to production' })).toBeInTheDocument();
    expect(screen.getByText('Requested by carol')).toBeInTheDocument();
    expect(screen.getByText('payments v2').tagName).toBe('STRONG');
    expect(screen.getByRole('link', { name: 'changelog' })).toHaveAttribute('href', 'https://example.com/changelog');
    expect(screen.getByText('Level 2 of 3: release managers')).toBeInTheDocument();
    expect(screen.getAllByText('1 of 2 approvals, 0 rejections').length).toBeGreaterThan(0);

    const votes = within(screen.getByRole('region', { name: 'Votes' }));
    expect(votes.getByRole('cell', { name: 'Tests green' })).toBeInTheDocument();
    expect(votes.getByText('dave')).toBeInTheDocument();
    const escalations = within(screen.getByRole('region', { name: 'Escalations' }));
    expect(
      await escalations.findByText(/Level 1: escalated to carol \(no decision within 2h\)/),
    ).toBeInTheDocument();
    const timeline = within(screen.getByRole('region', { name: 'Audit timeline' }));
    expect(await timeline.findByText('approval.registered')).toBeInTheDocument();
    expect(timeline.getByText('level.opened')).toBeInTheDocument();
    expect(timeline.getByText('vote.recorded')).toBeInTheDocument();
    expect(timeline.queryByText(fixtures.backfill.id)).not.toBeInTheDocument();

    expect(field('batch')).toHaveValue('10');
    expect(screen.getByText('Rows per batch')).toBeInTheDocument();
    expect(decide('Approve')).toBeEnabled();
    expect(decide('Reject')).toBeEnabled();
  });

  it('validates the form inline and sends nothing while it is invalid', async () => {
    const sent = recordRequests();
    const user = await openApproval(fixtures.release.id);

    await user.clear(field('batch'));
    await user.type(field('batch'), 'ten');
    expect(screen.getByText('Enter a whole number.')).toBeInTheDocument();
    await user.clear(field('batch'));
    await user.type(field('batch'), '0');
    expect(screen.getByText('Must be at least 1.')).toBeInTheDocument();
    await user.clear(field('batch'));
    await user.type(field('batch'), '20');
    expect(screen.queryByText('Must be at least 1.')).not.toBeInTheDocument();

    // "window" has no default and its schema does not allow null; the error shows once a vote is tried.
    expect(screen.queryByText('Required.')).not.toBeInTheDocument();
    await user.click(decide('Approve'));
    expect(screen.getByText('Required.')).toBeInTheDocument();
    expect(sent.filter(({ method }) => method === 'POST')).toEqual([]);
  });

  it('records an approving vote with the form input and reason', async () => {
    const sent = recordRequests();
    const user = await openApproval(fixtures.release.id);

    await user.selectOptions(screen.getByRole('combobox', { name: /^window/ }), 'night');
    await user.type(field('Reason'), 'Window booked');
    await user.click(decide('Approve'));

    expect(await screen.findByText('Your vote “Approve” was recorded.')).toBeInTheDocument();
    expect(sent.filter(({ method }) => method === 'POST')).toEqual([
      {
        method: 'POST',
        path: `/airgate/api/approvals/${fixtures.release.id}/votes`,
        query: {},
        contentType: expect.stringMatching(/^application\/json/),
        body: { option: 'Approve', reason: 'Window booked', params_input: { batch: 10, window: 'night', note: null } },
      },
    ]);
    // Its second approval decides the level; the page shows the new state without a reload.
    expect(await screen.findByText('This approval is approved; it takes no more votes.')).toBeInTheDocument();
    expect(within(screen.getByRole('region', { name: 'Votes' })).getByRole('cell', { name: 'Window booked' })).toBeInTheDocument();
  });

  it('says a vote is kept, not counted, when the bridge could not ask Airflow (202)', async () => {
    server.use(
      http.post(votesUrl, ({ params }) =>
        HttpResponse.json(
          { approval_id: String(params.id), user: 'alice', option: 'Approve', state: 'awaiting_airflow', received_at: '2026-11-25T11:00:00Z' },
          { status: 202 },
        ),
      ),
    );
    const user = await openApproval(fixtures.backfill.id);
    await user.click(decide('Approve'));

    const notice = await screen.findByRole('status');
    expect(notice).toHaveTextContent('Your vote “Approve” is kept: Airflow could not confirm just now that you may decide.');
    expect(screen.queryByText('Your vote “Approve” was recorded.')).not.toBeInTheDocument();
    // Nothing was counted: the approval is still open for votes.
    expect(decide('Approve')).toBeInTheDocument();
  });

  it('keeps the vote notice when Airflow remounts the plugin', async () => {
    window.history.replaceState(null, '', `/plugin/approvals?approval=${fixtures.backfill.id}`);
    const user = userEvent.setup();
    const { unmount } = render(<AirgatePlugin />);
    await user.click(await screen.findByRole('button', { name: 'Vote Approve' }));
    expect(await screen.findByText('Your vote “Approve” was recorded.')).toBeInTheDocument();

    unmount();
    render(<AirgatePlugin />);
    expect(await screen.findByText('Your vote “Approve” was recorded.')).toBeInTheDocument();
  });

  it("puts the server's 422 on the form field it names", async () => {
    server.use(
      http.post(votesUrl, () =>
        bridgeError(422, 'form_invalid', 'batch must be a multiple of 10', 'params_input.batch'),
      ),
    );
    const user = await openApproval(fixtures.release.id);
    await user.selectOptions(screen.getByRole('combobox', { name: /^window/ }), 'weekend');
    await user.click(decide('Approve'));

    const error = await screen.findByText('batch must be a multiple of 10');
    expect(field('batch')).toHaveAttribute('aria-invalid', 'true');
    expect(error.id).toBe(field('batch').getAttribute('aria-describedby')?.split(' ').find((id) => id === error.id));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();

    // Changing the field clears the server's complaint about it.
    await user.type(field('batch'), '0');
    expect(screen.queryByText('batch must be a multiple of 10')).not.toBeInTheDocument();
  });

  it('asks for a reason when the policy requires one, with the server’s words', async () => {
    const user = await openApproval(fixtures.release.id);
    await user.click(decide('Reject'));

    expect(await screen.findByText(/a reason is required to reject/)).toBeInTheDocument();
    expect(field('Reason')).toHaveAttribute('aria-invalid', 'true');
    expect(field('Reason')).toBeRequired();

    await user.type(field('Reason'), 'Not this week');
    await user.click(decide('Reject'));
    expect(await screen.findByText('Your vote “Reject” was recorded.')).toBeInTheDocument();
    expect(screen.getByText('This approval is rejected; it takes no more votes.')).toBeInTheDocument();
  });

  it.each([
    [403, 'self_approval', 'policy "prod_release" does not let the requester approve their own request'],
    [409, 'conflict', 'approval is already approved'],
    [410, 'gone', 'this approval link expired'],
  ])('shows the server’s %i message', async (status, code, message) => {
    server.use(http.post(votesUrl, () => bridgeError(status, code, message)));
    const user = await openApproval(fixtures.backfill.id);
    await user.click(decide('Approve'));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Your vote was not recorded');
    expect(alert).toHaveTextContent(message);
  });

  it('shows a decided approval without a form', async () => {
    await openApproval(fixtures.decided.id);

    expect(screen.getByText('This approval is rejected; it takes no more votes.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Vote / })).not.toBeInTheDocument();
    expect(screen.getAllByText('Reject')).toHaveLength(2);
  });

  it('shows a decided approval’s signed receipt and saves its JWS; a pending one has none', async () => {
    const saved: Blob[] = [];
    const createObjectURL = vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => (saved.push(blob as Blob), 'blob:receipt'));
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const user = await openApproval(fixtures.decided.id);

    const receipt = within(screen.getByRole('region', { name: 'Signed receipt' }));
    expect(await receipt.findByText(RECEIPT_KID)).toBeInTheDocument();
    expect(receipt.getByText('Verified')).toBeInTheDocument();
    expect(receipt.getByText(fixtures.decided.content_digest)).toBeInTheDocument();
    await user.click(receipt.getByRole('button', { name: 'Download receipt (JWS)' }));
    expect(click).toHaveBeenCalledOnce();
    const jws = await saved[0]!.text();
    expect(jws.split('.')).toHaveLength(3);
    expect(JSON.parse(atob(jws.split('.')[1]!.replaceAll('-', '+').replaceAll('_', '/')))).toMatchObject({ approval_id: fixtures.decided.id, outcome: { state: 'rejected' } });
    createObjectURL.mockRestore();
    click.mockRestore();

    cleanup();
    await openApproval(fixtures.release.id);
    expect(screen.queryByRole('region', { name: 'Signed receipt' })).not.toBeInTheDocument();
  });

  it('breaks the glass with a reason: the approval shows the bypass and links to its review, which shows what it reviews', async () => {
    const sent = recordRequests();
    const user = await openApproval(fixtures.release.id);
    const glass = within(screen.getByRole('region', { name: 'Break glass' }));
    const button = glass.getByRole('button', { name: 'Bypass now' });
    expect(button).toBeDisabled();

    await user.type(glass.getByRole('textbox', { name: /^Why this cannot wait/ }), 'payments are down');
    await user.click(button);

    expect(await screen.findByText(/^Bypassed with break-glass by alice at /)).toBeInTheDocument();
    expect(within(screen.getByRole('status')).getByText('payments are down')).toBeInTheDocument();
    expect(sent.filter(({ method }) => method === 'POST')).toEqual([
      expect.objectContaining({ path: `/airgate/api/approvals/${fixtures.release.id}/bypass`, body: { reason: 'payments are down' } }),
    ]);
    expect(screen.queryByRole('region', { name: 'Break glass' })).not.toBeInTheDocument();
    expect(screen.getByText('This approval is bypassed; it takes no more votes.')).toBeInTheDocument();
    const toReview = screen.getByRole('link', { name: 'Open the review of this bypass' });
    expect(new URL(toReview.getAttribute('href') ?? '').searchParams.get('approval')).toBe(`${fixtures.release.id}-review`);

    cleanup();
    await openApproval(`${fixtures.release.id}-review`);
    expect(screen.getByText('Review of a break-glass bypass by alice')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Open the bypassed approval' })).toBeInTheDocument();
    expect(decide('Confirm')).toBeEnabled();
  });

  it('shows the bridge refusing a bypass, and offers none where the policy allows none', async () => {
    server.use(http.post(bypassUrl, () => bridgeError(403, 'break_glass_not_allowed', 'alice is not allowed to break the glass under policy "prod_release"')));
    const user = await openApproval(fixtures.release.id);
    const glass = within(screen.getByRole('region', { name: 'Break glass' }));
    await user.type(glass.getByRole('textbox', { name: /^Why this cannot wait/ }), 'in a hurry');
    await user.click(glass.getByRole('button', { name: 'Bypass now' }));

    expect(await glass.findByText(/alice is not allowed to break the glass/)).toBeInTheDocument();
    expect(screen.queryByText(/^Bypassed with break-glass/)).not.toBeInTheDocument();
    cleanup();
    await openApproval(fixtures.backfill.id);
    expect(screen.queryByRole('region', { name: 'Break glass' })).not.toBeInTheDocument();
  });

  it('says so when the approval cannot be loaded', async () => {
    await waitFor(() => undefined);
    window.history.replaceState(null, '', '/plugin/approvals?approval=missing');
    render(<AirgatePlugin />);

    expect(await screen.findByRole('alert')).toHaveTextContent('approval missing not found');
  });
});

describe('Approval tab of a task instance', () => {
  it("shows the task instance's approval", async () => {
    const { dag_id: dagId, run_id: runId, task_id: taskId } = fixtures.backfill;
    render(<AirgatePlugin dagId={dagId} runId={runId} taskId={taskId} />);

    expect(await screen.findByRole('heading', { name: fixtures.backfill.subject })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Vote Approve' })).toBeInTheDocument();
  });

  it('says so when the task instance requested no approval', async () => {
    render(<AirgatePlugin dagId="nightly_etl" runId={fixtures.backfill.run_id} taskId="extract" />);

    expect(await screen.findByText('No approval was requested for this task instance.')).toBeInTheDocument();
  });

  it('warns when the quorum cannot be met as things stand', async () => {
    server.use(http.get(approvalUrl, () => HttpResponse.json({ ...fixtures.release, warnings: ['level "pair": "pair" needs 3 of bob, carol'] })));
    await openApproval(fixtures.release.id);

    expect(screen.getByText('As things stand, this approval cannot be decided: the people who may decide cannot meet its quorum')).toBeInTheDocument();
    expect(screen.getByText('level "pair": "pair" needs 3 of bob, carol')).toBeInTheDocument();
  });

  it("treats options by the bridge's outcome, not by their word, and shows a policy error", async () => {
    const sent = recordRequests();
    server.use(
      http.get(approvalUrl, () =>
        HttpResponse.json({
          ...fixtures.release,
          options: ['Ship', 'Hold'],
          option_outcomes: [
            { option: 'Ship', outcome: 'approve' },
            { option: 'Hold', outcome: 'reject' },
          ],
          policy_error: 'policy "payments": cannot evaluate amount >= 10000: Expected a number, but got a text instead.',
        }),
      ),
    );
    const user = await openApproval(fixtures.release.id);

    expect(screen.getByText('Held: no policy can decide this approval until the policies file or the request is fixed')).toBeInTheDocument();
    expect(screen.getByText(/cannot evaluate amount >= 10000/)).toBeInTheDocument();
    await user.clear(field('batch'));
    await user.type(field('batch'), 'ten');
    // Ship approves, so an invalid form stops it; Hold says no under this policy, so it goes without the form.
    await user.click(decide('Ship'));
    expect(sent.filter((r) => r.method === 'POST')).toEqual([]);
    await user.click(decide('Hold'));
    await waitFor(() => expect(sent.filter((r) => r.method === 'POST')).toHaveLength(1));
    expect(sent.find((r) => r.method === 'POST')?.body).toEqual({ option: 'Hold' });
  });
});

describe('Task instance tab', () => {
  const release = {
    dagId: fixtures.release.dag_id,
    runId: fixtures.release.run_id,
    taskId: fixtures.release.task_id,
  };

  it("asks the bridge for that task instance's approval, by run, task and map index", async () => {
    const sent = recordRequests();
    renderApp('Approval', release);

    expect(await screen.findByRole('heading', { name: 'Release 2.4 to production' })).toBeInTheDocument();
    expect(sent.find(({ path }) => path.endsWith('/approvals'))?.query).toEqual({
      state: 'all',
      dag_id: release.dagId,
      run_id: release.runId,
      task_id: release.taskId,
      map_index: '-1',
      limit: '500',
    });
  });

  it('says so when the task instance requested no approval', async () => {
    renderApp('Approval', { ...release, mapIndex: '4' });
    expect(await screen.findByText('No approval was requested for this task instance.')).toBeInTheDocument();
  });
});
