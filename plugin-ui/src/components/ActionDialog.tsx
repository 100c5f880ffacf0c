import {
  Alert,
  Button,
  Checkbox,
  CloseButton,
  Dialog,
  Field,
  Input,
  Portal,
  Stack,
  Text,
  Textarea,
} from '@chakra-ui/react';
import { useState } from 'react';

import {
  type ActionRequest,
  type Confirmation,
  errorField,
  errorMessage,
  errorStatus,
} from '../api/client';
import { messages } from '../i18n';
import { useConfirmAction, useRequestAction } from '../queries/useAction';
import { useNow } from '../utils/useNow';
import { ErrorAlert } from './ErrorAlert';
import { TriggerPolicyPreview } from './TriggerPolicyPreview';

const { fields } = messages.actions;
// The bridge's reason limit, as for votes.
const MAX_REASON = 2000;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What an action is about, less what the person types into the dialog. */
export type ActionTarget = DistributiveOmit<
  ActionRequest,
  'reason' | 'conf' | 'extra' | 'asset_id' | 'include_downstream'
>;

type Inputs = {
  readonly reason: string;
  readonly conf: Record<string, unknown>;
  readonly extra: Record<string, unknown>;
  readonly assetId: number;
  readonly includeDownstream: boolean;
};

const buildRequest = (target: ActionTarget, input: Inputs): ActionRequest => {
  const { reason } = input;
  switch (target.kind) {
    case 'trigger_run':
      return { ...target, conf: input.conf, reason };
    case 'mark_task':
      return { ...target, include_downstream: false, reason };
    case 'clear_task':
      return { ...target, include_downstream: input.includeDownstream, reason };
    case 'publish_asset_event':
      return { ...target, asset_id: input.assetId, extra: input.extra, reason };
    default:
      return { ...target, reason };
  }
};

type Props = {
  readonly label: string;
  readonly target: ActionTarget;
  readonly onClose: () => void;
};

/** A JSON object typed by a person (empty: `{}`), or why it is not one. */
export const parseObject = (text: string): { value?: Record<string, unknown>; error?: string } => {
  if (text.trim() === '') {
    return { value: {} };
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? { value: value as Record<string, unknown> }
      : { error: messages.form.notObject };
  } catch {
    return { error: messages.form.notJson };
  }
};

/**
 * An action through the bridge in two steps: the bridge first says what it would do and hands back a
 * short-lived confirmation; only confirming that applies it.
 */
