import { http, HttpResponse } from 'msw';

import type { ApiError, Approval, ApprovalList, VoteRequest } from '../../api/client';
import { allApprovals, replaceApproval } from '../approvals';

export const approvalsUrl = '*/airgate/api/approvals';
export const votesUrl = `${approvalsUrl}/:id/votes`;

const signedInUser = 'alice';

export const bridgeError = (status: number, code: string, message: string) =>
  HttpResponse.json<ApiError>({ error: { code, message } }, { status });

// Mirrors the bridge's rules: the list filters by state and DAG, and the first valid vote decides.
export const approvalsHandlers = [
  http.get(approvalsUrl, ({ request }) => {
    const query = new URL(request.url).searchParams;
    const state = query.get('state') ?? 'pending';
    const dagId = query.get('dag_id');
    const items = allApprovals().filter(
      (approval) =>
        (state === 'all' || approval.state === state) &&
        (dagId === null || approval.dag_id === dagId),
    );

    return HttpResponse.json<ApprovalList>({ items, next_cursor: null });
  }),
  http.post<{ id: string }, VoteRequest, Approval | ApiError>(
    votesUrl,
    async ({ params, request }) => {
      const approval = allApprovals().find(({ id }) => id === params.id);
      if (approval === undefined) {
        return bridgeError(404, 'not_found', `approval ${params.id} not found`);
      }
      if (approval.state !== 'pending') {
        return bridgeError(409, 'conflict', `approval is already ${approval.state}`);
      }
      const { option, reason, params_input: paramsInput = {} } = await request.json();
      if (!approval.options.includes(option)) {
        return bridgeError(422, 'invalid_option', `option must be one of ${approval.options.join(', ')}`);
      }
      const at = new Date().toISOString();
      const decided: Approval = {
        ...approval,
        state: /^(reject|deny|decline|no)$/i.test(option) ? 'rejected' : 'approved',
        votes: [
          ...approval.votes,
          { user: signedInUser, role: 'user', option, reason: reason ?? null, channel: 'ui', at, level: approval.level, replaced: false },
        ],
        decided_at: at,
        outcome: { option, params_input: paramsInput },
      };
      replaceApproval(decided);

      return HttpResponse.json(decided);
    },
  ),
];
