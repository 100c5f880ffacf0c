import { Stack } from '@chakra-ui/react';

import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useTaskApproval } from '../../queries/useApproval';
import type { PluginProps } from '../../pluginProps';
import { ApprovalView } from './ApprovalView';

/** The task instance tab: the approval that task instance requested, if any. */
export const TaskApproval = ({ dagId = '', runId = '', taskId = '', mapIndex }: PluginProps) => {
  // Airflow leaves mapIndex out for a task that is not mapped, whose index is -1.
  const { data, error, isPending } = useTaskApproval({
    dagId,
    runId,
    taskId,
    mapIndex: mapIndex === undefined ? -1 : Number(mapIndex),
  });

  return (
    <Stack gap="4" p="4">
      {isPending ? <LoadingState label={messages.approval.loading} /> : undefined}
      {error !== null ? <ErrorAlert error={error} title={messages.approval.loadFailed} /> : undefined}
      {data === null ? <EmptyState label={messages.approval.notFound} /> : undefined}
      {data === undefined || data === null ? undefined : <ApprovalView approval={data} />}
    </Stack>
  );
};