export const ActionDialog = ({ label, target, onClose }: Props) => {
  const [reason, setReason] = useState('');
  const [conf, setConf] = useState('{}');
  const [extra, setExtra] = useState('{}');
  const [assetId, setAssetId] = useState('');
  const [includeDownstream, setIncludeDownstream] = useState(false);
  const [attempted, setAttempted] = useState(false);
  const [confirmation, setConfirmation] = useState<Confirmation>();
  const [applied, setApplied] = useState(false);
  const prepare = useRequestAction();
  const confirm = useConfirmAction();
  const now = useNow(500);

  const { kind } = target;
  const parsedConf = parseObject(conf);
  const parsedExtra = parseObject(extra);
  const assetValid = /^\d+$/.test(assetId.trim());
  const trimmed = reason.trim();
  const serverField = errorField(prepare.error);
  const problems: Record<string, string | undefined> = {
    conf: kind === 'trigger_run' ? parsedConf.error : undefined,
    extra: kind === 'publish_asset_event' ? parsedExtra.error : undefined,
    asset_id: kind === 'publish_asset_event' && attempted && !assetValid ? messages.form.required : undefined,
    reason: attempted && trimmed === '' ? messages.form.required : undefined,
    ...(serverField === undefined ? {} : { [serverField]: errorMessage(prepare.error) }),
  };

  const secondsLeft = confirmation === undefined ? 0 : (Date.parse(confirmation.expires_at) - now) / 1_000;
  const expired = confirmation !== undefined && (secondsLeft <= 0 || errorStatus(confirm.error) === 410);

  const review = () => {
    setAttempted(true);
    if (
      trimmed === '' ||
      (kind === 'trigger_run' && parsedConf.error !== undefined) ||
      (kind === 'publish_asset_event' && (parsedExtra.error !== undefined || !assetValid))
    ) {
      return;
    }
    confirm.reset();
    prepare.mutate(
      buildRequest(target, {
        reason: trimmed,
        conf: parsedConf.value ?? {},
        extra: parsedExtra.value ?? {},
        assetId: Number(assetId),
        includeDownstream,
      }),
      { onSuccess: (response) => setConfirmation(response.confirmation) },
    );
  };

  const apply = () => {
    if (confirmation !== undefined) {
      confirm.mutate(confirmation.token, { onSuccess: () => setApplied(true) });
    }
  };

  const formError = prepare.error !== null && serverField === undefined;

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
              <Dialog.Title>{label}</Dialog.Title>
            </Dialog.Header>
            <Dialog.Body>
              {applied ? (
                <Alert.Root status="success" role="status">
                  <Alert.Indicator />
                  <Alert.Title>{messages.actions.applied(label)}</Alert.Title>
                </Alert.Root>
              ) : confirmation === undefined ? (
                <Stack gap="4">
                  {kind === 'trigger_run' ? (
                    <Field.Root invalid={problems.conf !== undefined}>
                      <Field.Label>{fields.conf}</Field.Label>
                      <Textarea fontFamily="mono" value={conf} onChange={(event) => setConf(event.target.value)} />
                      <Field.ErrorText>{problems.conf}</Field.ErrorText>
                    </Field.Root>
                  ) : undefined}
                  {target.kind === 'trigger_run' ? <TriggerPolicyPreview dagId={target.dag_id} conf={parsedConf.value} /> : undefined}
                  {kind === 'clear_task' ? (
                    <Checkbox.Root
                      checked={includeDownstream}
                      onCheckedChange={({ checked }) => setIncludeDownstream(checked === true)}
                    >
                      <Checkbox.HiddenInput />
                      <Checkbox.Control />
                      <Checkbox.Label>{fields.includeDownstream}</Checkbox.Label>
                    </Checkbox.Root>
                  ) : undefined}
                  {kind === 'publish_asset_event' ? (
                    <>
                      <Field.Root required invalid={problems.asset_id !== undefined}>
                        <Field.Label>
                          {fields.assetId}
                          <Field.RequiredIndicator />
                        </Field.Label>
                        <Input inputMode="numeric" value={assetId} onChange={(event) => setAssetId(event.target.value)} />
                        <Field.ErrorText>{problems.asset_id}</Field.ErrorText>
                      </Field.Root>
                      <Field.Root invalid={problems.extra !== undefined}>
                        <Field.Label>{fields.extra}</Field.Label>
                        <Textarea fontFamily="mono" value={extra} onChange={(event) => setExtra(event.target.value)} />
                        <Field.ErrorText>{problems.extra}</Field.ErrorText>
                      </Field.Root>
                    </>
                  ) : undefined}
                  <Field.Root required invalid={problems.reason !== undefined}>
                    <Field.Label>
                      {fields.reason}
                      <Field.RequiredIndicator />
                    </Field.Label>
                    <Textarea value={reason} maxLength={MAX_REASON} onChange={(event) => setReason(event.target.value)} />
                    {problems.reason === undefined ? (
                      <Field.HelperText>{fields.reasonHelp}</Field.HelperText>
                    ) : (
                      <Field.ErrorText>{problems.reason}</Field.ErrorText>
                    )}
                  </Field.Root>
                  {formError ? <ErrorAlert error={prepare.error} title={messages.actions.failed} /> : undefined}
                </Stack>
              ) : (
                <Stack gap="3">
                  <Text fontWeight="medium">{messages.actions.effect}</Text>
                  <Text data-testid="action-effect" borderWidth="1px" rounded="md" p="3" bg="bg.subtle">
                    {confirmation.effect}
                  </Text>
                  {expired ? (
                    <Alert.Root status="warning" role="alert">
                      <Alert.Indicator />
                      <Alert.Content>
                        <Alert.Title>{messages.actions.expired}</Alert.Title>
                        {confirm.error === null ? undefined : (
                          <Alert.Description>{errorMessage(confirm.error)}</Alert.Description>
                        )}
                      </Alert.Content>
                    </Alert.Root>
                  ) : (
                    <Text color="fg.muted" aria-live="off">
                      <time dateTime={confirmation.expires_at}>{messages.actions.expiresIn(secondsLeft)}</time>
                    </Text>
                  )}
                  {confirm.error !== null && !expired ? (
                    <ErrorAlert error={confirm.error} title={messages.actions.failed} />
                  ) : undefined}
                </Stack>
              )}
            </Dialog.Body>
            <Dialog.Footer>
              {applied ? (
                <Button onClick={onClose}>{messages.common.close}</Button>
              ) : (
                <>
                  <Button variant="outline" onClick={onClose}>
                    {messages.common.cancel}
                  </Button>
                  {confirmation === undefined ? (
                    <Button loading={prepare.isPending} onClick={review}>
                      {messages.actions.review}
                    </Button>
                  ) : expired ? (
                    <Button
                      onClick={() => {
                        setConfirmation(undefined);
                        confirm.reset();
                        prepare.reset();
                      }}
                    >
                      {messages.actions.again}
                    </Button>
                  ) : (
                    <Button colorPalette="red" loading={confirm.isPending} onClick={apply}>
                      {messages.actions.confirm}
                    </Button>
                  )}
                </>
              )}
            </Dialog.Footer>
            <Dialog.CloseTrigger asChild>
              <CloseButton size="sm" aria-label={messages.common.close} />
            </Dialog.CloseTrigger>
          </Dialog.Content>
        </Dialog.Positioner>
      </Portal>
    </Dialog.Root>
  );
};
