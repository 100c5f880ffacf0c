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

// The list filters by DAG only, so the task instance's approval is found among the DAG's latest ones;
// a later try's approval comes first.
const LOOKUP_LIMIT = 500;

/** The approval requested by one task instance, or null when it requested none. */
export const useTaskApproval = ({ dagId, runId, taskId, mapIndex }: TaskInstance) =>
  useQuery({
    queryKey: [approvalsKey, 'task', dagId, runId, taskId, mapIndex],
    queryFn: async (): Promise<Approval | null> => {
      const { items } = await listApprovals({ state: 'all', dag_id: dagId, limit: LOOKUP_LIMIT });
      const matching = items.filter(
        (approval) =>
          approval.run_id === runId && approval.task_id === taskId && approval.map_index === mapIndex,
      );
      return matching.sort((a, b) => b.created_at.localeCompare(a.created_at))[0] ?? null;
    },
    refetchInterval: POLL_MS,
  });
