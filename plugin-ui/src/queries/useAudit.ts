import { useInfiniteQuery, useQuery } from '@tanstack/react-query';

import { type AuditQuery, listAudit, verifyAudit } from '../api/client';

export const auditKey = 'audit';

const PAGE_SIZE = 100;

/** What the Audit page narrows the trail by; empty fields are not sent. */
export type AuditFilters = Pick<AuditQuery, 'approval_id' | 'dag_id' | 'action' | 'actor' | 'since' | 'until'>;

export const useAudit = (filters: AuditFilters = {}) =>
  useInfiniteQuery({
    queryKey: [auditKey, 'list', filters],
    queryFn: ({ pageParam }) =>
      listAudit({
        limit: PAGE_SIZE,
        ...filters,
        ...(pageParam === undefined ? {} : { cursor: pageParam }),
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });

export const useAuditVerification = () =>
  useQuery({ queryKey: [auditKey, 'verify'], queryFn: verifyAudit });
