import { Badge, Button, Heading, HStack, NativeSelect, Stack, Table, Text } from '@chakra-ui/react';
import { useState } from 'react';

import type { DeliveryState, Message } from '../../api/client';
import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useMessages } from '../../queries/useMessages';

const { columns } = messages.messages;

const states: readonly DeliveryState[] = ['queued', 'sent', 'failed'];
const palette: Record<DeliveryState, string> = { queued: 'blue', sent: 'green', failed: 'red' };

const Deliveries = ({ message }: { readonly message: Message }) => (
  <Stack gap="1">
    {message.deliveries.map((delivery) => (
      <Stack key={delivery.id} gap="0">
        <HStack gap="1">
          <Badge colorPalette={palette[delivery.state]} variant="subtle">
            {messages.messages.delivery(delivery.channel, messages.messages.states[delivery.state], delivery.attempts)}
          </Badge>
          {delivery.fallback_of === null ? undefined : (
            <Badge variant="outline" colorPalette="orange">
              {messages.messages.fallback}
            </Badge>
          )}
        </HStack>
        {delivery.last_error === null ? undefined : (
          <Text color="fg.error" textStyle="xs">
            {delivery.last_error}
          </Text>
        )}
      </Stack>
    ))}
  </Stack>
);

/** The messages the bridge sent or would have sent, with how each delivery went. */
export const Messages = () => {
  const [state, setState] = useState<DeliveryState>();
  const { data, error, isPending, hasNextPage, isFetchingNextPage, fetchNextPage } = useMessages(state);
  const items = data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{messages.messages.title}</Heading>
      <NativeSelect.Root size="sm" maxW="56">
        <NativeSelect.Field
          aria-label={messages.messages.filter}
          value={state ?? ''}
          onChange={(event) => setState(states.find((s) => s === event.target.value))}
        >
          <option value="">{messages.messages.allStates}</option>
          {states.map((s) => (
            <option key={s} value={s}>
              {messages.messages.states[s]}
            </option>
          ))}
        </NativeSelect.Field>
        <NativeSelect.Indicator />
      </NativeSelect.Root>
      {isPending ? <LoadingState label={messages.messages.loading} /> : undefined}
      {error !== null ? <ErrorAlert error={error} title={messages.messages.loadFailed} /> : undefined}
      {data !== undefined && items.length === 0 ? <EmptyState label={messages.messages.empty} /> : undefined}
      {items.length > 0 ? (
        <Table.ScrollArea borderWidth="1px" rounded="md">
          <Table.Root size="sm">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeader>{columns.created}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.kind}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.recipient}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.subject}</Table.ColumnHeader>
                <Table.ColumnHeader>{columns.deliveries}</Table.ColumnHeader>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {items.map((message) => (
                <Table.Row key={message.id}>
                  <Table.Cell whiteSpace="nowrap">
                    <time dateTime={message.created_at}>{messages.common.dateTime(message.created_at)}</time>
                  </Table.Cell>
                  <Table.Cell>{message.kind}</Table.Cell>
                  <Table.Cell>{message.recipient}</Table.Cell>
                  <Table.Cell whiteSpace="normal">{message.subject}</Table.Cell>
                  <Table.Cell>
                    <Deliveries message={message} />
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
