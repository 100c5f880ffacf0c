import { Alert, Badge, Button, Field, Heading, Input, Stack, Table, Text, Textarea } from '@chakra-ui/react';
import { type FormEvent, useState } from 'react';

import { type Delegation, errorField, errorMessage } from '../../api/client';
import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useCreateDelegation, useDelegations, useRevokeDelegation } from '../../queries/useDelegations';

const text = messages.delegations;
const { columns } = text;

const palette: Record<Delegation['state'], string> = { scheduled: 'blue', active: 'green', ended: 'gray', revoked: 'gray' };

// A datetime-local value is the browser's local time; the bridge takes an instant.
const instant = (local: string) => new Date(local).toISOString();

type ListProps = {
  readonly items: readonly Delegation[];
  readonly other: 'from' | 'to';
  readonly empty: string;
  readonly revocable: boolean;
};

const DelegationTable = ({ items, other, empty, revocable }: ListProps) => {
  const revoke = useRevokeDelegation();
  if (items.length === 0) {
    return <EmptyState label={empty} />;
  }
  return (
    <Stack gap="2">
      {revoke.error === null ? undefined : <ErrorAlert error={revoke.error} title={text.revokeFailed} />}
      <Table.ScrollArea borderWidth="1px" rounded="md">
        <Table.Root size="sm">
          <Table.Header>
            <Table.Row>
              <Table.ColumnHeader>{columns.who}</Table.ColumnHeader>
              <Table.ColumnHeader>{columns.from}</Table.ColumnHeader>
              <Table.ColumnHeader>{columns.until}</Table.ColumnHeader>
              <Table.ColumnHeader>{columns.policies}</Table.ColumnHeader>
              <Table.ColumnHeader>{columns.reason}</Table.ColumnHeader>
              <Table.ColumnHeader>{columns.state}</Table.ColumnHeader>
              {revocable ? <Table.ColumnHeader /> : undefined}
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {items.map((d) => (
              <Table.Row key={d.id}>
                <Table.Cell>{d[other]}</Table.Cell>
                <Table.Cell>{messages.common.dateTime(d.starts_at)}</Table.Cell>
                <Table.Cell>{messages.common.dateTime(d.ends_at)}</Table.Cell>
                <Table.Cell>{d.policies === null ? text.everyPolicy : d.policies.join(', ')}</Table.Cell>
                <Table.Cell whiteSpace="normal">{d.reason ?? messages.common.none}</Table.Cell>
                <Table.Cell>
                  <Badge colorPalette={palette[d.state]} variant="subtle">
                    {text.states[d.state]}
                  </Badge>
                  {d.source === 'policies_file' ? ` (${text.fromFile})` : undefined}
                </Table.Cell>
                {revocable ? (
                  <Table.Cell>
                    {d.source === 'api' && (d.state === 'active' || d.state === 'scheduled') ? (
                      <Button
                        size="xs"
                        variant="outline"
                        colorPalette="red"
                        aria-label={text.revokeLabel(d.to)}
                        loading={revoke.isPending && revoke.variables === d.id}
                        onClick={() => revoke.mutate(d.id)}
                      >
                        {text.revoke}
                      </Button>
                    ) : undefined}
                  </Table.Cell>
                ) : undefined}
              </Table.Row>
            ))}
          </Table.Body>
        </Table.Root>
      </Table.ScrollArea>
    </Stack>
  );
};

/** Hand one's own vote to a deputy: the bridge checks every field and names the one to fix. */
const DelegateForm = () => {
  const [to, setTo] = useState('');
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [policies, setPolicies] = useState('');
  const [reason, setReason] = useState('');
  const create = useCreateDelegation();
  const field = errorField(create.error);
  const fieldError = (name: string) => (field !== undefined && (field === name || field.startsWith(`${name}.`)) ? errorMessage(create.error) : undefined);
  const shownOnField = ['to', 'starts_at', 'ends_at', 'policies', 'reason'].some((name) => fieldError(name) !== undefined);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const listed = policies
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    create.mutate(
      {
        to: to.trim(),
        // An empty or unreadable date is sent as it is, so the bridge names the field.
        ends_at: endsAt === '' ? '' : instant(endsAt),
        ...(startsAt === '' ? {} : { starts_at: instant(startsAt) }),
        ...(listed.length === 0 ? {} : { policies: listed }),
        reason: reason.trim(),
      },
      {
        onSuccess: () => {
          setTo('');
          setStartsAt('');
          setEndsAt('');
          setPolicies('');
          setReason('');
        },
      },
    );
  };

  const input = (name: string, label: string, value: string, set: (v: string) => void, type = 'text') => (
    <Field.Root invalid={fieldError(name) !== undefined}>
      <Field.Label>{label}</Field.Label>
      <Input type={type} value={value} disabled={create.isPending} onChange={(event) => set(event.target.value)} />
      <Field.ErrorText>{fieldError(name)}</Field.ErrorText>
    </Field.Root>
  );

  return (
    <Stack as="form" gap="3" maxW="lg" onSubmit={submit} aria-labelledby="airgate-delegate">
      <Heading size="md" as="h3" id="airgate-delegate">
        {text.create}
      </Heading>
      {input('to', text.deputy, to, setTo)}
      {input('starts_at', text.startsAt, startsAt, setStartsAt, 'datetime-local')}
      {input('ends_at', text.endsAt, endsAt, setEndsAt, 'datetime-local')}
      {input('policies', text.policies, policies, setPolicies)}
      <Field.Root invalid={fieldError('reason') !== undefined}>
        <Field.Label>{text.reason}</Field.Label>
        <Textarea value={reason} maxLength={2000} disabled={create.isPending} onChange={(event) => setReason(event.target.value)} />
        <Field.ErrorText>{fieldError('reason')}</Field.ErrorText>
      </Field.Root>
      {create.error !== null && !shownOnField ? <ErrorAlert error={create.error} title={text.createFailed} /> : undefined}
      {create.data === undefined || create.error !== null ? undefined : (
        <Alert.Root status="success">
          <Alert.Indicator />
          <Alert.Title>{text.created(create.data.to)}</Alert.Title>
        </Alert.Root>
      )}
      <Button type="submit" alignSelf="start" loading={create.isPending}>
        {text.submit}
      </Button>
    </Stack>
  );
};

/** The signed-in person's delegations: given (revocable) and received, and a form to delegate. */
export const Delegations = () => {
  const { data, error, isPending } = useDelegations();

  return (
    <Stack gap="5" p="4">
      <Heading size="lg">{text.title}</Heading>
      <Text color="fg.muted">{text.explain}</Text>
      {isPending ? <LoadingState label={text.loading} /> : undefined}
      {error === null ? undefined : <ErrorAlert error={error} title={text.loadFailed} />}
      {data === undefined ? undefined : (
        <>
          <Stack gap="2" as="section" aria-label={text.given}>
            <Heading size="md" as="h3">
              {text.given}
            </Heading>
            <DelegationTable items={data.given} other="to" empty={text.noneGiven} revocable />
          </Stack>
          <Stack gap="2" as="section" aria-label={text.received}>
            <Heading size="md" as="h3">
              {text.received}
            </Heading>
            <DelegationTable items={data.received} other="from" empty={text.noneReceived} revocable={false} />
          </Stack>
        </>
      )}
      <DelegateForm />
    </Stack>
  );
};
