import { Code, Heading, Image, Link, List, Table, Text } from '@chakra-ui/react';
import ReactMarkdown, { type Components, type UrlTransform, defaultUrlTransform } from 'react-markdown';
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
  img: ({ src, alt }) => <Image src={typeof src === 'string' ? src : undefined} alt={alt ?? ''} maxW="full" my="2" />,
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

// Charts travel inside the request (an approval has no file store): PNG or SVG as a data URI, shown as an image
// only, where an SVG runs no script. Every other URL goes through react-markdown's own allow-list.
const INLINE_IMAGE = /^data:image\/(png|svg\+xml);base64,[A-Za-z0-9+/=]+$/;
const urlTransform: UrlTransform = (url, key, node) =>
  key === 'src' && node.tagName === 'img' && INLINE_IMAGE.test(url) ? url : defaultUrlTransform(url);

type Props = {
  readonly children: string;
};

export const Markdown = ({ children }: Props) => (
  <ReactMarkdown components={components} remarkPlugins={[remarkGfm]} urlTransform={urlTransform}>
    {children}
  </ReactMarkdown>
);
