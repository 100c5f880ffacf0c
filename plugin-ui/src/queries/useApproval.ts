import { useQuery } from '@tanstack/react-query';

import { type Approval, getApproval, listApprovals } from '../api/client';
import { approvalsKey, POLL_MS } from './useApprovals';

export const useApproval = (id: string) =>
  useQuery({
    queryKey: [approvalsKey, 'one', id],
    queryFn: () => getApproval(id),
    refetchInterval: POLL_MS,
  });

type TaskInstance = {
  readonly dagId: string;
  readonly runId: string;
  readonly taskId: string;
  readonly mapIndex: number;
};

// One approval per try of the task instance; far fewer than a page holds.
const LOOKUP_LIMIT = 500;

/** The approval requested by one task instance, or null when it requested none. */
export const useTaskApproval = ({ dagId, runId, taskId, mapIndex }: TaskInstance) =>
  useQuery({
    queryKey: [approvalsKey, 'task', dagId, runId, taskId, mapIndex],
    queryFn: async (): Promise<Approval | null> => {
      const { items } = await listApprovals({
        state: 'all',
        dag_id: dagId,
        run_id: runId,
        task_id: taskId,
        map_index: mapIndex,
        limit: LOOKUP_LIMIT,
      });
      // The list is oldest first: the latest try's approval is the last.
      return items.at(-1) ?? null;
    },
    refetchInterval: POLL_MS,
  });
