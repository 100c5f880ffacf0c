import { useMutation, useQueryClient } from '@tanstack/react-query';

import { type BulkDecisionRequest, claimApproval, decideMany, releaseClaim } from '../api/client';
import { approvalsKey } from './useApprovals';
import { auditKey } from './useAudit';

/** Claims an approval of the review queue (or renews the claim); the lists show it once re-read. */
export const useClaim = () => {
  const queryClient = useQueryClient();

  return useMutation({
    mutationFn: claimApproval,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [approvalsKey] }),
  });
};

export const useRelease = () => useMutation({ mutationFn: releaseClaim });

/** One decision for many approvals; the bridge answers per item. */
export const useBulkDecision = () => {
  const queryClient = useQueryClient();

  return useMutation({
    mutationFn: (decision: BulkDecisionRequest) => decideMany(decision),
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: [approvalsKey] }),
        queryClient.invalidateQueries({ queryKey: [auditKey] }),
      ]);
    },
  });
};
