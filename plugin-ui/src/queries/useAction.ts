import { useMutation, useQueryClient } from '@tanstack/react-query';

import { type ActionRequest, confirmAction, requestAction } from '../api/client';
import { auditKey } from './useAudit';

/** Asks the bridge for an action; it answers with what the action would do and a confirmation to send back. */
export const useRequestAction = () => {
  const queryClient = useQueryClient();

  return useMutation({
    mutationFn: (action: ActionRequest) => requestAction(action),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [auditKey] }),
  });
};

export const useConfirmAction = () => {
  const queryClient = useQueryClient();

  return useMutation({
    mutationFn: (token: string) => confirmAction(token),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [auditKey] }),
  });
};
