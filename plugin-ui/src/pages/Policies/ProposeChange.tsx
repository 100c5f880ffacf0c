import { Alert, Button, Field, Heading, Input, Stack, Textarea } from '@chakra-ui/react';
import { type FormEvent, useState } from 'react';

import { ErrorAlert } from '../../components/ErrorAlert';
import { messages } from '../../i18n';
import { useProposePolicyChange } from '../../queries/usePolicies';

const text = messages.policies;

type Props = {
  /** The text in force, which a change starts from. */
  readonly current: string;
};

/** A new version of the whole policies file, proposed as the signed-in person. */
export const ProposeChange = ({ current }: Props) => {
  const [policies, setPolicies] = useState(current);
  const [reason, setReason] = useState('');
  const propose = useProposePolicyChange();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    propose.mutate({ text: policies, reason });
  };

  return (
    <Stack as="form" gap="3" onSubmit={submit}>
      <Heading size="md">{text.propose}</Heading>
      <Field.Root required>
        <Field.Label>{text.text}</Field.Label>
        <Textarea value={policies} onChange={(event) => setPolicies(event.target.value)} rows={16} fontFamily="mono" />
      </Field.Root>
      <Field.Root required>
        <Field.Label>{text.reason}</Field.Label>
        <Input value={reason} onChange={(event) => setReason(event.target.value)} />
      </Field.Root>
      <Button type="submit" alignSelf="start" loading={propose.isPending}>
        {text.submit}
      </Button>
      {propose.error === null ? null : <ErrorAlert error={propose.error} title={text.proposeFailed} />}
      {propose.data === undefined ? null : (
        <Alert.Root status="success" role="status">
          <Alert.Indicator />
          <Alert.Title>{text.proposed(propose.data.version)}</Alert.Title>
        </Alert.Root>
      )}
    </Stack>
  );
};
