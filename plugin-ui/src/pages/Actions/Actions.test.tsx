import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { actionsUrl, confirmUrl } from '../../mocks/handlers/actions';
import { bridgeError } from '../../mocks/handlers/common';
import { server } from '../../mocks/server';
import { renderApp } from '../../test/renderApp';
import { recordRequests } from '../../test/requests';

const run = { dagId: 'nightly_etl', runId: 'scheduled__2025-11-24T00:00:00+00:00' };
const task = { ...run, taskId: 'extract' };

const openAction = async (label: string, user = userEvent.setup()) => {
  await user.click(await screen.findByRole('button', { name: label }));
  const dialog = within(await screen.findByRole('dialog', { name: label }));
  return { dialog, user };
};

const posts = (sent: ReturnType<typeof recordRequests>) => sent.filter(({ method }) => method === 'POST');

describe('Task actions', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('clears a task with its downstream after showing the effect and a reason', async () => {
    const sent = recordRequests();
    renderApp('Task actions', task);
    const { dialog, user } = await openAction('Clear task');

    await user.click(dialog.getByRole('button', { name: 'Review' }));
    expect(dialog.getByText('Required.')).toBeInTheDocument();
    expect(posts(sent)).toEqual([]);

    await user.click(dialog.getByRole('checkbox', { name: 'Also clear downstream tasks' }));
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'Bad input file');
    await user.click(dialog.getByRole('button', { name: 'Review' }));

    expect(await dialog.findByText('clears 4 tasks: extract, load, report, notify')).toBeInTheDocument();
    expect(dialog.getByText(/^Confirm within (59|1m 0)s?/)).toBeInTheDocument();
    await user.click(dialog.getByRole('button', { name: 'Confirm' }));
    expect(await dialog.findByText('Clear task: done.')).toBeInTheDocument();

    expect(posts(sent).map(({ path, body }) => ({ path, body }))).toEqual([
      {
        path: '/airgate/api/actions',
        body: {
          kind: 'clear_task',
          dag_id: task.dagId,
          run_id: task.runId,
          task_id: 'extract',
          map_index: -1,
          include_downstream: true,
          reason: 'Bad input file',
        },
      },
      { path: '/airgate/api/actions/confirm', body: { token: expect.stringMatching(/^confirm-/) } },
    ]);
  });

  it('marks a task success', async () => {
    const sent = recordRequests();
    renderApp('Task actions', { ...task, mapIndex: '2' });
    const { dialog, user } = await openAction('Mark task success');
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'Done by hand');
    await user.click(dialog.getByRole('button', { name: 'Review' }));

    expect(await dialog.findByText('marks extract success')).toBeInTheDocument();
    expect(posts(sent)[0]?.body).toMatchObject({ kind: 'mark_task', state: 'success', map_index: 2 });
  });

  it('disables Confirm once the confirmation expires, and can review again', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    renderApp('Task actions', task);
    const user = userEvent.setup({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
    const { dialog } = await openAction('Mark task failed', user);
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'Stuck');
    await user.click(dialog.getByRole('button', { name: 'Review' }));
    expect(await dialog.findByRole('button', { name: 'Confirm' })).toBeEnabled();

    await act(() => vi.advanceTimersByTimeAsync(61_000));

    expect(dialog.getByRole('alert')).toHaveTextContent('This confirmation expired.');
    expect(dialog.queryByRole('button', { name: 'Confirm' })).not.toBeInTheDocument();
    await user.click(dialog.getByRole('button', { name: 'Review again' }));
    expect(dialog.getByRole('textbox', { name: /^Reason/ })).toHaveValue('Stuck');
  });

  it("shows the server's 410 when the confirmation was no longer valid", async () => {
    server.use(http.post(confirmUrl, () => bridgeError(410, 'gone', 'the confirmation was already used')));
    renderApp('Task actions', task);
    const { dialog, user } = await openAction('Mark task failed');
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'Stuck');
    await user.click(dialog.getByRole('button', { name: 'Review' }));
    await user.click(await dialog.findByRole('button', { name: 'Confirm' }));

    const alert = await dialog.findByRole('alert');
    expect(alert).toHaveTextContent('This confirmation expired.');
    expect(alert).toHaveTextContent('the confirmation was already used');
    expect(dialog.getByRole('button', { name: 'Review again' })).toBeInTheDocument();
  });

  it.each([
    [403, 'forbidden', 'alice may not clear tasks of nightly_etl'],
    [409, 'conflict', 'the run is already finished'],
  ])("shows the server's %i message", async (status, code, message) => {
    server.use(http.post(actionsUrl, () => bridgeError(status, code, message)));
    renderApp('Task actions', task);
    const { dialog, user } = await openAction('Clear task');
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'Try');
    await user.click(dialog.getByRole('button', { name: 'Review' }));

    const alert = await dialog.findByRole('alert');
    expect(alert).toHaveTextContent('The action was not applied');
    expect(alert).toHaveTextContent(message);
  });

  it("puts the server's 422 on the field it names", async () => {
    server.use(http.post(actionsUrl, () => bridgeError(422, 'reason_required', 'say why, in a sentence', 'reason')));
    renderApp('Task actions', task);
    const { dialog, user } = await openAction('Clear task');
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'x');
    await user.click(dialog.getByRole('button', { name: 'Review' }));

    expect(await dialog.findByText('say why, in a sentence')).toBeInTheDocument();
    expect(dialog.getByRole('textbox', { name: /^Reason/ })).toHaveAttribute('aria-invalid', 'true');
  });

  it('asks to be opened from a task instance', () => {
    renderApp('Task actions', run);
    expect(screen.getByText('Open this page from a task instance.')).toBeInTheDocument();
  });
});

