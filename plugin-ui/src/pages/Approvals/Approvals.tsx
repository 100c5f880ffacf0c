import { Alert, Heading, HStack, Spinner, Stack, Text } from '@chakra-ui/react';
import { useState } from 'react';

import type { Approval } from '../../api/client';
import { ErrorAlert } from '../../components/ErrorAlert';
import { VoteDialog } from '../../components/VoteDialog';
import { messages } from '../../i18n';
import { useApprovals } from '../../queries/useApprovals';
import { ApprovalsTable } from './ApprovalsTable';

// The props Airflow hands a react app; the task-instance page sets all of dagId, runId and taskId.
type Props = {
  readonly dagId?: string;
  readonly runId?: string;
  readonly taskId?: string;
  readonly mapIndex?: string;
};

type Choice = {
  readonly approval: Approval;
  readonly option: string;
};

// Airflow leaves mapIndex out for a task that is not mapped, whose index is -1.
const forTaskInstance = ({ dagId, runId, taskId, mapIndex }: Props) =>
  dagId === undefined || runId === undefined || taskId === undefined
    ? () => true
    : (approval: Approval) =>
        approval.dag_id === dagId &&
        approval.run_id === runId &&
        approval.task_id === taskId &&
        approval.map_index === (mapIndex === undefined ? -1 : Number(mapIndex));

export const Approvals = (props: Props) => {
  const { data, error, isPending } = useApprovals(props.dagId);
  const [choice, setChoice] = useState<Choice>();
  const [recorded, setRecorded] = useState<Choice>();
  const approvals = data?.items.filter(forTaskInstance(props)) ?? [];

  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{messages.approvals.title}</Heading>
      {recorded !== undefined ? (
        <Alert.Root status="success" role="status">
          <Alert.Indicator />
          <Alert.Title>
            {messages.approvals.recorded(recorded.option, recorded.approval.subject)}
          </Alert.Title>
        </Alert.Root>
      ) : undefined}
      {error !== null ? <ErrorAlert error={error} title={messages.approvals.loadFailed} /> : undefined}
      {isPending ? (
        <HStack gap="2">
          <Spinner size="sm" />
          <Text>{messages.approvals.loading}</Text>
        </HStack>
      ) : undefined}
      {data !== undefined && approvals.length === 0 ? (
        <Text color="fg.muted">{messages.approvals.empty}</Text>
      ) : undefined}
      {approvals.length > 0 ? (
        <ApprovalsTable
          approvals={approvals}
          onChoose={(approval, option) => setChoice({ approval, option })}
        />
      ) : undefined}
      {choice !== undefined ? (
        <VoteDialog
          approval={choice.approval}
          option={choice.option}
          onClose={() => setChoice(undefined)}
          onVoted={() => {
            setRecorded(choice);
            setChoice(undefined);
          }}
        />
      ) : undefined}
    </Stack>
  );
};
