import { Button, Code, Stack, Text, Timeline } from '@chakra-ui/react';

import type { AuditEntry } from '../api/client';
import { messages } from '../i18n';
import { useAudit } from '../queries/useAudit';
import { EmptyState } from './EmptyState';
import { ErrorAlert } from './ErrorAlert';
import { LoadingState } from './LoadingState';

type Props = {
  readonly approvalId: string;
  /** Keeps only some entries, e.g. the escalations. */
  readonly only?: (entry: AuditEntry) => boolean;
  readonly emptyLabel?: string;
};

/** An approval's audit entries, oldest first. */
export const AuditTimeline = ({ approvalId, only = () => true, emptyLabel = messages.audit.empty }: Props) => {
  const { data, error, isPending, hasNextPage, isFetchingNextPage, fetchNextPage } = useAudit({ approval_id: approvalId });
  const entries = data?.pages.flatMap((page) => page.items).filter(only) ?? [];

  if (isPending) {
    return <LoadingState label={messages.audit.loading} />;
  }
  if (error !== null) {
    return <ErrorAlert error={error} title={messages.audit.loadFailed} />;
  }

  return (
    <Stack gap="2">
      {entries.length === 0 ? <EmptyState label={emptyLabel} /> : undefined}
      <Timeline.Root size="sm">
        {entries.map((entry) => (
          <Timeline.Item key={entry.seq}>
            <Timeline.Connector>
              <Timeline.Separator />
              <Timeline.Indicator />
            </Timeline.Connector>
            <Timeline.Content>
              <Timeline.Title>
                <Code size="sm">{entry.action}</Code>
                <Text as="span">{entry.actor}</Text>
                {entry.channel === null ? undefined : (
                  <Text as="span" color="fg.muted">
                    {entry.channel}
                  </Text>
                )}
              </Timeline.Title>
              <Timeline.Description>
                <time dateTime={entry.at}>{messages.common.dateTime(entry.at)}</time>
              </Timeline.Description>
              {entry.reason === null ? undefined : <Text textStyle="sm">{entry.reason}</Text>}
            </Timeline.Content>
          </Timeline.Item>
        ))}
      </Timeline.Root>
      {hasNextPage ? (
        <Button size="xs" variant="outline" alignSelf="start" loading={isFetchingNextPage} onClick={() => void fetchNextPage()}>
          {messages.common.loadMore}
        </Button>
      ) : undefined}
    </Stack>
  );
};
