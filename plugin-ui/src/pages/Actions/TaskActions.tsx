import { Heading, Stack } from '@chakra-ui/react';

import { EmptyState } from '../../components/EmptyState';
import { messages } from '../../i18n';
import type { PluginProps } from '../../pluginProps';
import { ActionButtons } from './ActionButtons';

const { kinds } = messages.actions;

/** The task instance tab: mark or clear the task instance, through the bridge. */
export const TaskActions = ({ dagId, runId, taskId, mapIndex }: PluginProps) => {
  if (dagId === undefined || runId === undefined || taskId === undefined) {
    return <EmptyState label={messages.actions.missingTask} />;
  }
  // Airflow leaves mapIndex out for a task that is not mapped, whose index is -1.
  const task = { dag_id: dagId, run_id: runId, task_id: taskId, map_index: mapIndex === undefined ? -1 : Number(mapIndex) };

  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{messages.actions.taskTitle}</Heading>
      <ActionButtons
        actions={[
          { label: kinds.mark_task_success, target: { kind: 'mark_task', ...task, state: 'success' }, destructive: true },
          { label: kinds.mark_task_failed, target: { kind: 'mark_task', ...task, state: 'failed' }, destructive: true },
          { label: kinds.clear_task, target: { kind: 'clear_task', ...task }, destructive: true },
        ]}
      />
    </Stack>
  );
};
