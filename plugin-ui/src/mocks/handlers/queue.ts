import { http, HttpResponse } from 'msw';

import type { ApiError, Approval, BulkDecisionItem, BulkDecisionRequest, BulkDecisionResult } from '../../api/client';
import { allApprovals, replaceApproval } from '../approvals';
import { recordAudit } from '../audit';
import { claimedByOther, voteOn } from './approvals';
import { api, bridgeError, signedInUser } from './common';

export const claimUrl = api('queue/:id/claim');
export const decisionsUrl = api('queue/decisions');

const CLAIM_MS = 300_000;

// Mirrors the bridge's review queue: a claim holds an item for its holder; a bulk decision votes on each item alone.
export const queueHandlers = [
  http.put<{ id: string }, never, Approval | ApiError>(claimUrl, ({ params }) => {
    const approval = allApprovals().find(({ id }) => id === params.id);
    if (approval === undefined) {
      return bridgeError(404, 'not_found', `approval ${params.id} not found`);
    }
    if (approval.state !== 'pending') {
      return bridgeError(409, 'conflict', `approval is already ${approval.state}`);
    }
    if (claimedByOther(approval)) {
      return bridgeError(409, 'claimed', `${approval.claim?.by} is reviewing this approval`);
    }
    const claimed = { ...approval, claim: { by: signedInUser, until: new Date(Date.now() + CLAIM_MS).toISOString() } };
    replaceApproval(claimed);
    recordAudit({ actor: signedInUser, action: 'approval.claimed', approval_id: approval.id });
    return HttpResponse.json(claimed);
  }),
  http.delete<{ id: string }, never, Approval | ApiError>(claimUrl, ({ params }) => {
    const approval = allApprovals().find(({ id }) => id === params.id);
    if (approval === undefined) {
      return bridgeError(404, 'not_found', `approval ${params.id} not found`);
    }
    if (claimedByOther(approval)) {
      return bridgeError(409, 'claimed', `${approval.claim?.by} is reviewing this approval`);
    }
    const released = { ...approval, claim: null };
    replaceApproval(released);
    return HttpResponse.json(released);
  }),
  http.post<never, BulkDecisionRequest, BulkDecisionResult>(decisionsUrl, async ({ request }) => {
    const { approval_ids: ids, ...vote } = await request.json();
    const items = ids.map((id): BulkDecisionItem => {
      const result = voteOn(id, vote);
      return 'approval' in result
        ? { approval_id: id, status: 200, state: result.approval.state, error: null }
        : { approval_id: id, status: result.status, state: null, error: result.error };
    });
    const count = (ok: boolean) => items.filter((item) => (item.error === null) === ok).length;
    return HttpResponse.json({ batch: 'batch-1', items, counted: count(true), deferred: 0, refused: count(false) });
  }),
];
