import { Field, Heading, NativeSelect, Stack, Textarea } from '@chakra-ui/react';
import { useMemo, useState } from 'react';

import { type Approval, errorField, errorMessage } from '../../api/client';
import { ErrorAlert } from '../../components/ErrorAlert';
import { OptionButtons } from '../../components/OptionButtons';
import { ParamsForm } from '../../components/ParamsForm';
import { messages } from '../../i18n';
import { useDelegations } from '../../queries/useDelegations';
import { useVote } from '../../queries/useVote';
import { initialRaw, isRejecting, parseParams, parseRaw, type RawValue } from '../../utils/params';

// The bridge's VoteRequest limit.
const MAX_REASON = 2000;
const PARAMS_FIELD = 'params_input.';

type Props = {
  readonly approval: Approval;
};

/** The approval's form, a reason, and one button per option; the bridge's 422 lands on its field. */
export const VoteForm = ({ approval }: Props) => {
  const fields = useMemo(() => parseParams(approval.params), [approval.params]);
  const [values, setValues] = useState<Record<string, RawValue>>(() =>
    Object.fromEntries(fields.map((field) => [field.name, initialRaw(field)])),
  );
  const [attempted, setAttempted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string>();
  const { error, isPending, mutate, reset } = useVote(approval.id);
  // The seats the signed-in person may fill as deputy here: delegations they received that apply to this approval.
  const { data: delegations } = useDelegations();
  const received = new Set(delegations?.received.map((d) => d.id) ?? []);
  const seats = [...new Set(approval.delegations.filter((d) => received.has(d.id)).map((d) => d.from))];
  const [onBehalfOf, setOnBehalfOf] = useState('');
  const forSeat = seats.includes(onBehalfOf) ? onBehalfOf : '';

  const parsed = fields.map((field) => ({ field, result: parseRaw(field, values[field.name] ?? '') }));
  const clientErrors = Object.fromEntries(
    parsed.flatMap(({ field, result }) =>
      result.ok || (!attempted && values[field.name] === '') ? [] : [[field.name, result.error]],
    ),
  );
  const errors = { ...clientErrors, ...serverErrors };
  // A 422 whose field is shown next to that field needs no second alert.
  const field = errorField(error);
  const showAlert =
    error !== null && field !== 'reason' && !(field?.startsWith(PARAMS_FIELD) ?? false);

  const vote = (option: string) => {
    const rejecting = isRejecting(approval, option);
    setAttempted(true);
    reset();
    if (!rejecting && parsed.some(({ result }) => !result.ok)) {
      return;
    }
    const trimmed = reason.trim();
    const paramsInput = Object.fromEntries(
      parsed.flatMap(({ field: { name }, result }) => (result.ok ? [[name, result.value]] : [])),
    );
    mutate(
      {
        option,
        ...(trimmed === '' ? {} : { reason: trimmed }),
        ...(forSeat === '' ? {} : { on_behalf_of: forSeat }),
        // A "no" may carry what was typed (feedback, say), but never blocks on the form.
        ...(fields.length === 0 || (rejecting && parsed.some(({ result }) => !result.ok)) ? {} : { params_input: paramsInput }),
      },
      {
        onSuccess: () => {
          setReason('');
          setReasonError(undefined);
        },
        onError: (failure) => {
          const name = errorField(failure);
          if (name === 'reason') {
            setReasonError(errorMessage(failure));
          } else if (name?.startsWith(PARAMS_FIELD)) {
            setServerErrors({ [name.slice(PARAMS_FIELD.length)]: errorMessage(failure) });
          }
        },
      },
    );
  };

  return (
    <Stack gap="4" as="section" aria-labelledby="airgate-decide">
      <Heading size="md" as="h3" id="airgate-decide">
        {messages.approval.decide}
      </Heading>
      {seats.length === 0 ? undefined : (
        <Field.Root maxW="sm">
          <Field.Label>{messages.approval.voteAs}</Field.Label>
          <NativeSelect.Root size="sm" disabled={isPending}>
            <NativeSelect.Field value={forSeat} onChange={(event) => setOnBehalfOf(event.target.value)}>
              <option value="">{messages.approval.ownName}</option>
              {seats.map((delegator) => (
                <option key={delegator} value={delegator}>
                  {messages.approval.voteFor(delegator)}
                </option>
              ))}
            </NativeSelect.Field>
            <NativeSelect.Indicator />
          </NativeSelect.Root>
        </Field.Root>
      )}
      {fields.length > 0 ? (
        <ParamsForm
          fields={fields}
          values={values}
          errors={errors}
          disabled={isPending}
          onChange={(name, value) => {
            setValues((current) => ({ ...current, [name]: value }));
            setServerErrors(({ [name]: _dropped, ...rest }) => rest);
          }}
        />
      ) : undefined}
      <Field.Root invalid={reasonError !== undefined} required={reasonError !== undefined}>
        <Field.Label>
          {messages.approval.reason}
          <Field.RequiredIndicator />
        </Field.Label>
        <Textarea
          value={reason}
          maxLength={MAX_REASON}
          disabled={isPending}
          onChange={(event) => {
            setReason(event.target.value);
            if (event.target.value.trim() !== '') {
              setReasonError(undefined);
            }
          }}
        />
        {reasonError === undefined ? (
          <Field.HelperText>{messages.approval.reasonHelp}</Field.HelperText>
        ) : (
          <Field.ErrorText>
            {reasonError} {messages.approval.reasonRequired}
          </Field.ErrorText>
        )}
      </Field.Root>
      {showAlert ? <ErrorAlert error={error} title={messages.approval.voteFailed} /> : undefined}
      <OptionButtons approval={approval} loading={isPending} onChoose={vote} />
    </Stack>
  );
};
