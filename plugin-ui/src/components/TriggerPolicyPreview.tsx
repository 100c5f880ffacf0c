import { Button, Field, HStack, Input, Stack } from '@chakra-ui/react';
import { useState } from 'react';

import { errorField, errorMessage } from '../api/client';
import { messages } from '../i18n';
import { usePolicyDryRun } from '../queries/usePolicyDryRun';
import { ErrorAlert } from './ErrorAlert';
import { PolicyDryRunResult } from './PolicyDryRunResult';

const strings = messages.policyPreview;

type Props = {
  readonly dagId: string;
  /** The conf the run would be triggered with; undefined while it is not a JSON object. */
  readonly conf: Record<string, unknown> | undefined;
};

/** In the trigger dialog: who would have to approve one of the DAG's approval tasks for this conf. */
export const TriggerPolicyPreview = ({ dagId, conf }: Props) => {
  const [task, setTask] = useState('');
  const dryRun = usePolicyDryRun();
  const taskError = errorField(dryRun.error) === 'task_id' ? errorMessage(dryRun.error) : undefined;

  const preview = () => {
    if (conf !== undefined && task.trim() !== '') {
      dryRun.mutate({ dag_id: dagId, task_id: task.trim(), map_index: -1, conf, params: {}, options: [] });
    }
  };

  return (
    <Stack gap="3" borderTopWidth="1px" pt="3">
      <HStack gap="2" alignItems="end">
        <Field.Root invalid={taskError !== undefined}>
          <Field.Label>{strings.fields.task}</Field.Label>
          <Input value={task} onChange={(event) => setTask(event.target.value)} />
          <Field.ErrorText>{taskError}</Field.ErrorText>
        </Field.Root>
        <Button variant="outline" onClick={preview} loading={dryRun.isPending} disabled={conf === undefined || task.trim() === ''}>
          {strings.previewPolicy}
        </Button>
      </HStack>
      {dryRun.error !== null && taskError === undefined ? <ErrorAlert error={dryRun.error} title={strings.failed} /> : undefined}
      {dryRun.data === undefined ? undefined : <PolicyDryRunResult result={dryRun.data} />}
    </Stack>
  );
};
