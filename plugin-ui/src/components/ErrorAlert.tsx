import { Alert } from '@chakra-ui/react';

import { errorMessage } from '../api/client';

type Props = {
  readonly error: unknown;
  readonly title: string;
};

export const ErrorAlert = ({ error, title }: Props) => (
  <Alert.Root status="error" role="alert">
    <Alert.Indicator />
    <Alert.Content>
      <Alert.Title>{title}</Alert.Title>
      <Alert.Description>{errorMessage(error)}</Alert.Description>
    </Alert.Content>
  </Alert.Root>
);
