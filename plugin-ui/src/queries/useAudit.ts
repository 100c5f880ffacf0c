import { useInfiniteQuery, useQuery } from '@tanstack/react-query';

import { listAudit, verifyAudit } from '../api/client';

export const auditKey = 'audit';

const PAGE_SIZE = 100;

export const useAudit = (approvalId?: string) =>
  useInfiniteQuery({
    queryKey: [auditKey, 'list', approvalId],
    queryFn: ({ pageParam }) =>
      listAudit({
        limit: PAGE_SIZE,
        ...(approvalId === undefined ? {} : { approval_id: approvalId }),
        ...(pageParam === undefined ? {} : { cursor: pageParam }),
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });

export const useAuditVerification = () =>
  useQuery({ queryKey: [auditKey, 'verify'], queryFn: verifyAudit });
