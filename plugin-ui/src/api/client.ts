import createClient from 'openapi-fetch';

import { messages } from '../i18n';
import type { components, paths } from './schema';

export type Approval = components['schemas']['Approval'];
export type ApprovalState = components['schemas']['ApprovalState'];
export type ApprovalList = components['schemas']['ApprovalList'];
export type Vote = components['schemas']['Vote'];
export type VoteRequest = components['schemas']['VoteRequest'];
export type DeferredVote = components['schemas']['DeferredVote'];
export type BypassRequest = components['schemas']['BypassRequest'];
export type BulkDecisionRequest = components['schemas']['BulkDecisionRequest'];
export type BulkDecisionResult = components['schemas']['BulkDecisionResult'];
export type BulkDecisionItem = components['schemas']['BulkDecisionItem'];
/** A vote counted now, or kept (202) until Airflow can say whether the voter may decide. */
export type VoteResult = { readonly counted: Approval } | { readonly deferred: DeferredVote };
export type AuditEntry = components['schemas']['AuditEntry'];
export type AuditList = components['schemas']['AuditList'];
export type AuditVerification = components['schemas']['AuditVerification'];
export type ApiError = components['schemas']['Error'];
export type ApprovalsQuery = NonNullable<paths['/api/v1/approvals']['get']['parameters']['query']>;
export type AuditQuery = NonNullable<paths['/api/v1/audit']['get']['parameters']['query']>;
export type AuditExportQuery = NonNullable<paths['/api/v1/audit/export']['get']['parameters']['query']>;
export type ActionRequest = components['schemas']['ActionRequest'];
export type ActionKind = ActionRequest['kind'];
export type ActionConfirmation = components['schemas']['ActionConfirmation'];
export type Confirmation = ActionConfirmation['confirmation'];
export type ActionResult = components['schemas']['ActionResult'];
export type Stats = components['schemas']['Stats'];
export type MessageList = components['schemas']['MessageList'];
export type Message = components['schemas']['Message'];
export type Delivery = Message['deliveries'][number];
export type DeliveryState = Delivery['state'];
export type DeliveryList = components['schemas']['DeliveryList'];
export type EscalationList = components['schemas']['EscalationList'];
export type Escalation = components['schemas']['Escalation'];
export type PolicyOverview = components['schemas']['PolicyOverview'];
export type PolicyVersion = components['schemas']['PolicyVersion'];
export type ProposePolicyChange = components['schemas']['ProposePolicyChange'];
export type PolicyDecision = components['schemas']['PolicyDecision'];
export type Receipt = components['schemas']['Receipt'];
export type DryRunRequest = components['schemas']['DryRunRequest'];
export type PolicyDryRun = components['schemas']['PolicyDryRun'];
export type DryRunLevel = components['schemas']['DryRunLevel'];
export type Delegation = components['schemas']['Delegation'];
export type DelegationList = components['schemas']['DelegationList'];
export type DelegationRequest = components['schemas']['DelegationRequest'];
export type MessageQuery = NonNullable<paths['/api/v1/messages']['get']['parameters']['query']>;
export type DeliveriesQuery = NonNullable<paths['/api/v1/deliveries']['get']['parameters']['query']>;

// Airflow may be served under a sub-path, which its pages declare in <base href>; the plugin's
// routes are mounted beneath it.
const baseHref = document.querySelector('base')?.href ?? `${window.location.origin}/`;
const pluginRoute = new URL('airgate/api/', baseHref).href;

// The contract's paths are the bridge's (`/api/v1/approvals`); the plugin route serves each of them,
// same-origin, at `airgate/api/approvals`.
const contractBase = new URL('airgate', baseHref).href;
const toPluginRoute = async (request: Request): Promise<Response> => {
  const url = request.url.replace(`${contractBase}/api/v1/`, pluginRoute);
  // A new request with the body read out: browsers refuse to copy a request whose body is a stream.
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  // Looked up per call, so test servers can stand in for it.
  return globalThis.fetch(url, { method: request.method, headers: request.headers, body, signal: request.signal });
};
const bridge = createClient<paths>({ baseUrl: contractBase, fetch: toPluginRoute });

/** A response of the bridge (or of the plugin route, or Airflow before it) that is no success. */
export class BridgeError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

type Result<T> = { readonly data?: T; readonly error?: unknown; readonly response: Response };

const ok = async <T,>(call: Promise<Result<T>>): Promise<T> => {
  const { data, error, response } = await call;
  if (!response.ok) {
    throw new BridgeError(response.status, error);
  }
  return data as T;
};

// The plugin route refuses non-JSON writes so that a cross-site form cannot forge a vote or an action.
const json = { 'Content-Type': 'application/json' } as const;
const byId = (id: string) => ({ params: { path: { id } } });

export const listApprovals = (query: ApprovalsQuery): Promise<ApprovalList> =>
  ok(bridge.GET('/api/v1/approvals', { params: { query } }));

export const getApproval = (id: string): Promise<Approval> => ok(bridge.GET('/api/v1/approvals/{id}', byId(id)));

