import { server } from '../mocks/server';

export type Sent = {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | null;
  readonly body: unknown;
};

// A JSON body as sent; undefined for none (a GET, or a DELETE that only says it is JSON).
const bodyOf = async (request: Request): Promise<unknown> => {
  const text = await request.clone().text();
  return text === '' ? undefined : JSON.parse(text);
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
      body: await bodyOf(request),
    });
  });
  return sent;
};
