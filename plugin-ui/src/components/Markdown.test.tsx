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

  it('shows a chart attached as a PNG or SVG data URI, and no other data or script URL', () => {
    const svg = `data:image/svg+xml;base64,${btoa('<svg xmlns="http://www.w3.org/2000/svg"/>')}`;
    render(
      <ChakraProvider value={defaultSystem}>
        <Markdown>
          {`![quality chart](${svg})\n\n![page](data:text/html;base64,PHNjcmlwdD4=)\n\n[run](javascript:alert(1)) [doc](data:text/html,x)`}
        </Markdown>
      </ChakraProvider>,
    );
    expect(screen.getByRole('img', { name: 'quality chart' })).toHaveAttribute('src', svg);
    expect(screen.getByRole('img', { name: 'page' })).not.toHaveAttribute('src', expect.stringMatching(/^data:/));
    expect(screen.getByText('run').closest('a')?.getAttribute('href') ?? '').not.toMatch(/^javascript:/);
    expect(screen.getByText('doc').closest('a')?.getAttribute('href') ?? '').not.toMatch(/^data:/);
  });
});
