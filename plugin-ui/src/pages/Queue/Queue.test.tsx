import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { allApprovals, seedModeration } from '../../mocks/approvals';
import { recordRequests } from '../../test/requests';
import { renderApp } from '../../test/renderApp';

const openQueue = async () => {
  seedModeration();
  const sent = recordRequests();
  const user = userEvent.setup();
  renderApp('Review queue');
  expect(screen.getByRole('heading', { name: 'Review queue' })).toBeInTheDocument();
  await user.type(screen.getByRole('textbox', { name: 'Policy' }), 'content-moderation');
  // Back from the filter to the queue, where the keys work.
  await user.click(await screen.findByRole('heading', { name: 'Post 1' }));
  return { user, sent };
};

const openItem = (subject: string) => screen.findByRole('region', { name: subject });
const rowOf = (subject: string) =>
  within(screen.getByRole('button', { name: `Open ${subject}` }).closest('tr') as HTMLElement);
// The posts' claims (before the policy filter applied, the first item of the whole queue was open for a moment).
const writes = (sent: ReturnType<typeof recordRequests>) =>
  sent.filter((r) => r.method !== 'GET' && r.path.includes('/mod-')).map((r) => `${r.method} ${r.path.replace('/airgate/api/', '')}`);
const state = (id: string) => allApprovals().find((a) => a.id === id)?.state;

describe('Review queue', () => {
  it('lists what I may decide under a policy, claims the item I open and gives it back when I move on', async () => {
    const { user, sent } = await openQueue();

    expect(sent.find((r) => r.path === '/airgate/api/approvals' && r.query.policy === 'content-moderation')?.query).toMatchObject({
      state: 'pending',
      mine: 'true',
    });
    const open = within(await openItem('Post 1'));
    expect(await open.findByText(/^Claimed by you until/)).toBeInTheDocument();
    expect(open.getByText('Score 3.00').tagName).toBe('STRONG');
    expect(await rowOf('Post 1').findByText('you')).toBeInTheDocument();
    expect(rowOf('Post 2').getByText('bob')).toBeInTheDocument();

    await user.keyboard('j');
    const held = within(await openItem('Post 2'));
    expect(await held.findByText('bob is reviewing this approval')).toBeInTheDocument();
    expect(held.getByRole('button', { name: 'Vote Keep' })).toBeDisabled();
    // Someone else's item: the keys decide nothing.
    await user.keyboard('a');
    await user.keyboard('k');
    await openItem('Post 1');
    await waitFor(() =>
      expect(writes(sent)).toEqual([
        'PUT queue/mod-1/claim',
        'DELETE queue/mod-1/claim',
        'PUT queue/mod-2/claim',
        'DELETE queue/mod-2/claim',
        'PUT queue/mod-1/claim',
      ]),
    );
  });

  it('decides one at a time with the keys: a approves, r asks for a reason, Escape thinks again', async () => {
    const { user, sent } = await openQueue();

    await user.keyboard('a');
    // Decided: the next item opens; bob holds that one, so on to the one after.
    await openItem('Post 2');
    await waitFor(() => expect(state('mod-1')).toBe('approved'));
    await user.keyboard('j');
    await openItem('Post 3');

    await user.keyboard('r');
    const reason = await screen.findByRole('textbox', { name: 'Reason for Remove' });
    expect(reason).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('textbox', { name: 'Reason for Remove' })).not.toBeInTheDocument();

    await user.keyboard('r');
    await user.type(await screen.findByRole('textbox', { name: 'Reason for Remove' }), 'spam{Enter}');
    await openItem('Post 4');
    expect(allApprovals().find((a) => a.id === 'mod-3')).toMatchObject({ state: 'rejected', votes: [{ option: 'Remove', reason: 'spam' }] });
    expect(sent.filter((r) => r.path.endsWith('/votes')).map((r) => r.body)).toEqual([{ option: 'Keep' }, { option: 'Remove', reason: 'spam' }]);
    // The reason's box closed: the keys work again.
    await user.keyboard('x');
    expect(await screen.findByText('1 item selected')).toBeInTheDocument();
  });

  it('decides the selected items together with one reason and shows each one it refused', async () => {
    const { user, sent } = await openQueue();

    await user.keyboard('x');
    await user.click(rowOf('Post 2').getByRole('checkbox', { name: 'Select Post 2' }));
    await user.keyboard('jjx');
    const bulk = within(screen.getByRole('region', { name: 'Decide the selected items' }));
    expect(bulk.getByText('3 items selected')).toBeInTheDocument();
    await user.selectOptions(bulk.getByRole('combobox', { name: 'Decision for all' }), 'Remove');
    await user.type(bulk.getByRole('textbox', { name: 'One reason for all' }), 'spam wave');
    await user.click(bulk.getByRole('button', { name: 'Remove: 3 items' }));

    const result = await bulk.findByRole('status');
    expect(result).toHaveTextContent('2 decided, 1 refused.');
    expect(result).toHaveTextContent('Post 2: bob is reviewing this approval');
    expect(sent.find((r) => r.path === '/airgate/api/queue/decisions')?.body).toEqual({
      approval_ids: ['mod-1', 'mod-2', 'mod-3'],
      option: 'Remove',
      reason: 'spam wave',
    });
    expect(['mod-1', 'mod-2', 'mod-3'].map(state)).toEqual(['rejected', 'pending', 'rejected']);
    expect(bulk.queryByText(/selected$/)).not.toBeInTheDocument();
  });

  it('says when nothing waits under the filters', async () => {
    const user = userEvent.setup();
    renderApp('Review queue');
    await user.type(screen.getByRole('textbox', { name: 'DAG id' }), 'no_such_dag');
    expect(await screen.findByText('Nothing to review under these filters.')).toBeInTheDocument();
  });
});
