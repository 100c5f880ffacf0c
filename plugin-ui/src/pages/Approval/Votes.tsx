import { Badge, Table, Text } from '@chakra-ui/react';

import type { Approval, Vote } from '../../api/client';
import { EmptyState } from '../../components/EmptyState';
import { messages } from '../../i18n';
import { isRejecting } from '../../utils/params';

const { voteColumns: columns } = messages.approval;

type Props = {
  readonly votes: readonly Vote[];
  readonly approval: Pick<Approval, 'option_outcomes'>;
};

export const Votes = ({ votes, approval }: Props) =>
  votes.length === 0 ? (
    <EmptyState label={messages.approval.noVotes} />
  ) : (
    <Table.ScrollArea borderWidth="1px" rounded="md">
      <Table.Root size="sm">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeader>{columns.user}</Table.ColumnHeader>
            <Table.ColumnHeader>{columns.option}</Table.ColumnHeader>
            <Table.ColumnHeader>{columns.reason}</Table.ColumnHeader>
            <Table.ColumnHeader>{columns.level}</Table.ColumnHeader>
            <Table.ColumnHeader>{columns.channel}</Table.ColumnHeader>
            <Table.ColumnHeader>{columns.at}</Table.ColumnHeader>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {votes.map((vote) => (
            <Table.Row key={`${vote.user}-${vote.at}`} color={vote.replaced ? 'fg.muted' : undefined}>
              <Table.Cell>
                {vote.on_behalf_of === null ? vote.user : messages.approval.forDelegator(vote.user, vote.on_behalf_of)}
                {vote.role === null ? undefined : (
                  <Text as="span" color="fg.muted">
                    {` (${vote.role})`}
                  </Text>
                )}
              </Table.Cell>
              <Table.Cell textDecoration={vote.replaced ? 'line-through' : undefined}>
                <Badge colorPalette={isRejecting(approval, vote.option) ? 'red' : 'green'} variant="subtle">
                  {vote.option}
                </Badge>
                {vote.replaced ? ` ${messages.approval.replaced}` : undefined}
              </Table.Cell>
              <Table.Cell whiteSpace="normal">{vote.reason ?? messages.common.none}</Table.Cell>
              <Table.Cell>{vote.level}</Table.Cell>
              <Table.Cell>{vote.channel}</Table.Cell>
              <Table.Cell>
                <time dateTime={vote.at}>{messages.common.dateTime(vote.at)}</time>
              </Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Table.ScrollArea>
  );
