import { Alert, Button, Field, Heading, Link, Stack, Text, Textarea } from '@chakra-ui/react';
import { useState } from 'react';

import { type Approval, errorField, errorMessage } from '../../api/client';
import { ErrorAlert } from '../../components/ErrorAlert';
import { messages } from '../../i18n';
import { useBypass } from '../../queries/useVote';

const MAX_REASON = 2000;
const { breakGlass } = messages.approval;

/** This page with another approval opened (the inbox opens the one its `approval` parameter names). */
const approvalHref = (id: string) => {
  const url = new URL(window.location.href);
  url.searchParams.set('approval', id);
  return url.toString();
};

/**
 * Break-glass on a pending approval whose policy allows it: a reason, then one deliberate click. Whether this person
 * may is the bridge's call (403, shown here), not the page's.
 */
export const BreakGlass = ({ approval }: { readonly approval: Approval }) => {
  const [reason, setReason] = useState('');
  const { error, isPending, mutate } = useBypass(approval.id);
  const reasonError = errorField(error) === 'reason' ? errorMessage(error) : undefined;

  return (
    <Stack gap="3" as="section" aria-labelledby="airgate-break-glass" borderWidth="1px" borderColor="border.error" rounded="md" p="4">
      <Heading size="sm" as="h3" id="airgate-break-glass">
        {breakGlass.title}
      </Heading>
      <Text color="fg.muted" textStyle="sm">
        {breakGlass.explain}
      </Text>
      <Field.Root invalid={reasonError !== undefined} required>
        <Field.Label>
          {breakGlass.reason}
          <Field.RequiredIndicator />
        </Field.Label>
        <Textarea value={reason} maxLength={MAX_REASON} disabled={isPending} onChange={(event) => setReason(event.target.value)} />
        {reasonError === undefined ? undefined : <Field.ErrorText>{reasonError}</Field.ErrorText>}
      </Field.Root>
      {error !== null && reasonError === undefined ? <ErrorAlert error={error} title={breakGlass.failed} /> : undefined}
      <Button
        alignSelf="start"
        size="sm"
        colorPalette="red"
        loading={isPending}
        disabled={reason.trim() === ''}
        onClick={() => mutate({ reason: reason.trim() })}
      >
        {breakGlass.button}
      </Button>
    </Stack>
  );
};

/** Shown on a bypassed approval and on its review: who broke the glass, why, and where the review is. */
export const BypassNotice = ({ approval }: { readonly approval: Approval }) => {
  if (approval.bypass !== null) {
    const { bypass } = approval;
    return (
      <Alert.Root status="error" variant="solid" role="status">
        <Alert.Indicator />
        <Alert.Content>
          <Alert.Title>{breakGlass.bypassed(bypass.by, messages.common.dateTime(bypass.at))}</Alert.Title>
          <Alert.Description>
            <Stack gap="1">
              <Text>{bypass.reason}</Text>
              <Link href={approvalHref(bypass.review_id)} color="inherit" textDecoration="underline">
                {breakGlass.toReview}
              </Link>
            </Stack>
          </Alert.Description>
        </Alert.Content>
      </Alert.Root>
    );
  }
  if (approval.review_of !== null) {
    const review = approval.review_of;
    return (
      <Alert.Root status="warning" role="status">
        <Alert.Indicator />
        <Alert.Content>
          <Alert.Title>{breakGlass.reviewOf(review.by)}</Alert.Title>
          <Alert.Description>
            <Stack gap="1">
              <Text>{review.reason}</Text>
              <Link href={approvalHref(review.approval_id)} textDecoration="underline">
                {breakGlass.toBypassed}
              </Link>
            </Stack>
          </Alert.Description>
        </Alert.Content>
      </Alert.Root>
    );
  }
  return undefined;
};
