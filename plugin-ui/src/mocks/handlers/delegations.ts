import { http, HttpResponse } from 'msw';

import type { ApiError, Delegation, DelegationList, DelegationRequest } from '../../api/client';
import { api, bridgeError, signedInUser } from './common';

export const delegationsUrl = api('delegations');
export const delegationUrl = api('delegations/:id');

/** bob's vote handed to the signed-in person, in force: what the mocks start with and what tests show on approvals. */
export const bobToSignedIn: Delegation = {
  id: 'dlg-bob',
  from: 'bob',
  to: signedInUser,
  starts_at: '2025-11-20T09:00:00.000Z',
  ends_at: '2099-12-01T00:00:00.000Z',
  policies: null,
  reason: 'parental leave',
  source: 'api',
  created_at: '2025-11-20T09:00:00.000Z',
  revoked_at: null,
  revoked_by: null,
  state: 'active',
};

const seed = (): Delegation[] => [bobToSignedIn];

let delegations = seed();

export const resetDelegations = () => {
  delegations = seed();
};

// The bridge's checks, enough for the tests: a deputy other than oneself, an end, a reason.
const problem = (body: DelegationRequest): { field: string; message: string } | undefined => {
  if (body.to === signedInUser) return { field: 'to', message: 'to: you cannot delegate to yourself' };
  if (Number.isNaN(Date.parse(body.ends_at))) return { field: 'ends_at', message: 'ends_at: expected an ISO 8601 date-time' };
  if (!body.reason) return { field: 'reason', message: 'reason: a delegation needs a reason' };
  return undefined;
};

export const delegationsHandlers = [
  http.get(delegationsUrl, () =>
    HttpResponse.json<DelegationList>({
      given: delegations.filter((d) => d.from === signedInUser),
      received: delegations.filter((d) => d.to === signedInUser),
      others: [],
    }),
  ),
  http.post<never, DelegationRequest, Delegation | ApiError>(delegationsUrl, async ({ request }) => {
    const body = await request.json();
    const refused = problem(body);
    if (refused !== undefined) return bridgeError(400, 'bad_request', refused.message, refused.field);
    const at = new Date().toISOString();
    const made: Delegation = {
      id: `dlg-${delegations.length + 1}`,
      from: signedInUser,
      to: body.to,
      starts_at: body.starts_at ?? at,
      ends_at: body.ends_at,
      policies: body.policies ?? null,
      reason: body.reason,
      source: 'api',
      created_at: at,
      revoked_at: null,
      revoked_by: null,
      state: 'active',
    };
    delegations = [made, ...delegations];
    return HttpResponse.json(made, { status: 201 });
  }),
  http.delete<{ id: string }>(delegationUrl, ({ params }) => {
    const found = delegations.find((d) => d.id === params.id);
    if (found === undefined) return bridgeError(404, 'not_found', `delegation ${params.id} not found`);
    if (found.from !== signedInUser) return bridgeError(403, 'not_delegator', `only ${found.from} may revoke this delegation`);
    const revoked: Delegation = { ...found, state: 'revoked', revoked_at: new Date().toISOString(), revoked_by: signedInUser };
    delegations = delegations.map((d) => (d.id === found.id ? revoked : d));
    return HttpResponse.json(revoked);
  }),
];
