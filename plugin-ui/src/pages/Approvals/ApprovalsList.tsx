import { Badge, Box, Table, type TableCellProps, Text } from '@chakra-ui/react';
import { observeElementRect, useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, useEffect, useRef } from 'react';

import type { Approval } from '../../api/client';
import { DeadlineBadge } from '../../components/DeadlineBadge';
import { StateBadge } from '../../components/StateBadge';
import { SubjectButton } from '../../components/SubjectButton';
import { messages } from '../../i18n';
import { useNow } from '../../utils/useNow';

const { columns } = messages.approvals;

const ROW_HEIGHT = 41;
// Where layout is not measured (tests, a hidden tab) the list still renders a screenful.
const FALLBACK_RECT = { width: 1200, height: 600 };
// Fetch the next page this many rows before the end, so scrolling rarely waits.
const PREFETCH_ROWS = 40;

type Props = {
  readonly approvals: readonly Approval[];
  readonly showState: boolean;
  readonly hasMore: boolean;
  readonly loadMore: () => void;
  readonly onOpen: (approval: Approval) => void;
};

const Cell = (props: TableCellProps) => (
  <Table.Cell overflow="hidden" textOverflow="ellipsis" whiteSpace="nowrap" h={`${ROW_HEIGHT}px`} {...props} />
);

export const ApprovalsList = ({ approvals, showState, hasMore, loadMore, onOpen }: Props) => {
  const scrollRef = useRef<HTMLDivElement>(null);
  const now = useNow();
  const virtualizer = useVirtualizer({
    count: approvals.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    initialRect: FALLBACK_RECT,
    observeElementRect: (instance, callback) =>
      observeElementRect(instance, (rect) => callback(rect.height === 0 ? FALLBACK_RECT : rect)),
  });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows.at(-1)?.index ?? 0;

  useEffect(() => {
    if (hasMore && lastIndex >= approvals.length - PREFETCH_ROWS) {
      loadMore();
    }
  }, [hasMore, lastIndex, approvals.length, loadMore]);

  const paddingTop = rows[0]?.start ?? 0;
  const paddingBottom = virtualizer.getTotalSize() - (rows.at(-1)?.end ?? 0);

  const onKeyDown = (approval: Approval) => (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(approval);
    }
  };

  return (
    <Box ref={scrollRef} overflowY="auto" maxH="70vh" borderWidth="1px" rounded="md" data-testid="approvals-scroll">
      <Table.Root size="sm" tableLayout="fixed" interactive aria-rowcount={approvals.length + 1}>
        <Table.Header position="sticky" top="0" zIndex="1" bg="bg">
          <Table.Row>
            <Table.ColumnHeader w="15%">{columns.dag}</Table.ColumnHeader>
            <Table.ColumnHeader w="15%">{columns.run}</Table.ColumnHeader>
            <Table.ColumnHeader w="12%">{columns.task}</Table.ColumnHeader>
            <Table.ColumnHeader w="22%">{columns.subject}</Table.ColumnHeader>
            <Table.ColumnHeader w="7%">{columns.level}</Table.ColumnHeader>
            <Table.ColumnHeader w="7%">{columns.votes}</Table.ColumnHeader>
            <Table.ColumnHeader w="9%">{columns.requester}</Table.ColumnHeader>
            <Table.ColumnHeader w="13%">{showState ? columns.state : columns.deadline}</Table.ColumnHeader>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {paddingTop > 0 ? <tr aria-hidden style={{ height: paddingTop }} /> : undefined}
          {rows.map((row) => {
            const approval = approvals[row.index];
            if (approval === undefined) {
              return undefined;
            }
            const { progress } = approval;
            return (
              <Table.Row
                key={approval.id}
                aria-rowindex={row.index + 2}
                cursor="pointer"
                onClick={() => onOpen(approval)}
              >
                <Cell title={approval.dag_id}>{approval.dag_id}</Cell>
                <Cell title={approval.run_id}>{approval.run_id}</Cell>
                <Cell title={approval.task_id}>{approval.task_id}</Cell>
                <Cell title={approval.subject}>
                  <SubjectButton subject={approval.subject} onKeyDown={onKeyDown(approval)} onOpen={() => onOpen(approval)} />
                </Cell>
                <Cell>
                  {progress === null
                    ? approval.level
                    : messages.approvals.level(approval.level, progress.levels)}
                </Cell>
                <Cell>
                  {progress === null
                    ? approval.votes.filter((vote) => !vote.replaced).length
                    : messages.approvals.votes(progress.approvals, progress.needed)}
                </Cell>
                <Cell>{approval.requester ?? <Text as="span" color="fg.muted">{messages.common.none}</Text>}</Cell>
                <Cell>
                  {showState ? (
                    <StateBadge state={approval.state} />
                  ) : approval.policy_error === null ? (
                    <DeadlineBadge dueAt={approval.due_at} now={now} />
                  ) : (
                    <Badge colorPalette="red" variant="solid" title={approval.policy_error}>
                      {messages.approvals.policyError}
                    </Badge>
                  )}
                </Cell>
              </Table.Row>
            );
          })}
          {paddingBottom > 0 ? <tr aria-hidden style={{ height: paddingBottom }} /> : undefined}
        </Table.Body>
      </Table.Root>
    </Box>
  );
};
