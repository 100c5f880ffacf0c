import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { decidePolicyChange, getPolicies, type PolicyDecision, type ProposePolicyChange, proposePolicyChange } from '../api/client';
import { auditKey } from './useAudit';

export const policiesKey = 'policies';

export const usePolicies = () => useQuery({ queryKey: [policiesKey], queryFn: getPolicies, retry: false });

const useInvalidating = <T, R>(mutationFn: (input: T) => Promise<R>) => {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: [policiesKey] }),
        queryClient.invalidateQueries({ queryKey: [auditKey] }),
      ]);
    },
  });
};

export const useProposePolicyChange = () => useInvalidating((change: ProposePolicyChange) => proposePolicyChange(change));

/** Approve or reject one pending change (an admin who did not propose it). */
export const useDecidePolicyChange = () =>
  useInvalidating(({ version, verb, decision }: { version: string; verb: 'approve' | 'reject'; decision: PolicyDecision }) =>
    decidePolicyChange(version, verb, decision),
  );
