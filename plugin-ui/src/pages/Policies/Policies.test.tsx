import { getDefaultNormalizer, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';

import { bridgeError } from '../../mocks/handlers/common';
import { policiesUrl } from '../../mocks/handlers/policies';
import { server } from '../../mocks/server';
import { recordRequests } from '../../test/requests';
import { renderApp } from '../../test/renderApp';

describe('Policies', () => {
  it('shows the version in force, says a change is waiting, and shows its diff', async () => {
    renderApp('Policies');

    expect(await screen.findByText(/In force: version 1a2b3c4d5e6f/)).toBeInTheDocument();
    expect(await screen.findByRole('status')).toHaveTextContent('1 policy change waits for approval; the version in force stays until one is approved.');
    expect(screen.getByText('Change to version 9f8e7d6c5b4a')).toBeInTheDocument();
    expect(screen.getByText('two people for every production load')).toBeInTheDocument();
    const diff = screen.getByRole('figure', { name: 'Diff against the version in force when it was proposed' });
    // Lines as the patch has them: their indentation is the YAML's.
    const exact = { normalizer: getDefaultNormalizer({ trim: false, collapseWhitespace: false }) };
    expect(within(diff).getByText('+      - { name: approver, approvers: [role:user], rule: { n_of: 2 } }', exact)).toHaveAttribute('data-change', 'added');
    expect(within(diff).getByText('-      - { name: approver, approvers: [role:user], rule: any }', exact)).toHaveAttribute('data-change', 'removed');
  });

  it('approves a change with a reason: the bridge is asked, and the new version is in force', async () => {
    const user = userEvent.setup();
    const sent = recordRequests();
    renderApp('Policies');
    await screen.findByText('Change to version 9f8e7d6c5b4a');

    await user.type(screen.getByRole('textbox', { name: 'Reason' }), 'reviewed with the team');
    await user.click(screen.getByRole('button', { name: 'Approve' }));

    expect(await screen.findByText(/In force: version 9f8e7d6c5b4a/)).toBeInTheDocument();
    expect(screen.getByText('Version 9f8e7d6c5b4a approved.')).toBeInTheDocument();
    expect(screen.getByText('No policy change is waiting.')).toBeInTheDocument();
    expect(sent.find((r) => r.method === 'POST')).toMatchObject({
      path: '/airgate/api/policies/changes/9f8e7d6c5b4a/approve',
      contentType: 'application/json',
      body: { reason: 'reviewed with the team' },
    });
  });

  it('proposes a change as the signed-in person, whose own approval the bridge refuses', async () => {
    const user = userEvent.setup();
    renderApp('Policies');
    const text = await screen.findByRole('textbox', { name: /Policies file/ });

    await user.clear(text);
    // `[[` types one `[` (user-event reads `[` as the start of a key name).
    await user.type(text, 'version: 1\npolicies: [[]\n');
    await user.type(screen.getByRole('textbox', { name: /Why this change/ }), 'nobody approves anything');
    await user.click(screen.getByRole('button', { name: 'Propose' }));

    expect(await screen.findByText('Version abcdefabcdef proposed; it takes effect once another admin approves it.')).toBeInTheDocument();
    const mine = (await screen.findByText('Change to version abcdefabcdef')).closest('.chakra-card__root') as HTMLElement;
    await user.click(within(mine).getByRole('button', { name: 'Approve' }));
    expect(await within(mine).findByRole('alert')).toHaveTextContent('alice proposed policy version abcdefabcdef: someone else must approve it');
    expect(screen.getByText(/In force: version 1a2b3c4d5e6f/)).toBeInTheDocument();
  });

  it('shows the field problem of an invalid text', async () => {
    const user = userEvent.setup();
    renderApp('Policies');
    const text = await screen.findByRole('textbox', { name: /Policies file/ });

    await user.clear(text);
    await user.type(text, 'version: 1');
    await user.type(screen.getByRole('textbox', { name: /Why this change/ }), 'typo');
    await user.click(screen.getByRole('button', { name: 'Propose' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('api:1:1: policies: required');
  });

  it('says how to turn four-eyes on where the bridge has none', async () => {
    server.use(http.get(policiesUrl, () => bridgeError(404, 'not_found', 'no route')));
    renderApp('Policies');

    expect(await screen.findByText(/AIRGATE_POLICY_CHANGES=four-eyes/)).toBeInTheDocument();
  });
});
