import { useQuery } from '@tanstack/react-query';

import { getReceipt } from '../api/client';
import { approvalsKey } from './useApprovals';

/** A decided approval's receipt; it never changes once signed, so it is read once. */
export const useReceipt = (id: string) =>
  useQuery({
    queryKey: [approvalsKey, 'receipt', id],
    queryFn: () => getReceipt(id),
    staleTime: Infinity,
  });
