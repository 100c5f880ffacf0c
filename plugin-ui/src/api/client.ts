import axios, { isAxiosError } from 'axios';

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
export type Delegation = components['schemas']['Delegation'];
export type DelegationList = components['schemas']['DelegationList'];
export type DelegationRequest = components['schemas']['DelegationRequest'];
export type MessageQuery = NonNullable<paths['/api/v1/messages']['get']['parameters']['query']>;
export type DeliveriesQuery = NonNullable<paths['/api/v1/deliveries']['get']['parameters']['query']>;

// Airflow may be served under a sub-path, which its pages declare in <base href>; the plugin's
// routes are mounted beneath it.
const baseHref = document.querySelector('base')?.href ?? `${window.location.origin}/`;

const http = axios.create({ baseURL: new URL('airgate/api/', baseHref).href });

// The plugin route refuses non-JSON writes so that a cross-site form cannot forge a vote or an action.
const json = { headers: { 'Content-Type': 'application/json' } };

export const listApprovals = async (query: ApprovalsQuery): Promise<ApprovalList> =>
  (await http.get<ApprovalList>('approvals', { params: query })).data;

export const getApproval = async (id: string): Promise<Approval> =>
  (await http.get<Approval>(`approvals/${encodeURIComponent(id)}`)).data;

export const castVote = async (id: string, vote: VoteRequest): Promise<VoteResult> => {
  const res = await http.post<Approval | DeferredVote>(`approvals/${encodeURIComponent(id)}/votes`, vote, json);
  return res.status === 202 ? { deferred: res.data as DeferredVote } : { counted: res.data as Approval };
};

export const bypassApproval = async (id: string, bypass: BypassRequest): Promise<Approval> =>
  (await http.post<Approval>(`approvals/${encodeURIComponent(id)}/bypass`, bypass, json)).data;

/** Claims the approval in the review queue for the signed-in person (or renews their claim). */
export const claimApproval = async (id: string): Promise<Approval> =>
  (await http.put<Approval>(`queue/${encodeURIComponent(id)}/claim`, {}, json)).data;

// A body, so that the plugin route sees a JSON write (it refuses any other).
export const releaseClaim = async (id: string): Promise<Approval> =>
  (await http.delete<Approval>(`queue/${encodeURIComponent(id)}/claim`, { ...json, data: {} })).data;

export const decideMany = async (decision: BulkDecisionRequest): Promise<BulkDecisionResult> =>
  (await http.post<BulkDecisionResult>('queue/decisions', decision, json)).data;

export const listAudit = async (query: AuditQuery): Promise<AuditList> =>
  (await http.get<AuditList>('audit', { params: query })).data;

/** Where the browser downloads the audit export: a plain GET the plugin route authenticates by Airflow's cookie. */
export const auditExportUrl = (query: AuditExportQuery): string => {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return `${http.defaults.baseURL ?? ''}audit/export?${params.toString()}`;
};

export const verifyAudit = async (): Promise<AuditVerification> =>
  (await http.get<AuditVerification>('audit/verify')).data;

export const listEscalations = async (id: string): Promise<EscalationList> =>
  (await http.get<EscalationList>(`approvals/${encodeURIComponent(id)}/escalations`)).data;

export const getStats = async (): Promise<Stats> => (await http.get<Stats>('stats')).data;

export const listMessages = async (query: MessageQuery): Promise<MessageList> =>
  (await http.get<MessageList>('messages', { params: query })).data;

export const listDeliveries = async (query: DeliveriesQuery): Promise<DeliveryList> =>
  (await http.get<DeliveryList>('deliveries', { params: query })).data;

export const listDelegations = async (): Promise<DelegationList> => (await http.get<DelegationList>('delegations')).data;

export const createDelegation = async (delegation: DelegationRequest): Promise<Delegation> =>
  (await http.post<Delegation>('delegations', delegation, json)).data;

// A body, so that the plugin route sees a JSON write (it refuses any other).
export const revokeDelegation = async (id: string): Promise<Delegation> =>
  (await http.delete<Delegation>(`delegations/${encodeURIComponent(id)}`, { ...json, data: {} })).data;

export const requestAction = async (action: ActionRequest): Promise<ActionConfirmation> =>
  (await http.post<ActionConfirmation>('actions', action, json)).data;

export const confirmAction = async (token: string): Promise<ActionResult> =>
  (await http.post<ActionResult>('actions/confirm', { token }, json)).data;

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
  isAxiosError(error) && isApiError(error.response?.data) ? error.response.data.error : undefined;

export const errorMessage = (error: unknown): string => {
  if (!isAxiosError(error)) {
    return messages.errors.unexpected;
  }
  if (error.response === undefined) {
    return messages.errors.unreachable;
  }
  return bridgeError(error)?.message ?? messages.errors.status(error.response.status);
};

/** The form field a 422 names, e.g. `reason` or `params_input.batch`. */
export const errorField = (error: unknown): string | undefined => bridgeError(error)?.field;

export const errorStatus = (error: unknown): number | undefined =>
  isAxiosError(error) ? error.response?.status : undefined;