export const castVote = async (id: string, vote: VoteRequest): Promise<VoteResult> => {
  const { data, error, response } = await bridge.POST('/api/v1/approvals/{id}/votes', { ...byId(id), body: vote });
  if (!response.ok || data === undefined) {
    throw new BridgeError(response.status, error);
  }
  return response.status === 202 ? { deferred: data as DeferredVote } : { counted: data as Approval };
};

export const bypassApproval = (id: string, bypass: BypassRequest): Promise<Approval> =>
  ok(bridge.POST('/api/v1/approvals/{id}/bypass', { ...byId(id), body: bypass }));

/** Claims the approval in the review queue for the signed-in person (or renews their claim). */
export const claimApproval = (id: string): Promise<Approval> =>
  ok(bridge.PUT('/api/v1/queue/{id}/claim', { ...byId(id), body: {} }));

// Marked as JSON, so that the plugin route sees a JSON write (it refuses any other).
export const releaseClaim = (id: string): Promise<Approval> =>
  ok(bridge.DELETE('/api/v1/queue/{id}/claim', { ...byId(id), headers: json }));

export const decideMany = (decision: BulkDecisionRequest): Promise<BulkDecisionResult> =>
  ok(bridge.POST('/api/v1/queue/decisions', { body: decision }));

export const listAudit = (query: AuditQuery): Promise<AuditList> => ok(bridge.GET('/api/v1/audit', { params: { query } }));

/** Where the browser downloads the audit export: a plain GET the plugin route authenticates by Airflow's cookie. */
export const auditExportUrl = (query: AuditExportQuery): string => {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return `${pluginRoute}audit/export?${params.toString()}`;
};

export const verifyAudit = (): Promise<AuditVerification> => ok(bridge.GET('/api/v1/audit/verify'));

export const listEscalations = (id: string): Promise<EscalationList> =>
  ok(bridge.GET('/api/v1/approvals/{id}/escalations', byId(id)));

export const getReceipt = (id: string): Promise<Receipt> => ok(bridge.GET('/api/v1/approvals/{id}/receipt', byId(id)));

export const getStats = (): Promise<Stats> => ok(bridge.GET('/api/v1/stats'));

export const listMessages = (query: MessageQuery): Promise<MessageList> =>
  ok(bridge.GET('/api/v1/messages', { params: { query } }));

export const listDeliveries = (query: DeliveriesQuery): Promise<DeliveryList> =>
  ok(bridge.GET('/api/v1/deliveries', { params: { query } }));

export const listDelegations = (): Promise<DelegationList> => ok(bridge.GET('/api/v1/delegations'));

export const createDelegation = (delegation: DelegationRequest): Promise<Delegation> =>
  ok(bridge.POST('/api/v1/delegations', { body: delegation }));

// Marked as JSON, so that the plugin route sees a JSON write (it refuses any other).
export const revokeDelegation = (id: string): Promise<Delegation> =>
  ok(bridge.DELETE('/api/v1/delegations/{id}', { ...byId(id), headers: json }));

export const dryRunPolicy = (request: DryRunRequest): Promise<PolicyDryRun> =>
  ok(bridge.POST('/api/v1/policies/dry-run', { body: request }));

export const requestAction = (action: ActionRequest): Promise<ActionConfirmation> =>
  ok(bridge.POST('/api/v1/actions', { body: action }));

export const confirmAction = (token: string): Promise<ActionResult> =>
  ok(bridge.POST('/api/v1/actions/confirm', { body: { token } }));

export const getPolicies = (): Promise<PolicyOverview> => ok(bridge.GET('/api/v1/policies'));

export const proposePolicyChange = (change: ProposePolicyChange): Promise<PolicyVersion> =>
  ok(bridge.POST('/api/v1/policies/changes', { body: change }));

export const decidePolicyChange = (
  version: string,
  verb: 'approve' | 'reject',
  decision: PolicyDecision,
): Promise<PolicyVersion> =>
  ok(bridge.POST(`/api/v1/policies/changes/{version}/${verb}`, { params: { path: { version } }, body: decision }));

// Errors raised by the plugin route or by Airflow itself, before the bridge is reached, come in
// FastAPI's shape instead of the bridge's.
const isApiError = (data: unknown): data is ApiError =>
  typeof data === 'object' &&
  data !== null &&
  'error' in data &&
  typeof data.error === 'object' &&
  data.error !== null &&
  'message' in data.error &&
  typeof data.error.message === 'string';

const bridgeError = (error: unknown): ApiError['error'] | undefined =>
  error instanceof BridgeError && isApiError(error.body) ? error.body.error : undefined;

export const errorMessage = (error: unknown): string => {
  if (error instanceof BridgeError) {
    return bridgeError(error)?.message ?? messages.errors.status(error.status);
  }
  // What fetch throws when no response came back at all.
  return error instanceof TypeError ? messages.errors.unreachable : messages.errors.unexpected;
};

/** The form field a 422 names, e.g. `reason` or `params_input.batch`. */
export const errorField = (error: unknown): string | undefined => bridgeError(error)?.field;

export const errorStatus = (error: unknown): number | undefined =>
  error instanceof BridgeError ? error.status : undefined;
