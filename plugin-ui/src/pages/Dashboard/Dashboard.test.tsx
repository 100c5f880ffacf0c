import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import type { Stats } from '../../api/client';
import { bridgeError } from '../../mocks/handlers/common';
import { stats, statsUrl } from '../../mocks/handlers/stats';
import { server } from '../../mocks/server';
import { renderApp } from '../../test/renderApp';

describe('Dashboard', () => {
  it('shows the pending count, latency, SLA per DAG and failed deliveries', async () => {
    renderApp('Approvals dashboard');

    expect(screen.getByText('Loading the statistics…')).toBeInTheDocument();
    expect(await screen.findByText('42')).toBeInTheDocument();
    expect(screen.getByText('30m 0s')).toBeInTheDocument();
    expect(screen.getByText('4h 0m')).toBeInTheDocument();
    const failed = within(screen.getByText('Failed deliveries').parentElement as HTMLElement);
    expect(await failed.findByText('1')).toBeInTheDocument();
    expect(within(screen.getByText('Decisions not applied to Airflow').parentElement as HTMLElement).getByText('1')).toBeInTheDocument();
    const bypassed = within(screen.getByText('Tasks marked in Airflow instead of decided').parentElement as HTMLElement);
    expect(bypassed.getByText('1')).toBeInTheDocument();
    expect(bypassed.getByText('nightly_etl / approve_load (scheduled__2025-11-24)')).toBeInTheDocument();

    const latency = within(screen.getByRole('img', { name: 'Time to decide, per day' }));
    expect(latency.getByRole('row', { name: '2025-11-24 40 300' })).toBeInTheDocument();
    const sla = within(screen.getByRole('img', { name: 'SLA per DAG' }));
    expect(sla.getByRole('row', { name: 'nightly_etl 30 4 6 3 88 %' })).toBeInTheDocument();
  });

  it('says so when nothing was decided yet', async () => {
    server.use(
      http.get(statsUrl, () =>
        HttpResponse.json<Stats>({
          ...stats,
          pending: 0,
          latency: { median_s: null, p90_s: null, by_day: [] },
          sla_by_dag: [],
          failed_effects: 0,
        }),
      ),
    );
    renderApp('Approvals dashboard');

    expect(await screen.findByText('No decisions yet.')).toBeInTheDocument();
    expect(screen.getByText('No deadlines yet.')).toBeInTheDocument();
  });

  it("shows the bridge's error", async () => {
    server.use(http.get(statsUrl, () => bridgeError(403, 'forbidden', 'only admins see the statistics')));
    renderApp('Approvals dashboard');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load the statistics');
    expect(alert).toHaveTextContent('only admins see the statistics');
  });
});
