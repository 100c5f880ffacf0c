import { Button, Stack } from '@chakra-ui/react';

import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useApproval } from '../../queries/useApproval';
import { ApprovalView } from './ApprovalView';

type Props = {
  readonly id: string;
  readonly onBack: () => void;
};

/** An approval opened from the inbox. */
export const ApprovalDetail = ({ id, onBack }: Props) => {
  const { data, error, isPending } = useApproval(id);

  return (
    <Stack gap="4" p="4">
      <Button size="sm" variant="ghost" alignSelf="start" onClick={onBack}>
        {`← ${messages.approval.back}`}
      </Button>
      {isPending ? <LoadingState label={messages.approval.loading} /> : undefined}
      {error !== null ? <ErrorAlert error={error} title={messages.approval.loadFailed} /> : undefined}
      {data === undefined ? undefined : <ApprovalView approval={data} />}
    </Stack>
  );
};
