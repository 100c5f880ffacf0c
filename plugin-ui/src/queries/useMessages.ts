import { useInfiniteQuery } from '@tanstack/react-query';

import { type DeliveryState, listMessages } from '../api/client';

const PAGE_SIZE = 100;

export const useMessages = (state?: DeliveryState) =>
  useInfiniteQuery({
    queryKey: ['messages', state],
    queryFn: ({ pageParam }) =>
      listMessages({
        limit: PAGE_SIZE,
        ...(state === undefined ? {} : { state }),
        ...(pageParam === undefined ? {} : { cursor: pageParam }),
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
