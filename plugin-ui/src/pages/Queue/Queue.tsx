import { Heading, HStack, Stack, Text } from '@chakra-ui/react';
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';

import type { Approval } from '../../api/client';
import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { FilterInput } from '../../components/FilterInput';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useApprovals } from '../../queries/useApprovals';
import { useClaim, useRelease } from '../../queries/useQueue';
import { useVote } from '../../queries/useVote';
import { isRejecting } from '../../utils/params';
import { useDebounced } from '../../utils/useDebounced';
import { BulkBar } from './BulkBar';
import { type ClaimStatus, QueueItem } from './QueueItem';
import { QueueList } from './QueueList';

// The filters go to the server, so they wait for the typing to pause.
const FILTER_DELAY_MS = 400;

/** Where typing means text, not a shortcut. */
const typing = (target: EventTarget) =>
  target instanceof HTMLElement && (target.isContentEditable || target.matches('input:not([type=checkbox]), textarea, select'));

const optionMeaning = (approval: Approval, outcome: 'approve' | 'reject') =>
  approval.option_outcomes.find((entry) => entry.outcome === outcome)?.option;

/**
 * The review queue (nav page): the pending approvals the signed-in person may decide, by DAG or policy. The open
 * item is claimed, so nobody else decides it meanwhile; keys move, decide and select, and selected items are decided
 * together with one reason.
 */
export const Queue = () => {
  const [dagInput, setDagInput] = useState('');
  const [policyInput, setPolicyInput] = useState('');
  const dagId = useDebounced(dagInput.trim(), FILTER_DELAY_MS);
  const policy = useDebounced(policyInput.trim(), FILTER_DELAY_MS);
  const { data, error, isPending } = useApprovals({
    state: 'pending',
    mine: 'true',
    ...(dagId === '' ? {} : { dag_id: dagId }),
    ...(policy === '' ? {} : { policy }),
  });
  const items = useMemo(() => data?.pages.flatMap((page) => page.items) ?? [], [data]);
  const [openId, setOpenId] = useState<string>();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [prompt, setPrompt] = useState<string>();
  const [me, setMe] = useState<string>();
  const page = useRef<HTMLDivElement>(null);

  // The item chosen; once it leaves the queue (decided), the one that takes its place; the first at the start.
  const lastIndex = useRef(0);
  const found = items.findIndex((approval) => approval.id === openId);
  const index = found >= 0 ? found : Math.min(lastIndex.current, Math.max(items.length - 1, 0));
  const open = items[index];
  useEffect(() => {
    lastIndex.current = index;
  });
  const claim = useClaim();
  const { mutate: release } = useRelease();
  const vote = useVote(open?.id ?? '');
  const { mutate: claimItem } = claim;
  const { reset: resetVote } = vote;

  // The keys work where the page has focus: from the start, and again once a reason's box closes.
  useEffect(() => {
    if (prompt === undefined) {
      page.current?.focus();
    }
  }, [prompt]);

  // Opening an item claims it; leaving it gives the claim back.
  useEffect(() => {
    if (open === undefined) {
      return undefined;
    }
    setPrompt(undefined);
    resetVote();
    claimItem(open.id, { onSuccess: (approval) => setMe(approval.claim?.by) });
    return () => release(open.id);
  }, [open?.id, claimItem, release, resetVote]);

  const claimStatus: ClaimStatus =
    claim.variables !== open?.id || claim.isPending
      ? { kind: 'claiming' }
      : claim.isError
        ? { kind: 'refused', error: claim.error }
        : { kind: 'mine', until: claim.data?.claim?.until ?? '' };

  const move = (step: number) => {
    const next = items[Math.min(Math.max(index + step, 0), items.length - 1)];
    if (next !== undefined) {
      setOpenId(next.id);
    }
  };
  const toggle = (approval: Approval) =>
    setSelected((current) => {
      const next = new Set(current);
      if (!next.delete(approval.id)) {
        next.add(approval.id);
      }
      return next;
    });
  const decide = (option: string, reason?: string) => {
    const after = items[index + 1] ?? items[index - 1];
    vote.mutate(
      { option, ...(reason === undefined || reason === '' ? {} : { reason }) },
      { onSuccess: () => setOpenId(after?.id) },
    );
  };
  // A "no" asks for its reason first.
  const choose = (option: string) => (open !== undefined && isRejecting(open, option) ? setPrompt(option) : decide(option));

  const onKeyDown = (event: KeyboardEvent) => {
    if (typing(event.target) || event.metaKey || event.ctrlKey || event.altKey || open === undefined) {
      return;
    }
    const decidable = claimStatus.kind !== 'refused' && !vote.isPending;
    const approveOption = optionMeaning(open, 'approve');
    const rejectOption = optionMeaning(open, 'reject');
    if (event.key === 'j' || event.key === 'ArrowDown') {
      move(1);
    } else if (event.key === 'k' || event.key === 'ArrowUp') {
      move(-1);
    } else if (event.key === 'x') {
      toggle(open);
    } else if (event.key === 'a' && decidable && approveOption !== undefined) {
      decide(approveOption);
    } else if (event.key === 'r' && decidable && rejectOption !== undefined) {
      setPrompt(rejectOption);
    } else {
      return;
    }
    event.preventDefault();
  };

  const chosen = items.filter((approval) => selected.has(approval.id));
  const filtered = dagId !== '' || policy !== '';

  return (
    <Stack gap="4" p="4" ref={page} tabIndex={-1} outline="none" onKeyDown={onKeyDown}>
      <Heading size="lg">{messages.queue.title}</Heading>
      <HStack gap="3" flexWrap="wrap">
        <FilterInput label={messages.queue.dagFilter} value={dagInput} onChange={setDagInput} />
        <FilterInput label={messages.queue.policyFilter} value={policyInput} onChange={setPolicyInput} />
        <Text color="fg.muted" textStyle="sm">
          {messages.queue.shortcuts}
        </Text>
      </HStack>
      {error !== null ? <ErrorAlert error={error} title={messages.queue.loadFailed} /> : undefined}
      {isPending ? <LoadingState label={messages.queue.loading} /> : undefined}
      <BulkBar selected={chosen} onDecided={() => setSelected(new Set())} onClear={() => setSelected(new Set())} />
      {data !== undefined && items.length === 0 ? (
        <EmptyState label={filtered ? messages.queue.emptyFiltered : messages.queue.empty} />
      ) : undefined}
      {open === undefined ? undefined : (
        <>
          <QueueItem
            key={open.id}
            approval={open}
            claim={claimStatus}
            prompt={prompt}
            deciding={vote.isPending}
            error={vote.error}
            onChoose={choose}
            onDecide={(option, reason) => decide(option, reason)}
            onCancel={() => setPrompt(undefined)}
          />
          <QueueList
            items={items}
            openId={open.id}
            selected={selected}
            me={me}
            onOpen={(approval) => setOpenId(approval.id)}
            onToggle={toggle}
          />
        </>
      )}
    </Stack>
  );
};
