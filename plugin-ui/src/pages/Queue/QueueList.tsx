import { Badge, Checkbox, chakra, Table, type TableCellProps } from '@chakra-ui/react';
import { useEffect, useRef } from 'react';

import type { Approval } from '../../api/client';
import { SubjectButton } from '../../components/SubjectButton';
import { messages } from '../../i18n';

const { columns } = messages.queue;

type Props = {
  readonly items: readonly Approval[];
  readonly openId: string | undefined;
  readonly selected: ReadonlySet<string>;
  /** The signed-in person, once a claim of theirs named them; their claims read "you". */
  readonly me: string | undefined;
  readonly onOpen: (approval: Approval) => void;
  readonly onToggle: (approval: Approval) => void;
};

const Cell = (props: TableCellProps) => (
  <Table.Cell overflow="hidden" textOverflow="ellipsis" whiteSpace="nowrap" {...props} />
);

/** The queue's items: a checkbox to select each, the open one marked; a click opens an item. */
export const QueueList = ({ items, openId, selected, me, onOpen, onToggle }: Props) => {
  const openRow = useRef<HTMLTableRowElement>(null);

  // The keys move the open item; the list follows it.
  useEffect(() => {
    openRow.current?.scrollIntoView?.({ block: 'nearest' });
  }, [openId]);

  return (
    <Table.Root size="sm" tableLayout="fixed" interactive aria-label={messages.queue.items}>
      <Table.Header>
        <Table.Row>
          <Table.ColumnHeader w="10">
            <chakra.span srOnly>{columns.select}</chakra.span>
          </Table.ColumnHeader>
          <Table.ColumnHeader w="45%">{columns.subject}</Table.ColumnHeader>
          <Table.ColumnHeader w="20%">{columns.dag}</Table.ColumnHeader>
          <Table.ColumnHeader w="15%">{columns.policy}</Table.ColumnHeader>
          <Table.ColumnHeader w="15%">{columns.claim}</Table.ColumnHeader>
        </Table.Row>
      </Table.Header>
      <Table.Body>
        {items.map((approval) => {
          const open = approval.id === openId;
          return (
            <Table.Row
              key={approval.id}
              ref={open ? openRow : undefined}
              aria-current={open ? 'true' : undefined}
              bg={open ? 'bg.emphasized' : undefined}
              cursor="pointer"
              onClick={() => onOpen(approval)}
            >
              <Cell onClick={(event) => event.stopPropagation()}>
                <Checkbox.Root size="sm" checked={selected.has(approval.id)} onCheckedChange={() => onToggle(approval)}>
                  <Checkbox.HiddenInput aria-label={messages.queue.select(approval.subject)} />
                  <Checkbox.Control />
                </Checkbox.Root>
              </Cell>
              <Cell title={approval.subject}>
                <SubjectButton subject={approval.subject} aria-label={messages.queue.open(approval.subject)} onOpen={() => onOpen(approval)} />
              </Cell>
              <Cell title={approval.dag_id}>{approval.dag_id}</Cell>
              <Cell title={approval.policy ?? undefined}>{approval.policy ?? messages.common.none}</Cell>
              <Cell>
                {approval.claim === null ? undefined : (
                  <Badge colorPalette={approval.claim.by === me ? 'blue' : 'orange'}>
                    {approval.claim.by === me ? messages.queue.you : approval.claim.by}
                  </Badge>
                )}
              </Cell>
            </Table.Row>
          );
        })}
      </Table.Body>
    </Table.Root>
  );
};
