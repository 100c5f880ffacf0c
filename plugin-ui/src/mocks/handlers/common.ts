import { HttpResponse } from 'msw';

import type { ApiError } from '../../api/client';

export const api = (path: string) => `*/airgate/api/${path}`;

export const signedInUser = 'alice';

export const bridgeError = (status: number, code: string, message: string, field?: string) =>
  HttpResponse.json<ApiError>(
    { error: { code, message, ...(field === undefined ? {} : { field }) } },
    { status },
  );

/** The bridge's cursor paging, with the position as the cursor. */
export const page = <T,>(items: readonly T[], query: URLSearchParams, defaultLimit: number) => {
  const start = Number(query.get('cursor') ?? '0');
  const limit = Number(query.get('limit') ?? String(defaultLimit));
  const end = start + limit;
  return { items: items.slice(start, end), next_cursor: end < items.length ? String(end) : null };
};
