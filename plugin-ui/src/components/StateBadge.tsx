import { Badge } from '@chakra-ui/react';

import type { ApprovalState } from '../api/client';
import { messages } from '../i18n';

const palette: Record<ApprovalState, string> = {
  pending: 'blue',
  approved: 'green',
  rejected: 'red',
  expired: 'orange',
  cancelled: 'gray',
  bypassed: 'red',
};

type Props = {
  readonly state: ApprovalState;
};

export const StateBadge = ({ state }: Props) => (
  <Badge colorPalette={palette[state]} variant="subtle">
    {messages.states[state]}
  </Badge>
);
