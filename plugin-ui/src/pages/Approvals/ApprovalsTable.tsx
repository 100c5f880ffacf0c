import { Button, HStack, List, Table, Text } from '@chakra-ui/react';

import type { Approval } from '../../api/client';
import { messages } from '../../i18n';

const { columns } = messages.approvals;

type Props = {
  readonly approvals: readonly Approval[];
  readonly onChoose: (approval: Approval, option: string) => void;
};

export const ApprovalsTable = ({ approvals, onChoose }: Props) => (
  <Table.ScrollArea borderWidth="1px" rounded="md">
    <Table.Root size="sm">
      <Table.Header>
        <Table.Row>
          <Table.ColumnHeader>{columns.dag}</Table.ColumnHeader>
          <Table.ColumnHeader>{columns.run}</Table.ColumnHeader>
          <Table.ColumnHeader>{columns.task}</Table.ColumnHeader>
          <Table.ColumnHeader>{columns.subject}</Table.ColumnHeader>
          <Table.ColumnHeader>{columns.created}</Table.ColumnHeader>
          <Table.ColumnHeader>{columns.votes}</Table.ColumnHeader>
          <Table.ColumnHeader>{columns.actions}</Table.ColumnHeader>
        </Table.Row>
      </Table.Header>
      <Table.Body>
        {approvals.map((approval) => (
          <Table.Row key={approval.id}>
            <Table.Cell>{approval.dag_id}</Table.Cell>
            <Table.Cell maxW="48" whiteSpace="normal" wordBreak="break-all">
              {approval.run_id}
            </Table.Cell>
            <Table.Cell>{approval.task_id}</Table.Cell>
            <Table.Cell maxW="sm" whiteSpace="normal">
              {approval.subject}
            </Table.Cell>
            <Table.Cell>
              <time dateTime={approval.created_at}>
                {new Date(approval.created_at).toLocaleString()}
              </time>
            </Table.Cell>
            <Table.Cell>
              {approval.votes.length === 0 ? (
                <Text color="fg.muted">{messages.approvals.noVotes}</Text>
              ) : (
                <List.Root variant="plain">
                  {approval.votes.map((vote) => (
                    <List.Item key={`${vote.user}-${vote.at}`}>
                      {messages.approvals.vote(vote.user, vote.option)}
                    </List.Item>
                  ))}
                </List.Root>
              )}
            </Table.Cell>
            <Table.Cell>
              <HStack gap="2">
                {approval.options.map((option) => (
                  <Button
                    key={option}
                    size="xs"
                    variant="outline"
                    aria-label={messages.approvals.choose(option, approval.subject)}
                    onClick={() => onChoose(approval, option)}
                  >
                    {option}
                  </Button>
                ))}
              </HStack>
            </Table.Cell>
          </Table.Row>
        ))}
      </Table.Body>
    </Table.Root>
  </Table.ScrollArea>
);
