import { Box, Code } from '@chakra-ui/react';

type Props = {
  readonly diff: string;
  readonly label: string;
};

// Added and removed lines in the host theme's colours; the patch's own headers stay plain.
const paletteOf = (line: string) => {
  if (line.startsWith('+') && !line.startsWith('+++')) return 'green';
  if (line.startsWith('-') && !line.startsWith('---')) return 'red';
  return undefined;
};

/** A unified diff as the bridge computed it, one line per row. */
export const Diff = ({ diff, label }: Props) => (
  <Box as="figure" aria-label={label} overflowX="auto" borderWidth="1px" borderRadius="md">
    {diff.split('\n').map((line, index) => {
      const palette = paletteOf(line);
      return (
        <Code
          // Lines of a patch have no identity beyond their place in it.
          key={index}
          display="block"
          whiteSpace="pre"
          width="full"
          colorPalette={palette}
          variant={palette === undefined ? 'plain' : 'subtle'}
          data-change={palette === 'green' ? 'added' : palette === 'red' ? 'removed' : undefined}
        >
          {line === '' ? ' ' : line}
        </Code>
      );
    })}
  </Box>
);
