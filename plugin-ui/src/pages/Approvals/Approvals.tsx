import { Heading, HStack, Input, NativeSelect, SegmentGroup, Stack, Text } from '@chakra-ui/react';
import { useDeferredValue, useMemo, useState } from 'react';

import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { FilterInput } from '../../components/FilterInput';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useApprovals } from '../../queries/useApprovals';
import { useDebounced } from '../../utils/useDebounced';
import { useSearchParam } from '../../utils/useSearchParam';
import { ApprovalDetail } from '../Approval';
import { ApprovalsList } from './ApprovalsList';
import { serverFilter, type Sort, type View, visibleApprovals } from './filter';

const views: readonly View[] = ['mine', 'pending', 'decided'];
// The DAG filter goes to the server, so it waits for the typing to pause.
const DAG_FILTER_DELAY_MS = 400;

/** The inbox (nav page): approvals across all DAGs; one opens in place, with its id in the URL. */
export const Approvals = () => {
  const [openId, setOpenId] = useSearchParam('approval');

  return openId === undefined ? (
    <Inbox onOpen={setOpenId} />
  ) : (
    <ApprovalDetail id={openId} onBack={() => setOpenId(undefined)} />
  );
};

type InboxProps = {
  readonly onOpen: (id: string) => void;
};

const Inbox = ({ onOpen }: InboxProps) => {
  const [view, setView] = useState<View>('mine');
  const [search, setSearch] = useState('');
  const [dagInput, setDagInput] = useState('');
  const [sort, setSort] = useState<Sort>('soonest');
  const dagId = useDebounced(dagInput.trim(), DAG_FILTER_DELAY_MS);
  const { data, error, isPending, hasNextPage, isFetchingNextPage, fetchNextPage } = useApprovals(
    serverFilter(view, dagId),
  );
  const deferredSearch = useDeferredValue(search);
  const loaded = useMemo(() => data?.pages.flatMap((page) => page.items) ?? [], [data]);
  const approvals = useMemo(
    () => visibleApprovals(loaded, { view, search: deferredSearch, sort }),
    [loaded, view, deferredSearch, sort],
  );
  const loadMore = useMemo(
    () => () => {
      if (!isFetchingNextPage) {
        void fetchNextPage();
      }
    },
    [fetchNextPage, isFetchingNextPage],
  );

  const emptyLabel =
    loaded.length > 0 || search !== '' || dagId !== ''
      ? messages.approvals.empty.search
      : messages.approvals.empty[view];

  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{messages.approvals.title}</Heading>
      <HStack gap="3" flexWrap="wrap">
        <SegmentGroup.Root
          size="sm"
          value={view}
          aria-label={messages.approvals.filters.label}
          onValueChange={({ value }) => setView(views.find((v) => v === value) ?? 'mine')}
        >
          <SegmentGroup.Indicator />
          <SegmentGroup.Items
            items={views.map((value) => ({ value, label: messages.approvals.filters[value] }))}
          />
        </SegmentGroup.Root>
        <Input
          size="sm"
          maxW="xs"
          type="search"
          placeholder={messages.approvals.search}
          aria-label={messages.approvals.search}
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
        <FilterInput label={messages.approvals.dagFilter} value={dagInput} onChange={setDagInput} />
        <NativeSelect.Root size="sm" maxW="56">
          <NativeSelect.Field
            aria-label={messages.approvals.sort.label}
            value={sort}
            onChange={(event) => setSort(event.target.value === 'latest' ? 'latest' : 'soonest')}
          >
            <option value="soonest">{messages.approvals.sort.soonest}</option>
            <option value="latest">{messages.approvals.sort.latest}</option>
          </NativeSelect.Field>
          <NativeSelect.Indicator />
        </NativeSelect.Root>
      </HStack>
      {error !== null ? <ErrorAlert error={error} title={messages.approvals.loadFailed} /> : undefined}
      {isPending ? <LoadingState label={messages.approvals.loading} /> : undefined}
      {data !== undefined && approvals.length === 0 ? <EmptyState label={emptyLabel} /> : undefined}
      {approvals.length > 0 ? (
        <>
          <ApprovalsList
            approvals={approvals}
            showState={view === 'decided'}
            hasMore={hasNextPage}
            loadMore={loadMore}
            onOpen={(approval) => onOpen(approval.id)}
          />
          <Text color="fg.muted" fontSize="sm" aria-live="polite">
            {messages.approvals.count(approvals.length, loaded.length, hasNextPage)}
            {' · '}
            {messages.approvals.searchNote}
            {isFetchingNextPage ? ` · ${messages.common.loadingMore}` : undefined}
          </Text>
        </>
      ) : undefined}
    </Stack>
  );
};
