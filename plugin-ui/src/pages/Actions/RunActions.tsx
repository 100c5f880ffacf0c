import { Heading, Stack } from '@chakra-ui/react';

import { EmptyState } from '../../components/EmptyState';
import { messages } from '../../i18n';
import type { PluginProps } from '../../pluginProps';
import { ActionButtons } from './ActionButtons';

const { kinds } = messages.actions;

/** The DAG run tab: actions on the run and its DAG, all through the bridge. */
export const RunActions = ({ dagId, runId }: PluginProps) => {
  if (dagId === undefined || runId === undefined) {
    return <EmptyState label={messages.actions.missingRun} />;
  }
  const dag = { dag_id: dagId };

  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{messages.actions.runTitle}</Heading>
      <ActionButtons
        actions={[
          { label: kinds.trigger_run, target: { kind: 'trigger_run', ...dag }, destructive: false },
          { label: kinds.mark_run_failed, target: { kind: 'mark_run_failed', ...dag, run_id: runId }, destructive: true },
          { label: kinds.pause_dag, target: { kind: 'pause_dag', ...dag }, destructive: true },
          { label: kinds.resume_dag, target: { kind: 'resume_dag', ...dag }, destructive: false },
          { label: kinds.publish_asset_event, target: { kind: 'publish_asset_event' }, destructive: false },
        ]}
      />
    </Stack>
  );
};
