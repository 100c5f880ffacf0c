import axios, { isAxiosError } from 'axios';

import { messages } from '../i18n';
import type { components, paths } from './schema';

export type Approval = components['schemas']['Approval'];
export type ApprovalList = components['schemas']['ApprovalList'];
export type VoteRequest = components['schemas']['VoteRequest'];
export type ApiError = components['schemas']['Error'];
export type ApprovalsQuery = NonNullable<paths['/api/v1/approvals']['get']['parameters']['query']>;

// Airflow may be served under a sub-path, which its pages declare in <base href>; the plugin's
// routes are mounted beneath it.
const baseHref = document.querySelector('base')?.href ?? `${window.location.origin}/`;

const http = axios.create({ baseURL: new URL('airgate/api/', baseHref).href });

export const listApprovals = async (query: ApprovalsQuery): Promise<ApprovalList> =>
  (await http.get<ApprovalList>('approvals', { params: query })).data;

export const castVote = async (id: string, vote: VoteRequest): Promise<Approval> =>
  (
    await http.post<Approval>(`approvals/${encodeURIComponent(id)}/votes`, vote, {
      // The plugin route refuses non-JSON writes so that a cross-site form cannot forge a vote.
      headers: { 'Content-Type': 'application/json' },
    })
  ).data;

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

export const errorMessage = (error: unknown): string => {
  if (!isAxiosError(error)) {
    return messages.errors.unexpected;
  }
  if (error.response === undefined) {
    return messages.errors.unreachable;
  }
  return isApiError(error.response.data)
    ? error.response.data.error.message
    : messages.errors.status(error.response.status);
};
