import { useInfiniteQuery } from '@tanstack/react-query';

import { type ApprovalsQuery, listApprovals } from '../api/client';

export const approvalsKey = 'approvals';

// New approvals and votes cast elsewhere arrive without any action in this page, so lists poll.
export const POLL_MS = 5_000;

// Large pages keep 10,000 pending approvals to a few dozen requests.
export const PAGE_SIZE = 200;

type Filter = Omit<ApprovalsQuery, 'cursor' | 'limit'>;

/** Pages of approvals through the bridge's cursor; every loaded page is re-read on each poll. */
export const useApprovals = (filter: Filter) =>
  useInfiniteQuery({
    queryKey: [approvalsKey, 'list', filter],
    queryFn: ({ pageParam }) =>
      listApprovals({ ...filter, limit: PAGE_SIZE, ...(pageParam === undefined ? {} : { cursor: pageParam }) }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    refetchInterval: POLL_MS,
  });
