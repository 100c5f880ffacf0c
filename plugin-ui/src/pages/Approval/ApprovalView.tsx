import { Alert, Box, Code, DataList, Heading, HStack, Progress, Separator, Stack, Text } from '@chakra-ui/react';

import type { ReactNode } from 'react';

import type { Approval } from '../../api/client';
import { AuditTimeline } from '../../components/AuditTimeline';
import { DeadlineBadge } from '../../components/DeadlineBadge';
import { Markdown } from '../../components/Markdown';
import { StateBadge } from '../../components/StateBadge';
import { messages } from '../../i18n';
import { useRecordedVote } from '../../queries/useVote';
import { useNow } from '../../utils/useNow';
import { BreakGlass, BypassNotice } from './BreakGlass';
import { Escalations } from './Escalations';
import { Receipt } from './Receipt';
import { Votes } from './Votes';
import { VoteForm } from './VoteForm';

const { facts } = messages.approval;

type Props = {
  readonly approval: Approval;
};

const Section = ({ title, children }: { readonly title: string; readonly children: ReactNode }) => (
  <Stack gap="2" as="section" aria-label={title}>
    <Heading size="md" as="h3">
      {title}
    </Heading>
    {children}
  </Stack>
);

/** One approval: what is asked, how far it got, the form to decide it, and its history. */
export const ApprovalView = ({ approval }: Props) => {
  const now = useNow();
  const recorded = useRecordedVote(approval.id);
  const { progress } = approval;

  return (
    <Stack gap="5">
      <Stack gap="1">
        <HStack gap="3" flexWrap="wrap">
          <Heading size="lg">{approval.subject}</Heading>
          <StateBadge state={approval.state} />
          {approval.state === 'pending' ? <DeadlineBadge dueAt={approval.due_at} now={now} /> : undefined}
        </HStack>
        {approval.requester === null ? undefined : (
          <Text color="fg.muted">{messages.approval.requestedBy(approval.requester)}</Text>
        )}
      </Stack>
      <BypassNotice approval={approval} />
      {approval.policy_error === null ? undefined : (
        <Alert.Root status="error">
          <Alert.Indicator />
          <Alert.Content>
            <Alert.Title>{messages.approval.policyError}</Alert.Title>
            <Alert.Description>{approval.policy_error}</Alert.Description>
          </Alert.Content>
        </Alert.Root>
      )}
      {approval.warnings.length === 0 ? undefined : (
        <Alert.Root status="warning">
          <Alert.Indicator />
          <Alert.Content>
            <Alert.Title>{messages.approval.quorumWarning}</Alert.Title>
            {approval.warnings.map((warning) => (
              <Alert.Description key={warning}>{warning}</Alert.Description>
            ))}
          </Alert.Content>
        </Alert.Root>
      )}
      <DataList.Root orientation="horizontal" size="sm">
        <DataList.Item>
          <DataList.ItemLabel>{facts.dag}</DataList.ItemLabel>
          <DataList.ItemValue>{approval.dag_id}</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>{facts.run}</DataList.ItemLabel>
          <DataList.ItemValue wordBreak="break-all">{approval.run_id}</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>{facts.task}</DataList.ItemLabel>
          <DataList.ItemValue>
            {approval.map_index < 0 ? approval.task_id : `${approval.task_id} [${approval.map_index}]`}
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>{facts.policy}</DataList.ItemLabel>
          <DataList.ItemValue>{approval.policy ?? messages.common.none}</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>{facts.created}</DataList.ItemLabel>
          <DataList.ItemValue>{messages.common.dateTime(approval.created_at)}</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>{facts.due}</DataList.ItemLabel>
          <DataList.ItemValue>
            {approval.due_at === null ? messages.deadline.none : messages.common.dateTime(approval.due_at)}
            {approval.timeout_at !== null && approval.timeout_at === approval.due_at ? ` ${messages.deadline.airflowTimeout}` : undefined}
          </DataList.ItemValue>
        </DataList.Item>
        {approval.decided_at === null ? undefined : (
          <DataList.Item>
            <DataList.ItemLabel>{facts.decided}</DataList.ItemLabel>
            <DataList.ItemValue>{messages.common.dateTime(approval.decided_at)}</DataList.ItemValue>
          </DataList.Item>
        )}
        {approval.outcome === null ? undefined : (
          <DataList.Item>
            <DataList.ItemLabel>{facts.outcome}</DataList.ItemLabel>
            <DataList.ItemValue>
              <Stack gap="1">
                <Text>{approval.outcome.option}</Text>
                {Object.keys(approval.outcome.params_input).length > 0 ? (
                  <Code whiteSpace="pre-wrap" display="block" p="2">
                    {JSON.stringify(approval.outcome.params_input, null, 2)}
                  </Code>
                ) : undefined}
              </Stack>
            </DataList.ItemValue>
          </DataList.Item>
        )}
      </DataList.Root>
      {progress === null ? undefined : (
        <Stack gap="1" maxW="md">
          <Text fontWeight="medium">
            {messages.approval.level(approval.level, progress.levels, progress.level_name)}
          </Text>
          <Progress.Root
            size="sm"
            max={Math.max(progress.needed, 1)}
            value={Math.min(progress.approvals, progress.needed)}
            colorPalette="green"
          >
            <Progress.Label srOnly>
              {messages.approval.tally(progress.approvals, progress.needed, progress.rejections)}
            </Progress.Label>
            <Progress.Track>
              <Progress.Range />
            </Progress.Track>
          </Progress.Root>
          <Text color="fg.muted" textStyle="sm">
            {messages.approval.tally(progress.approvals, progress.needed, progress.rejections)}
          </Text>
        </Stack>
      )}
      {approval.body === null ? undefined : (
        <Box borderWidth="1px" rounded="md" p="4" bg="bg.subtle">
          <Markdown>{approval.body}</Markdown>
        </Box>
      )}
      {recorded !== undefined ? (
        <Alert.Root status={recorded.deferred ? 'warning' : 'success'} role="status">
          <Alert.Indicator />
          <Alert.Title>
            {recorded.deferred ? messages.approval.deferred(recorded.option) : messages.approval.recorded(recorded.option)}
          </Alert.Title>
        </Alert.Root>
      ) : undefined}
      {approval.state === 'pending' ? (
        // A fresh form for each approval: the inputs belong to the one being decided.
        <Stack gap="4">
          <VoteForm key={approval.id} approval={approval} />
          {approval.break_glass ? <BreakGlass key={`glass-${approval.id}`} approval={approval} /> : undefined}
        </Stack>
      ) : (
        <Text color="fg.muted">{messages.approval.closed(messages.states[approval.state])}</Text>
      )}
      <Separator />
      <Section title={messages.approval.votes}>
        <Votes votes={approval.votes} approval={approval} />
      </Section>
      {approval.state === 'pending' ? undefined : (
        <Section title={messages.approval.receipt.title}>
          <Receipt approvalId={approval.id} />
        </Section>
      )}
      {approval.delegations.length === 0 ? undefined : (
        <Section title={messages.approval.delegations}>
          <Stack as="ul" gap="1" listStyleType="none">
            {approval.delegations.map((d) => (
              <Text as="li" key={d.id}>
                {messages.approval.delegation(d.to, d.from, d.ends_at)}
              </Text>
            ))}
          </Stack>
        </Section>
      )}
      <Section title={messages.approval.escalations}>
        <Escalations approvalId={approval.id} />
      </Section>
      <Section title={messages.approval.timeline}>
        <AuditTimeline approvalId={approval.id} />
      </Section>
    </Stack>
  );
};
