import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import type { ApprovalList } from '../../api/client';
import AirgatePlugin from '../../main';
import { backfill, purge, release } from '../../mocks/approvals';
import { approvalsUrl, bridgeError, votesUrl } from '../../mocks/handlers/approvals';
import { server } from '../../mocks/server';

type Sent = {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | null;
  readonly body: unknown;
};

const recordRequests = () => {
  const sent: Sent[] = [];
  server.events.on('request:start', async ({ request }) => {
    const url = new URL(request.url);
    sent.push({
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: request.headers.get('content-type'),
      body: request.method === 'GET' ? undefined : await request.clone().json(),
    });
  });
  return sent;
};

const openVote = async (option: string, subject: string) => {
  const user = userEvent.setup();
  await user.click(await screen.findByRole('button', { name: `${option} ${subject}` }));
  const dialog = await screen.findByRole('dialog', { name: subject });
  return { dialog, user };
};

describe('Approvals', () => {
  it('lists the pending approvals with their votes so far', async () => {
    render(<AirgatePlugin />);

    expect(screen.getByRole('heading', { name: 'Approvals' })).toBeInTheDocument();
    const cells = within(await screen.findByRole('row', { name: /Backfill November/ }));
    expect(cells.getByRole('cell', { name: backfill.dag_id })).toBeInTheDocument();
    expect(cells.getByRole('cell', { name: backfill.run_id })).toBeInTheDocument();
    expect(cells.getByRole('cell', { name: backfill.task_id })).toBeInTheDocument();
    expect(cells.getByText('bob: Approve')).toBeInTheDocument();
    expect(cells.getByRole('button', { name: 'Reject Backfill November' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: `Approve ${release.subject}` })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: `Purge ${purge.subject}` })).toBeInTheDocument();
  });

  it('says so when nothing is waiting', async () => {
    server.use(
      http.get(approvalsUrl, () => HttpResponse.json<ApprovalList>({ items: [], next_cursor: null })),
    );
    render(<AirgatePlugin />);

    expect(await screen.findByText('No approvals are waiting for you.')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it("shows the bridge's error when it cannot list approvals", async () => {
    server.use(http.get(approvalsUrl, () => bridgeError(503, 'unavailable', 'Airflow is not reachable')));
    render(<AirgatePlugin />);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load approvals');
    expect(alert).toHaveTextContent('Airflow is not reachable');
  });

  it('explains an error that did not come from the bridge', async () => {
    server.use(
      http.get(approvalsUrl, () =>
        HttpResponse.json({ detail: 'airgate bridge unreachable' }, { status: 503 }),
      ),
    );
    render(<AirgatePlugin />);

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The approvals service answered with HTTP 503.',
    );
  });

  it('records a vote with its reason and refreshes the list', async () => {
    const sent = recordRequests();
    render(<AirgatePlugin />);
    const { dialog, user } = await openVote('Approve', release.subject);

    expect(within(dialog).getByText('payments v2').tagName).toBe('STRONG');
    await user.type(within(dialog).getByRole('textbox', { name: 'Reason' }), 'Changelog reviewed');
    await user.click(within(dialog).getByRole('button', { name: 'Approve' }));

    expect(await screen.findByRole('status')).toHaveTextContent(
      'Your vote “Approve” on “Release 2.4 to production” was recorded.',
    );
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.queryByRole('cell', { name: release.subject })).not.toBeInTheDocument();
    expect(screen.getByRole('cell', { name: backfill.subject })).toBeInTheDocument();

    expect(sent.filter(({ method }) => method === 'POST')).toEqual([
      {
        method: 'POST',
        path: `/airgate/api/approvals/${release.id}/votes`,
        query: {},
        contentType: expect.stringMatching(/^application\/json/),
        body: { option: 'Approve', reason: 'Changelog reviewed' },
      },
    ]);
  });

  it('keeps the vote disabled until a reason is given', async () => {
    render(<AirgatePlugin />);
    const { dialog, user } = await openVote('Reject', backfill.subject);
    const confirm = within(dialog).getByRole('button', { name: 'Reject' });
    const reason = within(dialog).getByRole('textbox', { name: 'Reason' });

    expect(confirm).toBeDisabled();
    await user.type(reason, '   ');
    expect(confirm).toBeDisabled();
    await user.type(reason, 'Wrong month');
    expect(confirm).toBeEnabled();

    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it("shows the bridge's refusal in the dialog and keeps it open", async () => {
    server.use(
      http.post(votesUrl, () => bridgeError(403, 'forbidden', 'You may not approve your own request')),
    );
    render(<AirgatePlugin />);
    const { dialog, user } = await openVote('Approve', release.subject);

    await user.type(within(dialog).getByRole('textbox', { name: 'Reason' }), 'Ship it');
    await user.click(within(dialog).getByRole('button', { name: 'Approve' }));

    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'You may not approve your own request',
    );
    expect(screen.getByRole('dialog', { name: release.subject })).toBeInTheDocument();
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });

  it("shows only the task instance's approval on its page", async () => {
    const sent = recordRequests();
    render(
      <AirgatePlugin dagId={backfill.dag_id} runId={backfill.run_id} taskId={backfill.task_id} />,
    );

    expect(await screen.findByRole('cell', { name: backfill.subject })).toBeInTheDocument();
    expect(screen.queryByRole('cell', { name: purge.subject })).not.toBeInTheDocument();
    expect(screen.queryByRole('cell', { name: release.subject })).not.toBeInTheDocument();
    expect(sent).toContainEqual(
      expect.objectContaining({
        method: 'GET',
        path: '/airgate/api/approvals',
        query: { state: 'pending', dag_id: backfill.dag_id },
      }),
    );
  });
});
