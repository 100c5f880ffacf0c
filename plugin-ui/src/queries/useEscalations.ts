import { useQuery } from '@tanstack/react-query';

import { listEscalations } from '../api/client';
import { approvalsKey, POLL_MS } from './useApprovals';

export const useEscalations = (id: string) =>
  useQuery({
    queryKey: [approvalsKey, 'escalations', id],
    queryFn: () => listEscalations(id),
    refetchInterval: POLL_MS,
  });
