import { useQuery } from '@tanstack/react-query';

import { getStats, listDeliveries } from '../api/client';

const POLL_MS = 30_000;
// Enough to tell "a few" from "many"; beyond it the dashboard says "500+".
export const FAILED_DELIVERIES_LIMIT = 500;

export const useStats = () =>
  useQuery({ queryKey: ['stats'], queryFn: getStats, refetchInterval: POLL_MS });

/** How many deliveries failed for good, counted from the deliveries list (the stats do not carry it). */
export const useFailedDeliveries = () =>
  useQuery({
    queryKey: ['deliveries', 'failed'],
    queryFn: async () => {
      const { items, next_cursor: more } = await listDeliveries({ state: 'failed', limit: FAILED_DELIVERIES_LIMIT });
      return { count: items.length, more: more !== null };
    },
    refetchInterval: POLL_MS,
  });
