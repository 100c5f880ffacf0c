import { useQuery } from '@tanstack/react-query';

import { listApprovals } from '../api/client';

export const approvalsKey = 'approvals';

// New approvals arrive without any action in this page, so the list polls.
const POLL_MS = 5_000;

export const useApprovals = (dagId?: string) =>
  useQuery({
    queryKey: [approvalsKey, { state: 'pending', dagId }],
    queryFn: () => listApprovals({ state: 'pending', dag_id: dagId }),
    refetchInterval: POLL_MS,
  });
