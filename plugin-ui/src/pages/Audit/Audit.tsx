import { Alert, Button, Code, Field, Heading, HStack, Input, Stack, Table, Text } from '@chakra-ui/react';
import { useMemo, useState } from 'react';

import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { auditExportUrl } from '../../api/client';
import { messages } from '../../i18n';
import { type AuditFilters, useAudit, useAuditVerification } from '../../queries/useAudit';
import { useDebounced } from '../../utils/useDebounced';

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

type FilterField = keyof AuditFilters;
const TEXT_FILTERS: readonly { field: FilterField; label: string }[] = [
  { field: 'approval_id', label: messages.audit.filter },
  { field: 'dag_id', label: messages.audit.filters.dag },
  { field: 'action', label: messages.audit.filters.action },
  { field: 'actor', label: messages.audit.filters.actor },
];
const TIME_FILTERS: readonly { field: FilterField; label: string }[] = [
  { field: 'since', label: messages.audit.filters.since },
  { field: 'until', label: messages.audit.filters.until },
];

/** The filters as the bridge takes them: trimmed, empty ones left out, local date-times as ISO instants. */
const toQuery = (input: Readonly<Record<FilterField, string>>): AuditFilters => {
  const query: AuditFilters = {};
  for (const { field } of TEXT_FILTERS) {
    const value = input[field].trim();
    if (value !== '') query[field] = value;
  }
  for (const { field } of TIME_FILTERS) {
    const instant = Date.parse(input[field]);
    if (!Number.isNaN(instant)) query[field] = new Date(instant).toISOString();
  }
  return query;
};

const NO_FILTERS: Readonly<Record<FilterField, string>> = { approval_id: '', dag_id: '', action: '', actor: '', since: '', until: '' };

/**
 * The audit trail (nav page), newest entries last, with the hash chain's verification. Filters narrow it to an
 * approval, a DAG, an action, a person and a time range: DAG + `action.applied` is a DAG's pause history.
 */
export const Audit = () => {
  const [input, setInput] = useState(NO_FILTERS);
  const debounced = useDebounced(input, FILTER_DELAY_MS);
  const filters = useMemo<AuditFilters>(() => toQuery(debounced), [debounced]);
  const setFilter = (field: FilterField, value: string) => setInput((current) => ({ ...current, [field]: value }));
  const { data, error, isPending, hasNextPage, isFetchingNextPage, fetchNextPage } = useAudit(filters);
  const verification = useAuditVerification();
  const firstBad = verification.data?.first_bad_seq ?? null;
  const entries = data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{messages.audit.title}</Heading>
      <Verification />
      <HStack wrap="wrap" gap="2">
        {TEXT_FILTERS.map(({ field, label }) => (
          <Input
            key={field}
            size="sm"
            maxW="2xs"
            placeholder={label}
            aria-label={label}
            value={input[field]}
            onChange={(event) => setFilter(field, event.target.value)}
          />
        ))}
        {TIME_FILTERS.map(({ field, label }) => (
          <Field.Root key={field} orientation="horizontal" maxW="2xs">
            <Field.Label textStyle="sm">{label}</Field.Label>
            <Input size="sm" type="datetime-local" value={input[field]} onChange={(event) => setFilter(field, event.target.value)} />
          </Field.Root>
        ))}
        <Button size="sm" variant="ghost" onClick={() => setInput(NO_FILTERS)}>
          {messages.audit.filters.clear}
        </Button>
        {(['csv', 'json'] as const).map((format) => (
          <Button key={format} asChild size="sm" variant="outline" title={messages.audit.exportHint}>
            <a href={auditExportUrl({ ...filters, format })} download>
              {format === 'csv' ? messages.audit.exportCsv : messages.audit.exportJson}
            </a>
          </Button>
        ))}
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
                      <Button size="2xs" variant="plain" color="fg.info" px="0" onClick={() => setFilter('approval_id', entry.approval_id ?? '')}>
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
