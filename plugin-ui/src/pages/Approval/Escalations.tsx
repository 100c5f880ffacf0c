import { List, Text } from '@chakra-ui/react';

import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useEscalations } from '../../queries/useEscalations';

type Props = {
  readonly approvalId: string;
};

export const Escalations = ({ approvalId }: Props) => {
  const { data, error, isPending } = useEscalations(approvalId);

  if (isPending) {
    return <LoadingState label={messages.common.loading} />;
  }
  if (error !== null) {
    return <ErrorAlert error={error} title={messages.approval.escalationsFailed} />;
  }
  if (data.items.length === 0) {
    return <EmptyState label={messages.approval.noEscalations} />;
  }
  return (
    <List.Root ps="5">
      {data.items.map((escalation) => (
        <List.Item key={`${escalation.at}-${escalation.approver}`}>
          <Text>
            {messages.approval.escalation(escalation.level, escalation.approver, escalation.reason)}{' '}
            <Text as="span" color="fg.muted">
              <time dateTime={escalation.at}>{messages.common.dateTime(escalation.at)}</time>
            </Text>
          </Text>
        </List.Item>
      ))}
    </List.Root>
  );
};
