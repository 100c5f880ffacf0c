import { Input } from '@chakra-ui/react';

type Props = {
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
};

/** A list filter typed into a box, labelled by its placeholder. */
export const FilterInput = ({ label, value, onChange }: Props) => (
  <Input
    size="sm"
    maxW="48"
    placeholder={label}
    aria-label={label}
    value={value}
    onChange={(event) => onChange(event.target.value)}
  />
);
