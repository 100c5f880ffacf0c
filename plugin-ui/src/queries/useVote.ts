import { useMutation, useQueryClient } from '@tanstack/react-query';

import { castVote, type VoteRequest } from '../api/client';
import { approvalsKey } from './useApprovals';

type Variables = {
  readonly id: string;
  readonly vote: VoteRequest;
};

export const useVote = () => {
  const queryClient = useQueryClient();

  return useMutation({
    mutationFn: ({ id, vote }: Variables) => castVote(id, vote),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [approvalsKey] }),
  });
};
