import { Button, HStack } from '@chakra-ui/react';
import { useState } from 'react';

import { ActionDialog, type ActionTarget } from '../../components/ActionDialog';

export type ActionChoice = {
  readonly label: string;
  readonly target: ActionTarget;
  readonly destructive: boolean;
};

type Props = {
  readonly actions: readonly ActionChoice[];
};

/** One button per action; each opens the dialog that prepares, confirms and applies it. */
export const ActionButtons = ({ actions }: Props) => {
  const [open, setOpen] = useState<ActionChoice>();

  return (
    <>
      <HStack gap="2" flexWrap="wrap">
        {actions.map((action) => (
          <Button
            key={action.label}
            size="sm"
            variant="outline"
            colorPalette={action.destructive ? 'red' : undefined}
            onClick={() => setOpen(action)}
          >
            {action.label}
          </Button>
        ))}
      </HStack>
      {open === undefined ? undefined : (
        <ActionDialog label={open.label} target={open.target} onClose={() => setOpen(undefined)} />
      )}
    </>
  );
};
