import { Badge, Text } from '@chakra-ui/react';

import { messages } from '../i18n';

// The bridge does not publish a policy's SLA warning yet, so the warning starts an hour before the deadline.
export const SLA_WARNING_MS = 60 * 60 * 1_000;

export type Urgency = 'ok' | 'warning' | 'breached';

export const urgency = (dueAt: string, now: number): Urgency => {
  const left = Date.parse(dueAt) - now;
  if (left <= 0) {
    return 'breached';
  }
  return left <= SLA_WARNING_MS ? 'warning' : 'ok';
};

const palette: Record<Urgency, string> = { ok: 'gray', warning: 'orange', breached: 'red' };

type Props = {
  readonly dueAt: string | null;
  readonly now: number;
};

/** A live countdown to the deadline: amber from the SLA warning, red once breached. */
export const DeadlineBadge = ({ dueAt, now }: Props) => {
  if (dueAt === null) {
    return <Text color="fg.muted">{messages.deadline.none}</Text>;
  }
  const seconds = (Date.parse(dueAt) - now) / 1_000;
  const level = urgency(dueAt, now);
  const text = seconds > 0 ? messages.deadline.left(seconds) : messages.deadline.overdue(seconds);

  return (
    <Badge
      colorPalette={palette[level]}
      variant={level === 'ok' ? 'outline' : 'solid'}
      data-urgency={level}
      title={messages.deadline.label(text, dueAt)}
    >
      <time dateTime={dueAt}>{text}</time>
    </Badge>
  );
};
