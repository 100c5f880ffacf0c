import { Text } from '@chakra-ui/react';

type Props = {
  readonly label: string;
};

export const EmptyState = ({ label }: Props) => (
  <Text color="fg.muted" py="4">
    {label}
  </Text>
);
