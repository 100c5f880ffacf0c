import { http, HttpResponse } from 'msw';

import type { ApiError, Approval, ApprovalList, BypassRequest, EscalationList, Receipt, VoteRequest } from '../../api/client';
import { isRejecting, parseParams } from '../../utils/params';
import { addApproval, allApprovals, replaceApproval } from '../approvals';
import { recordAudit } from '../audit';
import { api, bridgeError, page, signedInUser } from './common';

export const approvalsUrl = api('approvals');
export const approvalUrl = api('approvals/:id');
export const votesUrl = api('approvals/:id/votes');
export const bypassUrl = api('approvals/:id/bypass');

// A few of the bridge's form rules, enough to refuse what the tests send.
const formProblem = (approval: Approval, input: Record<string, unknown>) => {
  for (const field of parseParams(approval.params)) {
    const value = field.name in input ? input[field.name] : field.initial;
    if ((value === null || value === undefined) && !field.nullable) {
      return { field: `params_input.${field.name}`, message: `${field.name} is required` };
    }
    if (typeof value === 'number' && field.schema.maximum !== undefined && value > field.schema.maximum) {
      return { field: `params_input.${field.name}`, message: `${field.name} must be <= ${field.schema.maximum}` };
    }
  }
  return undefined;
};

/** A live claim someone other than the signed-in person holds. */
export const claimedByOther = (approval: Approval) =>
  approval.claim !== null && approval.claim.by !== signedInUser && Date.parse(approval.claim.until) > Date.now();

type VoteOutcome = { readonly approval: Approval } | { readonly status: number; readonly error: ApiError['error'] };

const refused = (status: number, code: string, message: string, field?: string): VoteOutcome => ({
  status,
  error: { code, message, ...(field === undefined ? {} : { field }) },
});

/** The bridge's vote rules, enough for the tests: a single vote, and each item of a bulk decision. */
export const voteOn = (id: string, vote: VoteRequest): VoteOutcome => {
  const approval = allApprovals().find((candidate) => candidate.id === id);
  if (approval === undefined) {
    return refused(404, 'not_found', `approval ${id} not found`);
  }
  if (approval.state !== 'pending') {
    return refused(409, 'conflict', `approval is already ${approval.state}`);
  }
  if (claimedByOther(approval)) {
    return refused(409, 'claimed', `${approval.claim?.by} is reviewing this approval`);
  }
  const { option, reason, params_input: paramsInput = {}, on_behalf_of: onBehalfOf = null } = vote;
  // The bridge's delegation rule, enough for the tests: a deputy votes for someone whose delegation the approval lists.
  if (onBehalfOf !== null && !approval.delegations.some((d) => d.from === onBehalfOf && d.to === signedInUser)) {
    return refused(403, 'not_delegated', `${onBehalfOf} has no delegation to ${signedInUser} in force now`, 'on_behalf_of');
  }
  if (!approval.options.includes(option)) {
    return refused(422, 'invalid_option', `option must be one of ${approval.options.join(', ')}`, 'option');
  }
  // The bridge's policy names what each option means; a "no" needs no form input.
  const rejecting = isRejecting(approval, option);
  if (rejecting && !reason?.trim()) {
    return refused(422, 'reason_required', 'a reason is required to reject', 'reason');
  }
  const problem = rejecting ? undefined : formProblem(approval, paramsInput);
  if (problem !== undefined) {
    return refused(422, 'form_invalid', problem.message, problem.field);
  }
  const at = new Date().toISOString();
  const progress = approval.progress ?? { levels: 1, level_name: 'approver', needed: 1, approvals: 0, rejections: 0 };
  const tally = {
    ...progress,
    approvals: progress.approvals + (rejecting ? 0 : 1),
    rejections: progress.rejections + (rejecting ? 1 : 0),
  };
  const decided = rejecting || tally.approvals >= tally.needed;
  const updated: Approval = {
    ...approval,
    state: decided ? (rejecting ? 'rejected' : 'approved') : 'pending',
    votes: [
      ...approval.votes,
      { user: signedInUser, role: 'user', option, reason: reason ?? null, channel: 'ui', at, level: approval.level, replaced: false, params_input: rejecting ? null : paramsInput, content_digest: approval.content_digest, on_behalf_of: onBehalfOf },
    ],
    decided_at: decided ? at : null,
    outcome: decided ? { option, params_input: paramsInput } : null,
    progress: tally,
    claim: null,
  };
  replaceApproval(updated);
  recordAudit({ actor: signedInUser, action: 'vote.recorded', approval_id: approval.id, channel: 'ui', reason: reason ?? null });

  return { approval: updated };
};

