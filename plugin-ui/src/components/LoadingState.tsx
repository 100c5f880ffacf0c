import { HStack, Spinner, Text } from '@chakra-ui/react';

type Props = {
  readonly label: string;
};

export const LoadingState = ({ label }: Props) => (
  <HStack gap="2" role="status" aria-live="polite">
    <Spinner size="sm" />
    <Text>{label}</Text>
  </HStack>
);
