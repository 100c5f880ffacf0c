import { useInfiniteQuery } from '@tanstack/react-query';

import { type DeliveryState, listOutbox } from '../api/client';

const PAGE_SIZE = 100;

export const useOutbox = (state?: DeliveryState) =>
  useInfiniteQuery({
    queryKey: ['outbox', state],
    queryFn: ({ pageParam }) =>
      listOutbox({
        limit: PAGE_SIZE,
        ...(state === undefined ? {} : { state }),
        ...(pageParam === undefined ? {} : { cursor: pageParam }),
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
