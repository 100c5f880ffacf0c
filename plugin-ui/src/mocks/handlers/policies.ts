import { http, HttpResponse } from 'msw';

import type { ApiError, PolicyDecision, PolicyOverview, PolicyVersion, ProposePolicyChange } from '../../api/client';
import { api, bridgeError, signedInUser } from './common';

export const policiesUrl = api('policies');
export const policyChangesUrl = api('policies/changes');
export const policyDecisionUrl = api('policies/changes/:version/:verb');

const FIRST_TEXT = 'version: 1\npolicies:\n  - name: anyone\n    levels:\n      - { name: approver, approvers: [role:user], rule: any }\n';

const version = (overrides: Partial<PolicyVersion>): PolicyVersion => ({
  version: '1a2b3c4d5e6f',
  text: FIRST_TEXT,
  source: '/etc/airgate/policies.yaml',
  proposed_by: null,
  proposed_at: '2026-12-01T08:00:00.000Z',
  base_version: null,
  reason: 'first start',
  state: 'approved',
  decided_by: 'system',
  decided_at: '2026-12-01T08:00:00.000Z',
  decision_reason: null,
  diff: '',
  ...overrides,
});

const waiting = () =>
  version({
    version: '9f8e7d6c5b4a',
    text: FIRST_TEXT.replace('rule: any', 'rule: { n_of: 2 }'),
    source: 'api',
    proposed_by: 'bob',
    proposed_at: '2026-12-03T09:30:00.000Z',
    base_version: '1a2b3c4d5e6f',
    reason: 'two people for every production load',
    state: 'pending',
    decided_by: null,
    decided_at: null,
    diff: '--- 1a2b3c4d5e6f\n+++ 9f8e7d6c5b4a\n@@ -3,3 +3,3 @@\n   - name: anyone\n     levels:\n-      - { name: approver, approvers: [role:user], rule: any }\n+      - { name: approver, approvers: [role:user], rule: { n_of: 2 } }\n',
  });

let overview: PolicyOverview = { in_force: version({}), pending: [waiting()] };

export const resetPolicies = () => {
  overview = { in_force: version({}), pending: [waiting()] };
};

// Only what the page shows happening: the bridge's rules (who is an admin, stale changes) are its own.
export const policiesHandlers = [
  http.get(policiesUrl, () => HttpResponse.json<PolicyOverview>(overview)),
  http.post<never, ProposePolicyChange, PolicyVersion | ApiError>(policyChangesUrl, async ({ request }) => {
    const change = await request.json();
    if (!change.text.includes('policies:')) {
      return bridgeError(422, 'invalid_policies', 'api:1:1: policies: required', 'text');
    }
    const proposed = version({
      version: 'abcdefabcdef',
      text: change.text,
      source: 'api',
      proposed_by: signedInUser,
      proposed_at: new Date().toISOString(),
      base_version: overview.in_force.version,
      reason: change.reason,
      state: 'pending',
      decided_by: null,
      decided_at: null,
      diff: `--- ${overview.in_force.version}\n+++ abcdefabcdef\n`,
    });
    overview = { ...overview, pending: [...overview.pending, proposed] };
    return HttpResponse.json<PolicyVersion>(proposed, { status: 201 });
  }),
  http.post<{ version: string; verb: string }, PolicyDecision, PolicyVersion | ApiError>(policyDecisionUrl, async ({ params, request }) => {
    const change = overview.pending.find((p) => p.version === params.version);
    if (change === undefined) {
      return bridgeError(404, 'not_found', `policy version ${params.version} not found`);
    }
    if (change.proposed_by === signedInUser) {
      return bridgeError(403, 'four_eyes', `${signedInUser} proposed policy version ${change.version}: someone else must approve it`);
    }
    const { reason } = await request.json();
    const approve = params.verb === 'approve';
    const decided = { ...change, state: approve ? 'approved' : 'rejected', decided_by: signedInUser, decided_at: new Date().toISOString(), decision_reason: reason ?? null } as const;
    overview = { in_force: approve ? decided : overview.in_force, pending: overview.pending.filter((p) => p !== change) };
    return HttpResponse.json<PolicyVersion>(decided);
  }),
];
