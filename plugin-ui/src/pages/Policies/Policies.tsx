import { Alert, Heading, Stack, Text } from '@chakra-ui/react';
import { useState } from 'react';

import { errorStatus, type PolicyVersion } from '../../api/client';
import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { usePolicies } from '../../queries/usePolicies';
import { PendingChange } from './PendingChange';
import { ProposeChange } from './ProposeChange';

const text = messages.policies;

/**
 * Four-eyes on the policies (nav page): the version in force, the changes waiting for an admin other than their
 * author, with their diffs, and a form to propose one. A bridge without four-eyes has no such routes (404).
 */
export const Policies = () => {
  const { data, error, isPending } = usePolicies();
  const [decided, setDecided] = useState<PolicyVersion | null>(null);

  if (isPending) {
    return <LoadingState label={text.loading} />;
  }
  if (errorStatus(error) === 404) {
    return (
      <Stack gap="4" p="4">
        <Heading size="lg">{text.title}</Heading>
        <Alert.Root status="info">
          <Alert.Indicator />
          <Alert.Title>{text.notFourEyes}</Alert.Title>
        </Alert.Root>
      </Stack>
    );
  }
  if (error !== null) {
    return <ErrorAlert error={error} title={text.loadFailed} />;
  }
  const { in_force: inForce, pending } = data;
  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{text.title}</Heading>
      <Text>
        {text.inForce(inForce.version)}, {text.approvedBy(inForce.decided_by ?? '', inForce.decided_at ?? inForce.proposed_at)}
      </Text>
      <Alert.Root status={pending.length === 0 ? 'info' : 'warning'} role="status">
        <Alert.Indicator />
        <Alert.Title>{pending.length === 0 ? text.nothingWaiting : text.waiting(pending.length)}</Alert.Title>
      </Alert.Root>
      {decided === null ? null : (
        <Alert.Root status="success" role="status">
          <Alert.Indicator />
          <Alert.Title>{text.decided(decided.version, decided.state)}</Alert.Title>
        </Alert.Root>
      )}
      {pending.map((change) => (
        <PendingChange key={change.version} change={change} onDecided={setDecided} />
      ))}
      <ProposeChange current={inForce.text} />
    </Stack>
  );
};
