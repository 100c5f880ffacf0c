import { Button, CloseButton, Dialog, Field, Portal, Stack, Textarea } from '@chakra-ui/react';
import { useState } from 'react';

import type { Approval } from '../api/client';
import { messages } from '../i18n';
import { useVote } from '../queries/useVote';
import { ErrorAlert } from './ErrorAlert';
import { Markdown } from './Markdown';

// The bridge's VoteRequest limit.
const MAX_REASON = 2000;

type Props = {
  readonly approval: Approval;
  readonly option: string;
  readonly onClose: () => void;
  readonly onVoted: () => void;
};

export const VoteDialog = ({ approval, option, onClose, onVoted }: Props) => {
  const [reason, setReason] = useState('');
  const { error, isPending, mutate } = useVote();
  const trimmed = reason.trim();

  const confirm = () =>
    mutate({ id: approval.id, vote: { option, reason: trimmed } }, { onSuccess: onVoted });

  return (
    <Dialog.Root
      open
      onOpenChange={({ open }) => {
        if (!open) {
          onClose();
        }
      }}
      placement="center"
      size="lg"
    >
      <Portal>
        <Dialog.Backdrop />
        <Dialog.Positioner>
          <Dialog.Content>
            <Dialog.Header>
              <Dialog.Title>{approval.subject}</Dialog.Title>
            </Dialog.Header>
            <Dialog.Body>
              <Stack gap="4">
                <Dialog.Description>{messages.voteDialog.choice(option)}</Dialog.Description>
                {approval.body !== null ? <Markdown>{approval.body}</Markdown> : undefined}
                <Field.Root required>
                  <Field.Label>{messages.voteDialog.reason}</Field.Label>
                  <Textarea
                    value={reason}
                    onChange={(event) => setReason(event.target.value)}
                    maxLength={MAX_REASON}
                  />
                  <Field.HelperText>{messages.voteDialog.reasonHelp}</Field.HelperText>
                </Field.Root>
                {error !== null ? (
                  <ErrorAlert error={error} title={messages.voteDialog.failed} />
                ) : undefined}
              </Stack>
            </Dialog.Body>
            <Dialog.Footer>
              <Button variant="outline" onClick={onClose}>
                {messages.voteDialog.cancel}
              </Button>
              <Button disabled={trimmed === ''} loading={isPending} onClick={confirm}>
                {option}
              </Button>
            </Dialog.Footer>
            <Dialog.CloseTrigger asChild>
              <CloseButton size="sm" />
            </Dialog.CloseTrigger>
          </Dialog.Content>
        </Dialog.Positioner>
      </Portal>
    </Dialog.Root>
  );
};
