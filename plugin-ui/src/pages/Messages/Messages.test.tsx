import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import type { MessageList } from '../../api/client';
import { bridgeError } from '../../mocks/handlers/common';
import { messagesUrl } from '../../mocks/handlers/messages';
import { server } from '../../mocks/server';
import { renderApp } from '../../test/renderApp';

describe('Messages', () => {
  it('lists messages with their delivery state and pages on', async () => {
    const user = userEvent.setup();
    renderApp('Messages');

    const failed = within((await screen.findByText('carol')).closest('tr') as HTMLElement);
    expect(failed.getByText('email: Failed (5 attempts)')).toBeInTheDocument();
    expect(failed.getByText('SMTP 550: mailbox unavailable')).toBeInTheDocument();
    expect(failed.getByText('messages: Sent (1 attempt)')).toBeInTheDocument();
    expect(failed.getByText('fallback')).toBeInTheDocument();
    expect(screen.getByText('email: Queued (0 attempts)')).toBeInTheDocument();
    expect(screen.getAllByRole('row')).toHaveLength(101);

    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(124));
  });

  it('filters by delivery state', async () => {
    const user = userEvent.setup();
    renderApp('Messages');
    await screen.findByText('carol');

    await user.selectOptions(screen.getByRole('combobox', { name: 'Delivery state' }), 'failed');
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(2));
    expect(screen.getByText('carol')).toBeInTheDocument();
  });

  it('says so when nothing was sent', async () => {
    server.use(http.get(messagesUrl, () => HttpResponse.json<MessageList>({ items: [], next_cursor: null })));
    renderApp('Messages');

    expect(await screen.findByText('No messages sent yet.')).toBeInTheDocument();
  });

  it("shows the bridge's error", async () => {
    server.use(http.get(messagesUrl, () => bridgeError(503, 'unavailable', 'the store is down')));
    renderApp('Messages');

    expect(await screen.findByRole('alert')).toHaveTextContent('the store is down');
  });
});
