import { Button, HStack } from '@chakra-ui/react';

import type { Approval } from '../api/client';
import { messages } from '../i18n';
import { isRejecting } from '../utils/params';

type Props = {
  readonly approval: Approval;
  readonly loading: boolean;
  readonly disabled?: boolean;
  readonly onChoose: (option: string) => void;
};

/** One button per option of the approval; the ones that say no in red. */
export const OptionButtons = ({ approval, loading, disabled = false, onChoose }: Props) => (
  <HStack gap="2" flexWrap="wrap">
    {approval.options.map((option) => (
      <Button
        key={option}
        size="sm"
        variant={isRejecting(approval, option) ? 'outline' : 'solid'}
        colorPalette={isRejecting(approval, option) ? 'red' : undefined}
        loading={loading}
        disabled={disabled}
        aria-label={messages.approval.decideAs(option)}
        onClick={() => onChoose(option)}
      >
        {option}
      </Button>
    ))}
  </HStack>
);
