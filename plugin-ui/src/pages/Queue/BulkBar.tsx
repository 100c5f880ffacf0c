import { Alert, Button, Field, HStack, Input, List, NativeSelect, Stack, Text } from '@chakra-ui/react';
import { useState } from 'react';

import type { Approval, BulkDecisionResult } from '../../api/client';
import { ErrorAlert } from '../../components/ErrorAlert';
import { messages } from '../../i18n';
import { useBulkDecision } from '../../queries/useQueue';

const { bulk } = messages.queue;
const MAX_REASON = 2000;

type Props = {
  readonly selected: readonly Approval[];
  readonly onDecided: () => void;
  readonly onClear: () => void;
};

/** The options every selected item offers, in the first one's order. */
const commonOptions = (approvals: readonly Approval[]) =>
  approvals[0]?.options.filter((option) => approvals.every((approval) => approval.options.includes(option))) ?? [];

/** One option and one reason for every selected item; the bridge decides each on its own and says which it refused. */
export const BulkBar = ({ selected, onDecided, onClear }: Props) => {
  const options = commonOptions(selected);
  const [chosen, setChosen] = useState<string>();
  const [reason, setReason] = useState('');
  const { data, error, isPending, mutate } = useBulkDecision();
  // The subjects of what was sent: decided items leave the list before their results are read.
  const [sent, setSent] = useState<ReadonlyMap<string, string>>(new Map());
  const option = chosen !== undefined && options.includes(chosen) ? chosen : options[0];

  const decide = () => {
    if (option === undefined) {
      return;
    }
    const trimmed = reason.trim();
    setSent(new Map(selected.map((approval) => [approval.id, approval.subject])));
    mutate(
      { approval_ids: selected.map((approval) => approval.id), option, ...(trimmed === '' ? {} : { reason: trimmed }) },
      {
        onSuccess: () => {
          setReason('');
          onDecided();
        },
      },
    );
  };

  if (selected.length === 0 && data === undefined && error === null) {
    return null;
  }
  return (
    <Stack gap="3" as="section" aria-label={bulk.label} borderWidth="1px" rounded="md" p="3">
      {selected.length > 0 ? (
        <HStack gap="3" flexWrap="wrap" alignItems="end">
          <Text fontWeight="medium">{bulk.selected(selected.length)}</Text>
          {options.length === 0 ? (
            <Text color="fg.muted">{bulk.noCommonOption}</Text>
          ) : (
            <>
              <NativeSelect.Root size="sm" maxW="48">
                <NativeSelect.Field aria-label={bulk.option} value={option} onChange={(event) => setChosen(event.target.value)}>
                  {options.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </NativeSelect.Field>
                <NativeSelect.Indicator />
              </NativeSelect.Root>
              <Field.Root maxW="md">
                <Input
                  size="sm"
                  aria-label={bulk.reason}
                  placeholder={bulk.reason}
                  value={reason}
                  maxLength={MAX_REASON}
                  onChange={(event) => setReason(event.target.value)}
                />
              </Field.Root>
              <Button size="sm" loading={isPending} onClick={decide}>
                {bulk.decide(option ?? '', selected.length)}
              </Button>
            </>
          )}
          <Button size="sm" variant="ghost" onClick={onClear}>
            {bulk.clear}
          </Button>
        </HStack>
      ) : undefined}
      {error === null ? undefined : <ErrorAlert error={error} title={bulk.failed} />}
      {data === undefined ? undefined : <BulkResult result={data} subjects={sent} />}
    </Stack>
  );
};

/** How a bulk decision went: the counts, and each refused item with the bridge's reason. */
const BulkResult = ({ result, subjects }: { readonly result: BulkDecisionResult; readonly subjects: ReadonlyMap<string, string> }) => {
  const refused = result.items.filter((item) => item.error !== null);
  return (
    <Alert.Root status={refused.length === 0 ? 'success' : 'warning'} role="status">
      <Alert.Indicator />
      <Alert.Content>
        <Alert.Title>{bulk.result(result.counted, result.deferred, result.refused)}</Alert.Title>
        {refused.length === 0 ? undefined : (
          <Alert.Description>
            <List.Root ps="4">
              {refused.map((item) => (
                <List.Item key={item.approval_id}>
                  {bulk.refused(subjects.get(item.approval_id) ?? item.approval_id, item.error?.message ?? '')}
                </List.Item>
              ))}
            </List.Root>
          </Alert.Description>
        )}
      </Alert.Content>
    </Alert.Root>
  );
};
