import { Button, Field, Heading, HStack, Input, Stack, Text, Textarea } from '@chakra-ui/react';
import { useState } from 'react';

import { errorField, errorMessage } from '../../api/client';
import { parseObject } from '../../components/ActionDialog';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PolicyDryRunResult } from '../../components/PolicyDryRunResult';
import { messages } from '../../i18n';
import type { PluginProps } from '../../pluginProps';
import { usePolicyDryRun } from '../../queries/usePolicyDryRun';

const strings = messages.policyPreview;

/** "Who must approve this, by when, through which channels?" for a task of a DAG, before its run is triggered. */
export const PolicyPreview = ({ dagId }: PluginProps) => {
  const [dag, setDag] = useState(dagId ?? '');
  const [task, setTask] = useState('');
  const [conf, setConf] = useState('{}');
  const dryRun = usePolicyDryRun();
  const parsed = parseObject(conf);
  const field = errorField(dryRun.error);
  const problem = (name: string) => (field === name ? errorMessage(dryRun.error) : undefined);

  const preview = () => {
    if (parsed.value === undefined || dag.trim() === '' || task.trim() === '') {
      return;
    }
    dryRun.mutate({ dag_id: dag.trim(), task_id: task.trim(), map_index: -1, conf: parsed.value, params: {}, options: [] });
  };

  return (
    <Stack gap="4" p="4" maxW="4xl">
      <Stack gap="1">
        <Heading size="lg">{strings.title}</Heading>
        <Text color="fg.muted">{strings.intro}</Text>
      </Stack>
      <HStack gap="3" alignItems="start" flexWrap="wrap">
        <Field.Root required invalid={problem('dag_id') !== undefined} maxW="sm">
          <Field.Label>{strings.fields.dag}</Field.Label>
          <Input value={dag} onChange={(event) => setDag(event.target.value)} />
          <Field.ErrorText>{problem('dag_id')}</Field.ErrorText>
        </Field.Root>
        <Field.Root required invalid={problem('task_id') !== undefined} maxW="sm">
          <Field.Label>{strings.fields.task}</Field.Label>
          <Input value={task} onChange={(event) => setTask(event.target.value)} />
          <Field.ErrorText>{problem('task_id')}</Field.ErrorText>
        </Field.Root>
      </HStack>
      <Field.Root invalid={parsed.error !== undefined || problem('conf') !== undefined}>
        <Field.Label>{strings.fields.conf}</Field.Label>
        <Textarea fontFamily="mono" value={conf} onChange={(event) => setConf(event.target.value)} />
        <Field.ErrorText>{parsed.error ?? problem('conf')}</Field.ErrorText>
      </Field.Root>
      <Button alignSelf="start" onClick={preview} loading={dryRun.isPending} disabled={parsed.error !== undefined}>
        {strings.preview}
      </Button>
      {dryRun.error !== null && field === undefined ? <ErrorAlert error={dryRun.error} title={strings.failed} /> : undefined}
      {dryRun.data === undefined ? undefined : <PolicyDryRunResult result={dryRun.data} />}
    </Stack>
  );
};
