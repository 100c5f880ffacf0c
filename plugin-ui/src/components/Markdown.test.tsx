import { ChakraProvider, defaultSystem } from '@chakra-ui/react';
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';

describe('Markdown', () => {
  it('renders review artifacts: tables and links', () => {
    render(
      <ChakraProvider value={defaultSystem}>
        <Markdown>{'| table | rows |\n|---|---|\n| orders | 1200 |\n\n[diff](https://example.test/diff)'}</Markdown>
      </ChakraProvider>,
    );
    expect(screen.getByRole('columnheader', { name: 'rows' })).toBeInTheDocument();
    expect(screen.getByRole('cell', { name: '1200' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'diff' })).toHaveAttribute('href', 'https://example.test/diff');
  });
});
