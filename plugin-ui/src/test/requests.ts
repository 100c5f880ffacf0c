import { server } from '../mocks/server';

export type Sent = {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | null;
  readonly body: unknown;
};

/** Every request the screen sends from now on, as the bridge would receive it. */
export const recordRequests = () => {
  const sent: Sent[] = [];
  server.events.on('request:start', async ({ request }) => {
    const url = new URL(request.url);
    sent.push({
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: request.headers.get('content-type'),
      body: request.method === 'GET' ? undefined : await request.clone().json(),
    });
  });
  return sent;
};
