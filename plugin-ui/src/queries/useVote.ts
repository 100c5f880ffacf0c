import { useMutation, useMutationState, useQueryClient } from '@tanstack/react-query';

import { castVote, type VoteRequest } from '../api/client';
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

/** The option of the last vote this page recorded on the approval, if any. */
export const useRecordedVote = (id: string): string | undefined =>
  useMutationState({
    filters: { mutationKey: [votesKey, id], status: 'success' },
    select: (mutation) => (mutation.state.variables as VoteRequest).option,
  }).at(-1);
