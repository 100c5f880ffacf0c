import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { ApprovalList } from '../../api/client';
import AirgatePlugin from '../../main';
import { allApprovals, fixtures, replaceApproval, seedPending } from '../../mocks/approvals';
import { approvalsUrl } from '../../mocks/handlers/approvals';
import { bridgeError } from '../../mocks/handlers/common';
import { server } from '../../mocks/server';
import { recordRequests } from '../../test/requests';

const rowOf = async (subject: string) =>
  within((await screen.findByRole('button', { name: subject })).closest('tr') as HTMLElement);

const bodyRows = () => screen.getAllByRole('row').slice(1);

describe('Approvals inbox', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows a held approval’s policy error where its deadline would be', async () => {
    replaceApproval({ ...fixtures.backfill, policy_error: 'policy "payments": cannot evaluate amount >= 10000' });
    render(<AirgatePlugin />);

    const row = await rowOf(fixtures.backfill.subject);
    expect(row.getByText('Policy error')).toHaveAttribute('title', 'policy "payments": cannot evaluate amount >= 10000');
    expect(row.queryByText(/left$/)).not.toBeInTheDocument();
  }, 30_000);

  it('lists the approvals waiting for me, soonest deadline first, with level, votes and who waits', async () => {
    const sent = recordRequests();
    render(<AirgatePlugin />);

    expect(screen.getByRole('heading', { name: 'Approvals' })).toBeInTheDocument();
    expect(screen.getByText('Loading approvals…')).toBeInTheDocument();
    const row = await rowOf(fixtures.release.subject);
    expect(row.getByRole('cell', { name: 'deploy_prod' })).toBeInTheDocument();
    expect(row.getByRole('cell', { name: fixtures.release.run_id })).toBeInTheDocument();
    expect(row.getByRole('cell', { name: 'approve_release' })).toBeInTheDocument();
    expect(row.getByRole('cell', { name: '2 of 3' })).toBeInTheDocument();
    expect(row.getByRole('cell', { name: '1/2' })).toBeInTheDocument();
    expect(row.getByRole('cell', { name: 'carol' })).toBeInTheDocument();
    expect(row.getByText(/^(29m \d+s|30m 0s) left$/).closest('[data-urgency]')).toHaveAttribute(
      'data-urgency',
      'warning',
    );
    const backfill = await rowOf(fixtures.backfill.subject);
    expect(backfill.getByText(/^[45]h \d+m left$/).closest('[data-urgency]')).toHaveAttribute('data-urgency', 'ok');

    // Alice requested the purge herself, so it is not hers to decide.
    expect(screen.queryByRole('button', { name: fixtures.purge.subject })).not.toBeInTheDocument();
    expect(bodyRows().map((r) => within(r).getAllByRole('cell')[3]?.textContent)).toEqual([
      fixtures.release.subject,
      fixtures.backfill.subject,
    ]);
    expect(sent[0]).toMatchObject({
      path: '/airgate/api/approvals',
      query: { state: 'pending', mine: 'true', limit: '200' },
    });
  });

  it('shows every pending approval, a breached deadline in red, and sorts latest first on request', async () => {
    const user = userEvent.setup();
    render(<AirgatePlugin />);
    await user.click(await screen.findByRole('radio', { name: 'All pending' }));

    const purge = await rowOf(fixtures.purge.subject);
    expect(purge.getByText(/^overdue by (9|10)m \d+s$/).closest('[data-urgency]')).toHaveAttribute(
      'data-urgency',
      'breached',
    );
    expect(within(bodyRows()[0] as HTMLElement).getByText(fixtures.purge.subject)).toBeInTheDocument();

    await user.selectOptions(screen.getByRole('combobox', { name: 'Sort by deadline' }), 'latest');
    expect(within(bodyRows()[0] as HTMLElement).getByText(fixtures.backfill.subject)).toBeInTheDocument();
  });

  it('shows decided approvals with their state', async () => {
    const sent = recordRequests();
    const user = userEvent.setup();
    render(<AirgatePlugin />);
    await user.click(await screen.findByRole('radio', { name: 'Decided' }));

    const row = await rowOf(fixtures.decided.subject);
    expect(row.getByText('Rejected')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: fixtures.release.subject })).not.toBeInTheDocument();
    expect(sent.at(-1)?.query).toEqual({ state: 'all', limit: '200' });
  });

  it('searches DAG, task and subject among the loaded approvals', async () => {
    const user = userEvent.setup();
    render(<AirgatePlugin />);
    await rowOf(fixtures.release.subject);
    const search = screen.getByRole('searchbox', { name: 'Search DAG, task or subject' });

    await user.type(search, 'backfill');
    await waitFor(() => expect(screen.queryByRole('button', { name: fixtures.release.subject })).not.toBeInTheDocument());
    expect(screen.getByRole('button', { name: fixtures.backfill.subject })).toBeInTheDocument();

    await user.clear(search);
    await user.type(search, 'deploy release');
    await waitFor(() => expect(screen.queryByRole('button', { name: fixtures.backfill.subject })).not.toBeInTheDocument());
    expect(screen.getByRole('button', { name: fixtures.release.subject })).toBeInTheDocument();

    await user.type(search, ' nothing-like-this');
    expect(await screen.findByText('No approvals match your search.')).toBeInTheDocument();
  });

  it('filters by DAG on the server', async () => {
    const sent = recordRequests();
    const user = userEvent.setup();
    render(<AirgatePlugin />);
    await rowOf(fixtures.release.subject);

    await user.type(screen.getByRole('textbox', { name: 'DAG id' }), 'nightly_etl');
    await waitFor(() => expect(screen.queryByRole('button', { name: fixtures.release.subject })).not.toBeInTheDocument());
    expect(await screen.findByRole('button', { name: fixtures.backfill.subject })).toBeInTheDocument();
    expect(sent.at(-1)?.query).toMatchObject({ dag_id: 'nightly_etl', state: 'pending' });
  });

  it('says so when nothing is waiting', async () => {
    server.use(http.get(approvalsUrl, () => HttpResponse.json<ApprovalList>({ items: [], next_cursor: null })));
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
    server.use(http.get(approvalsUrl, () => HttpResponse.json({ detail: 'bridge unreachable' }, { status: 503 })));
    render(<AirgatePlugin />);

    expect(await screen.findByRole('alert')).toHaveTextContent('The approvals service answered with HTTP 503.');
  });

  it('opens an approval from its row and comes back with the Back button', async () => {
    const user = userEvent.setup();
    render(<AirgatePlugin />);

    (await screen.findByRole('button', { name: fixtures.backfill.subject })).focus();
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('heading', { name: fixtures.backfill.subject, level: 2 })).toBeInTheDocument();
    expect(window.location.search).toBe(`?approval=${fixtures.backfill.id}`);

    act(() => {
      window.history.back();
    });
    await waitFor(() => expect(window.location.search).toBe(''));
    fireEvent(window, new PopStateEvent('popstate'));
    expect(await screen.findByRole('button', { name: fixtures.release.subject })).toBeInTheDocument();
  });

  it('picks up a vote cast elsewhere within the polling interval', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    render(<AirgatePlugin />);
    const row = await rowOf(fixtures.backfill.subject);
    expect(row.getByRole('cell', { name: '1/2' })).toBeInTheDocument();

    const stored = allApprovals().find(({ id }) => id === fixtures.backfill.id);
    replaceApproval({ ...fixtures.backfill, votes: [], progress: { levels: 1, level_name: 'data team', needed: 2, approvals: 0, rejections: 0 } });
    expect(stored).toBeDefined();
    await act(() => vi.advanceTimersByTimeAsync(5_000));

    await waitFor(() => expect(row.getByRole('cell', { name: '0/2' })).toBeInTheDocument());
  });

  it('stays windowed with 10,000 pending approvals and pages in more as it scrolls', async () => {
    seedPending(10_000);
    const sent = recordRequests();
    const user = userEvent.setup();
    const started = performance.now();
    render(<AirgatePlugin />);
    await user.click(await screen.findByRole('radio', { name: 'All pending' }));
    await screen.findByRole('button', { name: 'Bulk approval 0' });
    const firstRender = performance.now() - started;

    // Only a screenful (plus overscan) of the 200 loaded rows is in the document.
    expect(bodyRows().length).toBeLessThan(60);
    expect(screen.getByText(/of 200 loaded \(more on the server\)/)).toBeInTheDocument();
    expect(firstRender).toBeLessThan(5_000);

    const scroller = screen.getByTestId('approvals-scroll');
    scroller.scrollTop = 170 * 41;
    fireEvent.scroll(scroller);
    await waitFor(() => expect(screen.getByText(/of 400 loaded/)).toBeInTheDocument());
    expect(sent.filter(({ query }) => query.cursor === '200')).not.toHaveLength(0);
    expect(bodyRows().length).toBeLessThan(60);
  });
});
