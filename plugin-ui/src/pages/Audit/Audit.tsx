import { Alert, Button, Code, Heading, HStack, Input, Stack, Table, Text } from '@chakra-ui/react';
import { useEffect, useState } from 'react';

import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useAudit, useAuditVerification } from '../../queries/useAudit';

const { columns } = messages.audit;
const FILTER_DELAY_MS = 400;

const Verification = () => {
  const { data, error, isPending } = useAuditVerification();

  if (isPending) {
    return <LoadingState label={messages.audit.verifying} />;
  }
  if (error !== null) {
    return <ErrorAlert error={error} title={messages.audit.verifyFailed} />;
  }
  return (
    <Alert.Root status={data.ok ? 'success' : 'error'} role={data.ok ? 'status' : 'alert'}>
      <Alert.Indicator />
      <Alert.Title>
        {data.ok || data.first_bad_seq === null
          ? messages.audit.verified(data.checked)
          : messages.audit.broken(data.first_bad_seq)}
      </Alert.Title>
    </Alert.Root>
  );
};

/** The audit trail (nav page), newest entries last, with the hash chain's verification. */
export const Audit = () => {
  const [input, setInput] = useState('');
  const [approvalId, setApprovalId] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setApprovalId(input.trim()), FILTER_DELAY_MS);
    return () => clearTimeout(timer);
  }, [input]);
  const { data, error, isPending, hasNextPage, isFetchingNextPage, fetchNextPage } = useAudit(
    approvalId === '' ? undefined : approvalId,
  );
  const verification = useAuditVerification();
  const firstBad = verification.data?.first_bad_seq ?? null;
  const entries = data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{messages.audit.title}</Heading>
      <Verification />
      <HStack>
        <Input
          size="sm"
          maxW="sm"
          placeholder={messages.audit.filter}
          aria-label={messages.audit.filter}
          value={input}
          onChange={(event) => setInput(event.target.value)}
        />
      </HStack>
      {isPending ? <LoadingState label={messages.audit.loading} /> : undefined}
      {error !== null ? <ErrorAlert error={error} title={messages.audit.loadFailed} /> : undefined}
      {data !== undefined && entries.length === 0 ? <EmptyState label={messages.audit.empty} /> : undefined}
      {entries.length > 0 ? (
        <Table.ScrollArea borderWidth="1px" rounded="md">
          <Table.Root size="sm">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeader>{columns.seq}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.at}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.actor}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.action}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.approval}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.channel}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.reason}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.details}</Table.ColumnHeader>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {entries.map((entry) => (
                <Table.Row
                  key={entry.seq}
                  bg={entry.seq === firstBad ? 'bg.error' : undefined}
                  aria-invalid={entry.seq === firstBad ? true : undefined}
                >
                  <Table.Cell>{entry.seq}</Table.Cell>
                  <Table.Cell whiteSpace="nowrap">
                    <time dateTime={entry.at}>{messages.common.dateTime(entry.at)}</time>
                  </Table.Cell>
                  <Table.Cell>{entry.actor}</Table.Cell>
                  <Table.Cell>
                    <Code size="sm">{entry.action}</Code>
                  </Table.Cell>
                  <Table.Cell>
                    {entry.approval_id === null ? (
                      messages.common.none
                    ) : (
                      <Button size="2xs" variant="plain" color="fg.info" px="0" onClick={() => setInput(entry.approval_id ?? '')}>
                        {entry.approval_id}
                      </Button>
                    )}
                  </Table.Cell>
                  <Table.Cell>{entry.channel ?? messages.common.none}</Table.Cell>
                  <Table.Cell whiteSpace="normal">{entry.reason ?? messages.common.none}</Table.Cell>
                  <Table.Cell>
                    {Object.keys(entry.details).length === 0 ? (
                      messages.common.none
                    ) : (
                      <Text fontFamily="mono" textStyle="xs" whiteSpace="pre-wrap" maxW="sm">
                        {JSON.stringify(entry.details)}
                      </Text>
                    )}
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
        </Table.ScrollArea>
      ) : undefined}
      {hasNextPage ? (
        <Button size="sm" variant="outline" alignSelf="start" loading={isFetchingNextPage} onClick={() => void fetchNextPage()}>
          {messages.common.loadMore}
        </Button>
      ) : undefined}
    </Stack>
  );
};
