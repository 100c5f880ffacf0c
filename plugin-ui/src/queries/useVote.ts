import { useMutation, useMutationState, useQueryClient } from '@tanstack/react-query';

import { type BypassRequest, bypassApproval, castVote, type VoteRequest, type VoteResult } from '../api/client';
import { approvalsKey } from './useApprovals';
import { auditKey } from './useAudit';

const votesKey = 'votes';

export const useVote = (id: string) => {
  const queryClient = useQueryClient();

  return useMutation({
    mutationKey: [votesKey, id],
    mutationFn: (vote: VoteRequest) => castVote(id, vote),
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: [approvalsKey] }),
        queryClient.invalidateQueries({ queryKey: [auditKey] }),
      ]);
    },
  });
};

/** Break-glass: decides the approval at once as someone its policy allows; the bridge opens a review. */
export const useBypass = (id: string) => {
  const queryClient = useQueryClient();

  return useMutation({
    mutationFn: (bypass: BypassRequest) => bypassApproval(id, bypass),
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: [approvalsKey] }),
        queryClient.invalidateQueries({ queryKey: [auditKey] }),
      ]);
    },
  });
};

/** The last vote this page sent on the approval that the bridge took, counted or kept for later, if any. */
export const useRecordedVote = (id: string): { option: string; deferred: boolean } | undefined =>
  useMutationState({
    filters: { mutationKey: [votesKey, id], status: 'success' },
    select: (mutation) => ({
      option: (mutation.state.variables as VoteRequest).option,
      deferred: 'deferred' in (mutation.state.data as VoteResult),
    }),
  }).at(-1);
