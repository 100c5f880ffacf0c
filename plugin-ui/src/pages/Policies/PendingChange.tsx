import { Button, Card, Field, HStack, Input, Stack, Text } from '@chakra-ui/react';
import { useState } from 'react';

import type { PolicyVersion } from '../../api/client';
import { ErrorAlert } from '../../components/ErrorAlert';
import { messages } from '../../i18n';
import { useDecidePolicyChange } from '../../queries/usePolicies';
import { Diff } from './Diff';

const text = messages.policies;

type Props = {
  readonly change: PolicyVersion;
  /** Told of the decision: the change leaves the pending list with it. */
  readonly onDecided: (decided: PolicyVersion) => void;
};

/** One change waiting for approval: who proposed it and why, its diff, and the admin's decision. */
export const PendingChange = ({ change, onDecided }: Props) => {
  const [reason, setReason] = useState('');
  const decide = useDecidePolicyChange();
  const send = (verb: 'approve' | 'reject') =>
    decide.mutate(
      { version: change.version, verb, decision: reason.trim() === '' ? {} : { reason: reason.trim() } },
      { onSuccess: onDecided },
    );

  return (
    <Card.Root>
      <Card.Header>
        <Card.Title>{text.change(change.version)}</Card.Title>
        <Text color="fg.muted">{text.proposedBy(change.proposed_by, change.proposed_at)}</Text>
        {change.reason === null ? null : <Text>{change.reason}</Text>}
      </Card.Header>
      <Card.Body>
        <Stack gap="3">
          <Diff diff={change.diff} label={text.diff} />
          <Field.Root>
            <Field.Label>{text.decisionReason}</Field.Label>
            <Input value={reason} onChange={(event) => setReason(event.target.value)} />
          </Field.Root>
          <HStack>
            <Button colorPalette="green" loading={decide.isPending} onClick={() => send('approve')}>
              {text.approve}
            </Button>
            <Button colorPalette="red" variant="outline" loading={decide.isPending} onClick={() => send('reject')}>
              {text.reject}
            </Button>
          </HStack>
          {decide.error === null ? null : <ErrorAlert error={decide.error} title={text.decideFailed} />}
        </Stack>
      </Card.Body>
    </Card.Root>
  );
};
