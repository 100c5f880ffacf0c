import { Code, Heading, Link, List, Table, Text } from '@chakra-ui/react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';

// Chakra's reset strips the browser's styles from bare HTML, so each element is drawn with its
// Chakra counterpart instead.
const components: Components = {
  a: ({ children, href }) => (
    <Link href={href} target="_blank" rel="noreferrer" colorPalette="blue">
      {children}
    </Link>
  ),
  code: ({ children }) => <Code>{children}</Code>,
  h1: ({ children }) => <Heading size="lg">{children}</Heading>,
  h2: ({ children }) => <Heading size="md">{children}</Heading>,
  h3: ({ children }) => <Heading size="sm">{children}</Heading>,
  li: ({ children }) => <List.Item>{children}</List.Item>,
  ol: ({ children }) => (
    <List.Root as="ol" ps="5">
      {children}
    </List.Root>
  ),
  p: ({ children }) => <Text mb="2">{children}</Text>,
  ul: ({ children }) => <List.Root ps="5">{children}</List.Root>,
  // Tables are how DAGs attach review artifacts (row counts, diffs, metrics) to a request.
  table: ({ children }) => (
    <Table.Root size="sm" variant="outline" my="2">
      {children}
    </Table.Root>
  ),
  thead: ({ children }) => <Table.Header>{children}</Table.Header>,
  tbody: ({ children }) => <Table.Body>{children}</Table.Body>,
  tr: ({ children }) => <Table.Row>{children}</Table.Row>,
  th: ({ children }) => <Table.ColumnHeader>{children}</Table.ColumnHeader>,
  td: ({ children }) => <Table.Cell>{children}</Table.Cell>,
};

type Props = {
  readonly children: string;
};

export const Markdown = ({ children }: Props) => (
  <ReactMarkdown components={components} remarkPlugins={[remarkGfm]}>
    {children}
  </ReactMarkdown>
);
