import { Alert, Box, Button, Field, Heading, HStack, Input, Stack, Text } from '@chakra-ui/react';
import { useState } from 'react';

import { type Approval, errorMessage } from '../../api/client';
import { ErrorAlert } from '../../components/ErrorAlert';
import { Markdown } from '../../components/Markdown';
import { OptionButtons } from '../../components/OptionButtons';
import { messages } from '../../i18n';

// The bridge's VoteRequest limit.
const MAX_REASON = 2000;

/** Where the open item's claim stands: being taken, held by the signed-in person, or refused (someone else's). */
export type ClaimStatus =
  | { readonly kind: 'claiming' }
  | { readonly kind: 'mine'; readonly until: string }
  | { readonly kind: 'refused'; readonly error: unknown };

type Props = {
  readonly approval: Approval;
  readonly claim: ClaimStatus;
  /** The option waiting for its reason (`r`, or a rejecting option's button), if any. */
  readonly prompt: string | undefined;
  readonly deciding: boolean;
  readonly error: unknown;
  readonly onChoose: (option: string) => void;
  readonly onDecide: (option: string, reason: string) => void;
  readonly onCancel: () => void;
};

/** The open item: what is asked, who holds it, one button per option, and the reason a "no" asks for. */
export const QueueItem = ({ approval, claim, prompt, deciding, error, onChoose, onDecide, onCancel }: Props) => {
  const [reason, setReason] = useState('');
  const held = claim.kind === 'refused';

  return (
    <Stack gap="3" as="section" aria-label={approval.subject} borderWidth="1px" rounded="md" p="4">
      <Heading size="md" as="h3">
        {approval.subject}
      </Heading>
      {claim.kind === 'mine' ? (
        <Text color="fg.muted" textStyle="sm">
          {messages.queue.claimedByYou(claim.until)}
        </Text>
      ) : undefined}
      {held ? (
        <Alert.Root status="warning" role="alert">
          <Alert.Indicator />
          <Alert.Content>
            <Alert.Title>{messages.queue.claimFailed}</Alert.Title>
            <Alert.Description>{errorMessage(claim.error)}</Alert.Description>
          </Alert.Content>
        </Alert.Root>
      ) : undefined}
      {approval.body === null ? undefined : (
        <Box>
          <Markdown>{approval.body}</Markdown>
        </Box>
      )}
      {prompt === undefined ? (
        <OptionButtons approval={approval} loading={deciding} disabled={held} onChoose={onChoose} />
      ) : (
        <Stack
          gap="2"
          as="form"
          onSubmit={(event) => {
            event.preventDefault();
            onDecide(prompt, reason.trim());
          }}
        >
          <Field.Root>
            <Field.Label>{messages.queue.reasonFor(prompt)}</Field.Label>
            <Input
              autoFocus
              value={reason}
              maxLength={MAX_REASON}
              disabled={deciding}
              onChange={(event) => setReason(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === 'Escape') {
                  event.preventDefault();
                  setReason('');
                  onCancel();
                }
              }}
            />
            <Field.HelperText>{messages.queue.reasonHelp}</Field.HelperText>
          </Field.Root>
          <HStack gap="2">
            <Button type="submit" size="sm" colorPalette="red" loading={deciding} disabled={reason.trim() === ''}>
              {messages.queue.decideWith(prompt)}
            </Button>
            <Button size="sm" variant="ghost" onClick={onCancel}>
              {messages.common.cancel}
            </Button>
          </HStack>
        </Stack>
      )}
      {error === null ? undefined : <ErrorAlert error={error} title={messages.queue.decideFailed} />}
    </Stack>
  );
};