describe('Run actions', () => {
  it('triggers a run with conf, validating the JSON first', async () => {
    const sent = recordRequests();
    renderApp('Run actions', run);
    const { dialog, user } = await openAction('Trigger run');
    const conf = dialog.getByRole('textbox', { name: 'Run configuration (JSON)' });

    await user.clear(conf);
    await user.type(conf, '[[1, 2]');
    expect(dialog.getByText('Enter a JSON object.')).toBeInTheDocument();
    await user.clear(conf);
    await user.type(conf, '{{"day": "2025-11-24"}');
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'Rerun the day');
    await user.click(dialog.getByRole('button', { name: 'Review' }));

    expect(await dialog.findByText('triggers a run of nightly_etl with conf {"day":"2025-11-24"}')).toBeInTheDocument();
    await user.click(dialog.getByRole('button', { name: 'Confirm' }));
    expect(await dialog.findByText('Trigger run: done.')).toBeInTheDocument();
    expect(posts(sent)[0]?.body).toEqual({
      kind: 'trigger_run',
      dag_id: run.dagId,
      conf: { day: '2025-11-24' },
      reason: 'Rerun the day',
    });
  });

  it('previews who would have to approve a task for the conf before the run is triggered', async () => {
    const sent = recordRequests();
    renderApp('Run actions', { dagId: 'payments', runId: 'manual__1' });
    const { dialog, user } = await openAction('Trigger run');
    const conf = dialog.getByRole('textbox', { name: 'Run configuration (JSON)' });
    await user.clear(conf);
    await user.type(conf, '{{"amount": 25000}');
    await user.type(dialog.getByRole('textbox', { name: 'Approval task id' }), 'approve');
    await user.click(dialog.getByRole('button', { name: 'Preview policy' }));

    expect(await dialog.findByRole('heading', { name: 'Policy: payments-large' })).toBeInTheDocument();
    expect(dialog.getByRole('group', { name: 'Level 2: controllers' })).toHaveTextContent('Quorum not reachable');
    // Nothing was triggered: the preview changes nothing.
    expect(posts(sent).map(({ path, body }) => ({ path, body }))).toEqual([
      { path: '/airgate/api/policies/dry-run', body: { dag_id: 'payments', task_id: 'approve', map_index: -1, conf: { amount: 25000 }, params: {}, options: [] } },
    ]);
  });

  it.each([
    ['Mark run failed', 'marks run scheduled__2025-11-24T00:00:00+00:00 failed and stops 2 running tasks'],
    ['Pause DAG', 'pauses nightly_etl: no new runs are scheduled'],
  ])('%s shows its effect before applying', async (label, effect) => {
    renderApp('Run actions', run);
    const { dialog, user } = await openAction(label);
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'Incident 42');
    await user.click(dialog.getByRole('button', { name: 'Review' }));

    expect(await dialog.findByText(effect)).toBeInTheDocument();
    await user.click(dialog.getByRole('button', { name: 'Confirm' }));
    expect(await dialog.findByText(`${label}: done.`)).toBeInTheDocument();
    await user.click(dialog.getAllByRole('button', { name: 'Close' })[0] as HTMLElement);
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('publishes an asset event with its id and extra', async () => {
    const sent = recordRequests();
    renderApp('Run actions', run);
    const { dialog, user } = await openAction('Publish asset event');
    await user.type(dialog.getByRole('textbox', { name: /^Reason/ }), 'Upstream file landed');
    await user.click(dialog.getByRole('button', { name: 'Review' }));
    expect(dialog.getByText('Required.')).toBeInTheDocument();

    await user.type(dialog.getByRole('textbox', { name: /^Asset id/ }), '7');
    await user.click(dialog.getByRole('button', { name: 'Review' }));
    expect(await dialog.findByText('publishes an event of asset 7')).toBeInTheDocument();
    expect(posts(sent)[0]?.body).toEqual({ kind: 'publish_asset_event', asset_id: 7, extra: {}, reason: 'Upstream file landed' });
  });
});
