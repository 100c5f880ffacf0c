import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderApp } from '../../test/renderApp';
import { recordRequests } from '../../test/requests';

const fill = async (dag: string | null, task: string, conf: string) => {
  const user = userEvent.setup();
  if (dag !== null) {
    await user.type(screen.getByRole('textbox', { name: /^DAG id/ }), dag);
  }
  await user.type(screen.getByRole('textbox', { name: /^Approval task id/ }), task);
  const confField = screen.getByRole('textbox', { name: 'Run configuration (JSON)' });
  await user.clear(confField);
  await user.click(confField);
  await user.paste(conf);
  await user.click(screen.getByRole('button', { name: 'Preview' }));
  return user;
};

describe('Policy preview', () => {
  it('shows the policy a conf routes to, each level with who may decide and how they are reached, and the clock', async () => {
    const sent = recordRequests();
    renderApp('Policy preview', { dagId: 'payments' });
    await fill(null, 'approve', '{"amount": 400}');

    expect(await screen.findByRole('heading', { name: 'Policy: payments' })).toBeInTheDocument();
    const level = within(screen.getByRole('group', { name: 'Level 1: finance' }));
    expect(level.getByText('any one of')).toBeInTheDocument();
    expect(level.getAllByText('via messages, email')).toHaveLength(2);
    expect(level.getByText('dave: policy "payments-large" excludes dave from deciding it')).toBeInTheDocument();
    expect(screen.getAllByText('Quorum reachable').length).toBeGreaterThan(0);
    expect(screen.getByText(/^Deadline: .*, then reject$/)).toBeInTheDocument();
    expect(screen.getByText('Reminders every 20m')).toBeInTheDocument();
    expect(screen.getByText('After 30m: escalates to erin')).toBeInTheDocument();
    expect(screen.getByText(': when "amount >= 10000" is false', { exact: false })).toBeInTheDocument();
    expect(screen.getByText('and 1 policy for other DAGs or tasks')).toBeInTheDocument();
    expect(screen.queryByText('reports')).not.toBeInTheDocument();
    expect(sent.filter((r) => r.method === 'POST').map((r) => r.body)).toEqual([
      { dag_id: 'payments', task_id: 'approve', map_index: -1, conf: { amount: 400 }, params: {}, options: [] },
    ]);
  });

  it('says when the quorum cannot be met, and why', async () => {
    renderApp('Policy preview', { dagId: 'payments' });
    await fill(null, 'approve', '{"amount": 25000}');

    expect(await screen.findByRole('heading', { name: 'Policy: payments-large' })).toBeInTheDocument();
    expect(within(screen.getByRole('alert')).getByText('level "controllers": "controllers" needs 3 of carol, admin')).toBeInTheDocument();
    const controllers = within(screen.getByRole('group', { name: 'Level 2: controllers' }));
    expect(controllers.getByText('Quorum not reachable')).toBeInTheDocument();
    expect(controllers.getByText('3 of')).toBeInTheDocument();
  });

  it('names the field the bridge refused, and a conf that is not a JSON object', async () => {
    const sent = recordRequests();
    renderApp('Policy preview');
    await fill('secret_dag', 'approve', '{}');
    expect(await screen.findByText('DAG secret_dag not found')).toBeInTheDocument();

    const confField = screen.getByRole('textbox', { name: 'Run configuration (JSON)' });
    const user = userEvent.setup();
    await user.clear(confField);
    await user.click(confField);
    await user.paste('[1]');
    expect(screen.getByText('Enter a JSON object.', { exact: false })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Preview' })).toBeDisabled();
    expect(sent.filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});
