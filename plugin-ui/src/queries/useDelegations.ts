import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { createDelegation, type DelegationRequest, listDelegations, revokeDelegation } from '../api/client';
import { approvalsKey } from './useApprovals';
import { auditKey } from './useAudit';

export const delegationsKey = 'delegations';

/** The delegations the signed-in person gave and received. */
export const useDelegations = () => useQuery({ queryKey: [delegationsKey], queryFn: listDelegations });

// Who may vote for whom shows on approvals too, and every change is audited.
const useRefresh = () => {
  const queryClient = useQueryClient();
  return async () => {
    await Promise.all(
      [delegationsKey, approvalsKey, auditKey].map((key) => queryClient.invalidateQueries({ queryKey: [key] })),
    );
  };
};

export const useCreateDelegation = () => {
  const refresh = useRefresh();
  return useMutation({ mutationFn: (delegation: DelegationRequest) => createDelegation(delegation), onSuccess: refresh });
};

export const useRevokeDelegation = () => {
  const refresh = useRefresh();
  return useMutation({ mutationFn: (id: string) => revokeDelegation(id), onSuccess: refresh });
};
