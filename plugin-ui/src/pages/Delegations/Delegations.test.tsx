import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import AirgatePlugin from '../../main';
import { fixtures, replaceApproval } from '../../mocks/approvals';
import { bobToSignedIn } from '../../mocks/handlers/delegations';
import { recordRequests } from '../../test/requests';
import { renderApp } from '../../test/renderApp';


const textbox = (name: string) => screen.getByRole('textbox', { name: new RegExp(`^${name}`) });

describe('Delegations', () => {
  it('lists what the person gave and received', async () => {
    renderApp('Delegations');

    const received = within(await screen.findByRole('region', { name: 'Received: you may vote for' }));
    const row = within(received.getByText('bob').closest('tr') as HTMLElement);
    expect(row.getByText('every policy')).toBeInTheDocument();
    expect(row.getByText('parental leave')).toBeInTheDocument();
    expect(row.getByText('Active')).toBeInTheDocument();
    // A received delegation is its delegator's to revoke.
    expect(received.queryByRole('button', { name: /Revoke/ })).not.toBeInTheDocument();
    expect(within(screen.getByRole('region', { name: 'Given by you' })).getByText('You have not delegated your vote.')).toBeInTheDocument();
  });

  it('delegates the person’s vote with an end, policies and a reason, then revokes it', async () => {
    const user = userEvent.setup();
    const sent = recordRequests();
    const { container } = renderApp('Delegations');
    await screen.findByRole('region', { name: 'Given by you' });

    await user.type(textbox('Deputy'), 'dave');
    const [, endsAt] = Array.from(container.querySelectorAll<HTMLInputElement>('input[type="datetime-local"]'));
    await user.type(endsAt as HTMLInputElement, '2099-12-01T09:30');
    await user.type(textbox('Policies'), 'prod_release, two_of_data_team');
    await user.type(textbox('Reason'), 'on leave');
    await user.click(screen.getByRole('button', { name: 'Delegate' }));

    expect(await screen.findByText('Your vote is delegated to dave.')).toBeInTheDocument();
    expect(sent.filter(({ method }) => method === 'POST')).toEqual([
      expect.objectContaining({
        path: '/airgate/api/delegations',
        contentType: 'application/json',
        body: { to: 'dave', ends_at: new Date('2099-12-01T09:30').toISOString(), policies: ['prod_release', 'two_of_data_team'], reason: 'on leave' },
      }),
    ]);
    const given = within(screen.getByRole('region', { name: 'Given by you' }));
    const row = within((await given.findByText('dave')).closest('tr') as HTMLElement);
    expect(row.getByText('prod_release, two_of_data_team')).toBeInTheDocument();

    await user.click(row.getByRole('button', { name: 'Revoke the delegation to dave' }));
    await waitFor(() => expect(row.getByText('Revoked')).toBeInTheDocument());
    expect(sent.filter(({ method }) => method === 'DELETE').map(({ path }) => path)).toEqual(['/airgate/api/delegations/dlg-2']);
  });

  it('shows the bridge’s refusal on the field it names', async () => {
    const user = userEvent.setup();
    const { container } = renderApp('Delegations');
    await screen.findByRole('region', { name: 'Given by you' });

    await user.type(textbox('Deputy'), 'alice');
    const [, endsAt] = Array.from(container.querySelectorAll<HTMLInputElement>('input[type="datetime-local"]'));
    await user.type(endsAt as HTMLInputElement, '2099-12-01T09:30');
    await user.type(textbox('Reason'), 'away');
    await user.click(screen.getByRole('button', { name: 'Delegate' }));

    expect(await screen.findByText('to: you cannot delegate to yourself')).toBeInTheDocument();
    expect(textbox('Deputy')).toHaveAttribute('aria-invalid', 'true');
  });
});

describe('Voting as deputy on an approval', () => {
  it('lists who may vote for whom, offers “vote for bob”, and the vote shows as “alice for bob”', async () => {
    replaceApproval({ ...fixtures.release, delegations: [bobToSignedIn] });
    const sent = recordRequests();
    window.history.replaceState(null, '', `/plugin/approvals?approval=${fixtures.release.id}`);
    const user = userEvent.setup();
    render(<AirgatePlugin />);
    await screen.findByRole('heading', { level: 2 });

    const delegations = within(screen.getByRole('region', { name: 'Delegations' }));
    expect(delegations.getByText(/^alice may vote for bob until/)).toBeInTheDocument();
    const voteAs = await screen.findByRole('combobox', { name: 'Vote as' });
    await waitFor(() => expect(within(voteAs).getByRole('option', { name: 'Vote for bob' })).toBeInTheDocument());
    await user.selectOptions(voteAs, 'bob');
    await user.selectOptions(screen.getByRole('combobox', { name: /^window/ }), 'night');
    await user.click(screen.getByRole('button', { name: 'Vote Approve' }));

    const votes = within(screen.getByRole('region', { name: 'Votes' }));
    // The role in brackets is the voter's own.
    expect(await votes.findByText(/^alice for bob/)).toHaveTextContent('alice for bob (user)');
    expect(sent.filter(({ method }) => method === 'POST').map(({ body }) => body)).toEqual([
      expect.objectContaining({ option: 'Approve', on_behalf_of: 'bob' }),
    ]);
  });

  it('offers no “vote as” without a delegation the person received for this approval', async () => {
    window.history.replaceState(null, '', `/plugin/approvals?approval=${fixtures.release.id}`);
    render(<AirgatePlugin />);
    await screen.findByRole('heading', { level: 2 });
    await screen.findByRole('button', { name: 'Vote Approve' });
    expect(screen.queryByRole('combobox', { name: 'Vote as' })).not.toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Delegations' })).not.toBeInTheDocument();
  });
});
