import { http, HttpResponse } from 'msw';

import type { DryRunLevel, DryRunRequest, PolicyDryRun } from '../../api/client';
import { api, bridgeError } from './common';

export const dryRunUrl = api('policies/dry-run');

type Person = DryRunLevel['groups'][number]['people'][number];

const person = (user: string, channels: Person['channels'] = ['messages', 'email']): Person => ({ user, absent: false, channels, undeliverable: [] });

const policies = (matched: string): PolicyDryRun['policies'] => [
  { name: 'reports', verdict: 'dag_id', detail: 'dag_id does not match "reports_*"' },
  ...['payments-large', 'payments'].map((name): PolicyDryRun['policies'][number] => ({
    name,
    verdict: name === matched ? 'matched' : matched === 'payments-large' ? 'shadowed' : 'condition_false',
    detail: name === matched ? 'the first policy that matches' : 'when "amount >= 10000" is false',
  })),
];

/** What the bridge would answer for the payments DAG: routed by the conf's amount, like the reference policies. */
const paymentsDryRun = (amount: number): PolicyDryRun => {
  const large = amount >= 10_000;
  const finance: DryRunLevel = {
    name: 'finance',
    groups: [{ name: 'finance', rule: 'any', needed: 1, people: [person('bob'), person('carol')], roles: [], excluded: [{ user: 'dave', reason: 'policy "payments-large" excludes dave from deciding it' }] }],
    reachable: true,
    problems: [],
  };
  const controllers: DryRunLevel = {
    name: 'controllers',
    groups: [{ name: 'controllers', rule: 'n_of', needed: 3, people: [person('carol'), person('admin', ['messages'])], roles: [], excluded: [] }],
    reachable: false,
    problems: ['"controllers" needs 3 of carol, admin'],
  };
  return {
    policy: large ? 'payments-large' : 'payments',
    policy_error: null,
    policy_version: 'abc123',
    policies: policies(large ? 'payments-large' : 'payments'),
    levels: large ? [finance, controllers] : [finance],
    deadline: { due_at: '2025-11-25T11:00:00.000Z', action: 'reject', sla_warning_at: null, escalate_to: [] },
    reminders: { every: '20m', first_at: '2025-11-25T09:20:00.000Z' },
    escalations: [{ after: '30m', at: '2025-11-25T09:30:00.000Z', to: ['erin'] }],
    break_glass: null,
    notifications: { channels: ['email'], fallback: 'messages' },
    reachable: !large,
    problems: large ? ['level "controllers": "controllers" needs 3 of carol, admin'] : [],
    notes: [],
  };
};

export const dryRunHandlers = [
  http.post(dryRunUrl, async ({ request }) => {
    const body = (await request.json()) as DryRunRequest;
    if (body.dag_id !== 'payments') {
      return bridgeError(404, 'not_found', `DAG ${body.dag_id} not found`, 'dag_id');
    }
    return HttpResponse.json(paymentsDryRun(Number(body.conf?.amount ?? 0)));
  }),
];
