import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import type { AuditList, AuditVerification } from '../../api/client';
import { fixtures } from '../../mocks/approvals';
import { recordAudit } from '../../mocks/audit';
import { auditUrl, auditVerifyUrl, verification } from '../../mocks/handlers/audit';
import { bridgeError } from '../../mocks/handlers/common';
import { server } from '../../mocks/server';
import { recordRequests } from '../../test/requests';
import { renderApp } from '../../test/renderApp';

describe('Audit', () => {
  it('lists the trail with the chain verified', async () => {
    renderApp('Audit');

    expect(screen.getByRole('heading', { name: 'Audit trail' })).toBeInTheDocument();
    expect(await screen.findByText('Chain verified: 5 entries, no gaps or changes.')).toBeInTheDocument();
    const rows = await screen.findAllByRole('row');
    expect(rows).toHaveLength(6);
    expect(within(rows[2] as HTMLElement).getByText('vote.recorded')).toBeInTheDocument();
    expect(within(rows[2] as HTMLElement).getByRole('cell', { name: 'Tests green' })).toBeInTheDocument();
  });

  it('offers the filtered trail as CSV and JSON downloads', async () => {
    const user = userEvent.setup();
    renderApp('Audit');
    await screen.findAllByRole('row');

    await user.type(screen.getByRole('textbox', { name: 'DAG id' }), 'deploy_prod');
    const csv = screen.getByRole('link', { name: 'Export CSV' });
    await waitFor(() => expect(csv.getAttribute('href')).toContain('dag_id=deploy_prod'));
    const url = new URL(csv.getAttribute('href') ?? '', window.location.href);
    expect(url.pathname).toMatch(/\/airgate\/api\/audit\/export$/);
    expect(Object.fromEntries(url.searchParams)).toEqual({ dag_id: 'deploy_prod', format: 'csv' });
    expect(csv).toHaveAttribute('download');
    const json = new URL(screen.getByRole('link', { name: 'Export JSON' }).getAttribute('href') ?? '', window.location.href);
    expect(Object.fromEntries(json.searchParams)).toEqual({ dag_id: 'deploy_prod', format: 'json' });
  });

  it('filters by approval id', async () => {
    const sent = recordRequests();
    const user = userEvent.setup();
    renderApp('Audit');
    await screen.findAllByRole('row');

    await user.type(screen.getByRole('textbox', { name: 'Approval id' }), fixtures.backfill.id);
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(3));
    expect(sent.at(-1)?.query).toMatchObject({ approval_id: fixtures.backfill.id });
  });

  it("filters by DAG, action, actor and time: a DAG's pause history", async () => {
    const pause = (actor: string, kind: string, dagId: string, reason: string) =>
      recordAudit({ actor, action: 'action.applied', approval_id: null, reason, details: { request: { kind, dag_id: dagId } } });
    pause('alice', 'pause_dag', 'deploy_prod', 'Maintenance window');
    pause('bob', 'resume_dag', 'deploy_prod', 'Window over');
    pause('alice', 'pause_dag', 'nightly_etl', 'Source is down');
    const sent = recordRequests();
    const user = userEvent.setup();
    renderApp('Audit');
    await screen.findAllByRole('row');

    await user.type(screen.getByRole('textbox', { name: 'DAG id' }), 'deploy_prod');
    await user.type(screen.getByRole('textbox', { name: 'Action' }), 'action.applied');
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(3));
    expect(screen.getByRole('cell', { name: 'Maintenance window' })).toBeInTheDocument();
    expect(screen.getByRole('cell', { name: 'Window over' })).toBeInTheDocument();
    expect(sent.at(-1)?.query).toMatchObject({ dag_id: 'deploy_prod', action: 'action.applied' });

    await user.type(screen.getByRole('textbox', { name: 'Who' }), 'bob');
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(2));
    expect(screen.getByRole('cell', { name: 'Window over' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2025-11-25T09:00' } });
    fireEvent.change(screen.getByLabelText('Until'), { target: { value: '2025-11-26T09:00' } });
    // Local date-times go to the bridge as instants.
    await waitFor(() =>
      expect(sent.at(-1)?.query).toEqual({
        limit: '100',
        since: new Date('2025-11-25T09:00').toISOString(),
        until: new Date('2025-11-26T09:00').toISOString(),
      }),
    );
  });

  it("shows the bridge's refusal of a filter, naming it", async () => {
    server.use(http.get(auditUrl, () => bridgeError(400, 'bad_request', 'action: expected an action like action.applied or vote.recorded')));
    const user = userEvent.setup();
    renderApp('Audit');
    await user.type(screen.getByRole('textbox', { name: 'Action' }), 'paused!');

    expect(await screen.findByText('action: expected an action like action.applied or vote.recorded')).toBeInTheDocument();
  });

  it('pages through a long trail', async () => {
    for (let index = 0; index < 150; index += 1) {
      recordAudit({ actor: 'system', action: 'delivery.sent', approval_id: fixtures.release.id });
    }
    const user = userEvent.setup();
    renderApp('Audit');

    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(101));
    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(156));
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  it('marks where the chain breaks', async () => {
    server.use(
      http.get(auditVerifyUrl, () => HttpResponse.json<AuditVerification>(verification({ ok: false, checked: 3, first_bad_seq: 3 }))),
    );
    renderApp('Audit');

    expect(await screen.findByRole('alert')).toHaveTextContent('Chain broken at entry 3');
    const rows = await screen.findAllByRole('row');
    expect(rows[3]).toHaveAttribute('aria-invalid', 'true');
  });

  it('shows empty and error states', async () => {
    server.use(
      http.get(auditUrl, () => HttpResponse.json<AuditList>({ items: [], next_cursor: null })),
      http.get(auditVerifyUrl, () => bridgeError(503, 'unavailable', 'the store is down')),
    );
    renderApp('Audit');

    expect(await screen.findByText('No audit entries.')).toBeInTheDocument();
    expect(await screen.findByRole('alert')).toHaveTextContent('the store is down');
  });

  it("shows the bridge's error when the trail cannot be read", async () => {
    server.use(http.get(auditUrl, () => bridgeError(403, 'forbidden', 'only auditors may read the trail')));
    renderApp('Audit');

    expect(await screen.findByText('only auditors may read the trail')).toBeInTheDocument();
  });
});
