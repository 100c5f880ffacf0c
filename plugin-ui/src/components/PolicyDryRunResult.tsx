import { Alert, Badge, Heading, HStack, List, Stack, Text } from '@chakra-ui/react';

import type { DryRunLevel, PolicyDryRun } from '../api/client';
import { messages } from '../i18n';

const strings = messages.policyPreview;
const at = messages.common.dateTime;

// Policies for other DAGs or tasks say nothing about this request but that they are not its policy.
const OTHER_TASK = new Set(['dag_id', 'task_id']);
const relevant = (result: PolicyDryRun) => result.policies.filter((policy) => !OTHER_TASK.has(policy.verdict));
const elsewhere = (result: PolicyDryRun) => result.policies.length - relevant(result).length;

const Level = ({ level, position }: { readonly level: DryRunLevel; readonly position: number }) => (
  <Stack gap="2" borderWidth="1px" borderRadius="md" p="3" role="group" aria-label={strings.level(position, level.name)}>
    <HStack gap="2">
      <Heading size="sm">{strings.level(position, level.name)}</Heading>
      <Badge colorPalette={level.reachable ? 'green' : 'red'}>{level.reachable ? strings.reachable : strings.unreachable}</Badge>
    </HStack>
    {level.groups.map((group) => (
      <Stack key={group.name} gap="1">
        <Text fontWeight="medium">
          {level.groups.length > 1 ? `${group.name}: ` : ''}
          {strings.rule(group.rule, group.needed)}
        </Text>
        <List.Root ps="4">
          {group.people.length === 0 ? <List.Item>{strings.nobody}</List.Item> : undefined}
          {group.people.map((person) => (
            <List.Item key={person.user}>
              {person.user} {person.absent ? <Badge colorPalette="orange">{strings.absent}</Badge> : undefined}{' '}
              <Text as="span" color="fg.muted">
                {strings.channels(person.channels)}
              </Text>
            </List.Item>
          ))}
        </List.Root>
        {group.roles.length > 0 ? <Text color="fg.muted">{strings.roles(group.roles)}</Text> : undefined}
        {group.excluded.length > 0 ? (
          <Stack gap="0">
            <Text fontWeight="medium">{strings.excluded}</Text>
            {group.excluded.map((barred) => (
              <Text key={barred.user} color="fg.muted">
                {barred.user}: {barred.reason}
              </Text>
            ))}
          </Stack>
        ) : undefined}
      </Stack>
    ))}
    {level.problems.map((problem) => (
      <Text key={problem} color="fg.error">
        {problem}
      </Text>
    ))}
  </Stack>
);

/** A policy dry-run as a person reads it: the policy, each level with its people, the clock, every policy's verdict. */
export const PolicyDryRunResult = ({ result }: { readonly result: PolicyDryRun }) => (
  <Stack gap="4">
    <HStack gap="3" flexWrap="wrap">
      <Heading size="md">{result.policy === null ? strings.noPolicy : strings.policy(result.policy)}</Heading>
      <Badge colorPalette={result.reachable ? 'green' : 'red'} size="lg">
        {result.reachable ? strings.reachable : strings.unreachable}
      </Badge>
    </HStack>
    {result.problems.length > 0 ? (
      <Alert.Root status="error" role="alert">
        <Alert.Indicator />
        <Alert.Content>
          <Alert.Title>{result.policy_error === null ? strings.unreachable : strings.held}</Alert.Title>
          {result.problems.map((problem) => (
            <Alert.Description key={problem}>{problem}</Alert.Description>
          ))}
        </Alert.Content>
      </Alert.Root>
    ) : undefined}
    {result.levels.map((level, i) => (
      <Level key={level.name} level={level} position={i + 1} />
    ))}
    {result.policy === null ? undefined : (
      <Stack gap="1">
        <Text>
          {result.deadline === null ? strings.noDeadline : strings.deadline(at(result.deadline.due_at), result.deadline.action)}
        </Text>
        {result.deadline?.sla_warning_at ? <Text>{strings.slaWarning(at(result.deadline.sla_warning_at))}</Text> : undefined}
        {result.reminders === null ? undefined : <Text>{strings.reminders(result.reminders.every)}</Text>}
        {result.escalations.map((step) => (
          <Text key={step.at}>{strings.escalation(step.after, step.to)}</Text>
        ))}
        {result.break_glass === null ? undefined : (
          <Text>{strings.breakGlass(result.break_glass.allowed, result.break_glass.reviewers)}</Text>
        )}
      </Stack>
    )}
    <Stack gap="1">
      <Heading size="sm">{strings.policies}</Heading>
      <List.Root ps="4">
        {relevant(result).map((policy) => (
          <List.Item key={policy.name}>
            <Text as="span" fontWeight={policy.verdict === 'matched' ? 'bold' : undefined}>
              {policy.name}
            </Text>
            : {policy.detail}
          </List.Item>
        ))}
      </List.Root>
      {elsewhere(result) > 0 ? <Text color="fg.muted">{strings.elsewhere(elsewhere(result))}</Text> : undefined}
    </Stack>
    {result.notes.length > 0 ? (
      <Stack gap="1">
        <Heading size="sm">{strings.notes}</Heading>
        {result.notes.map((note) => (
          <Text key={note} color="fg.muted">
            {note}
          </Text>
        ))}
      </Stack>
    ) : undefined}
  </Stack>
);
