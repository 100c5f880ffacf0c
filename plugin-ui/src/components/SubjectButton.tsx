import { chakra, type HTMLChakraProps } from '@chakra-ui/react';

type Props = Omit<HTMLChakraProps<'button'>, 'onClick'> & {
  readonly subject: string;
  readonly onOpen: () => void;
};

/** An approval's subject in a list row, as a link-like button; opening it does not also click the row. */
export const SubjectButton = ({ subject, onOpen, ...rest }: Props) => (
  <chakra.button
    type="button"
    color="fg.info"
    textAlign="start"
    maxW="full"
    overflow="hidden"
    textOverflow="ellipsis"
    focusRing="outside"
    _hover={{ textDecoration: 'underline' }}
    onClick={(event) => {
      event.stopPropagation();
      onOpen();
    }}
    {...rest}
  >
    {subject}
  </chakra.button>
);
