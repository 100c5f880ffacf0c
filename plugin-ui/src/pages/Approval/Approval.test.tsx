import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';

import AirgatePlugin from '../../main';
import { fixtures } from '../../mocks/approvals';
import { votesUrl } from '../../mocks/handlers/approvals';
import { bridgeError } from '../../mocks/handlers/common';
import { server } from '../../mocks/server';
import { recordRequests } from '../../test/requests';

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
});