// Mirrors the bridge's rules: the list filters by state, DAG, task instance and "mine", pages by cursor, and a vote
// decides once the open level has its approvals.
export const approvalsHandlers = [
  http.get(approvalsUrl, ({ request }) => {
    const query = new URL(request.url).searchParams;
    const state = query.get('state') ?? 'pending';
    const mine = query.get('mine') === 'true';
    const matches = (name: 'dag_id' | 'run_id' | 'task_id' | 'map_index' | 'policy', value: string | number | null) =>
      !query.has(name) || query.get(name) === String(value);
    const items = allApprovals().filter(
      (approval) =>
        (state === 'all' || approval.state === state) &&
        matches('dag_id', approval.dag_id) &&
        matches('run_id', approval.run_id) &&
        matches('task_id', approval.task_id) &&
        matches('map_index', approval.map_index) &&
        matches('policy', approval.policy) &&
        (!mine || approval.requester !== signedInUser),
    );

    return HttpResponse.json<ApprovalList>(page(items, query, 50));
  }),
  http.get<{ id: string }>(approvalUrl, ({ params }) => {
    const approval = allApprovals().find(({ id }) => id === params.id);
    return approval === undefined
      ? bridgeError(404, 'not_found', `approval ${params.id} not found`)
      : HttpResponse.json(approval);
  }),
  http.post<{ id: string }, VoteRequest, Approval | ApiError>(votesUrl, async ({ params, request }) => {
    const result = voteOn(params.id, await request.json());
    return 'approval' in result
      ? HttpResponse.json(result.approval)
      : bridgeError(result.status, result.error.code, result.error.message, result.error.field);
  }),
  // The bridge's break-glass: a reason, a policy with break_glass, and never the requester; it opens a review.
  http.post<{ id: string }, BypassRequest, Approval | ApiError>(bypassUrl, async ({ params, request }) => {
    const approval = allApprovals().find(({ id }) => id === params.id);
    if (approval === undefined) {
      return bridgeError(404, 'not_found', `approval ${params.id} not found`);
    }
    const { reason } = await request.json();
    if (!reason?.trim()) {
      return bridgeError(400, 'bad_request', 'reason: a bypass needs a reason', 'reason');
    }
    if (approval.state !== 'pending') {
      return bridgeError(409, 'conflict', `approval is already ${approval.state}`);
    }
    if (!approval.break_glass || approval.requester === signedInUser) {
      return bridgeError(403, 'break_glass_not_allowed', `${signedInUser} is not allowed to break the glass`);
    }
    const at = new Date().toISOString();
    const review: Approval = {
      ...approval,
      id: `${approval.id}-review`,
      task_id: `${approval.task_id}@review`,
      subject: `Review a break-glass bypass: ${approval.subject}`,
      options: ['Confirm', 'Dispute'],
      option_outcomes: [
        { option: 'Confirm', outcome: 'approve' },
        { option: 'Dispute', outcome: 'reject' },
      ],
      requester: signedInUser,
      external: true,
      break_glass: false,
      review_of: { approval_id: approval.id, policy: approval.policy ?? 'default', by: signedInUser, reason },
    };
    const bypassed: Approval = {
      ...approval,
      state: 'bypassed',
      break_glass: false,
      decided_at: at,
      outcome: { option: approval.options[0] ?? 'Approve', params_input: {} },
      bypass: { by: signedInUser, reason, at, review_id: review.id },
    };
    replaceApproval(bypassed);
    addApproval(review);
    recordAudit({ actor: signedInUser, action: 'approval.bypassed', approval_id: approval.id, channel: 'break_glass', reason });

    return HttpResponse.json(bypassed);
  }),
];

export const escalationsUrl = api('approvals/:id/escalations');

export const escalationsHandlers = [
  http.get<{ id: string }>(escalationsUrl, ({ params }) =>
    HttpResponse.json<EscalationList>({
      items:
        params.id === 'apr-release'
          ? [{ level: 1, step: 0, approver: 'carol', reason: 'no decision within 2h', at: '2025-11-25T11:00:00.000Z' }]
          : [],
    }),
  ),
];

export const receiptUrl = api('approvals/:id/receipt');
export const RECEIPT_KID = 'mZ3dJ6M0k9yq2b1Xr3tW8vJpQn5sLk7hGf2eDc4bA1o';

const base64url = (value: unknown) => btoa(JSON.stringify(value)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');

/** The bridge's receipt of a decided approval (the signature is a stand-in: the UI only shows and saves it). */
const receiptOf = (approval: Approval): Receipt => {
  const payload: Receipt['payload'] = {
    receipt_version: 1,
    issuer: 'http://bridge.test',
    issued_at: approval.decided_at ?? approval.created_at,
    approval_id: approval.id,
    dag_id: approval.dag_id,
    run_id: approval.run_id,
    task_id: approval.task_id,
    map_index: approval.map_index,
    try_number: 1,
    content_digest: approval.content_digest,
    votes: approval.votes.map(({ user, on_behalf_of, option, reason, channel, at, level, content_digest }) => ({ user, on_behalf_of, option, reason, channel, at, level, content_digest })),
    bypass: approval.bypass,
    policy: { name: approval.policy, version: 'v1' },
    outcome: { state: approval.state, option: approval.outcome?.option ?? null, params_input: approval.outcome?.params_input ?? {} },
    decided_at: approval.decided_at ?? approval.created_at,
  };
  const receipt = `${base64url({ alg: 'EdDSA', kid: RECEIPT_KID, typ: 'airgate-receipt' })}.${base64url(payload)}.c2lnbmF0dXJl`;
  return { receipt, kid: RECEIPT_KID, verified: true, digest: `sha256:${'5e'.repeat(32)}`, payload };
};

export const receiptHandlers = [
  http.get<{ id: string }>(receiptUrl, ({ params }) => {
    const approval = allApprovals().find((a) => a.id === params.id);
    if (approval === undefined) return bridgeError(404, 'not_found', `approval ${params.id} not found`);
    if (approval.state === 'pending') return bridgeError(404, 'no_receipt', `approval ${params.id} is pending: it has no receipt until it is decided`);
    return HttpResponse.json<Receipt>(receiptOf(approval));
  }),
];
