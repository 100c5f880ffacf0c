import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';

/**
 * Secrets the suite's channels file names by `*_env`: the setup gives them to the bridge, and scenarios sign
 * with them as Slack and the ops portal would.
 */
export const channelSecrets = {
  AIRGATE_HOOK_OPS_SECRET: 'ops-portal-test-secret-0123456789abcdef',
  SLACK_BOT_TOKEN: 'xoxb-airgate-test',
  SLACK_SIGNING_SECRET: 'slack-signing-test-secret-0123456789',
};

/** The host the channels file gives Teams URLs; the setup points it at the suite's chat inbox. */
export const CHAT_HOST_PLACEHOLDER = 'http://chat.airgate.test';

/** An HTTP server on loopback standing in for Teams Workflows URLs: keeps every POST as a file. */
export async function startChatInbox(dir: string, port: number): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      writeFileSync(resolve(dir, `${String(++count).padStart(5, '0')}.json`), JSON.stringify({ path: req.url, body: JSON.parse(body || 'null') }));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
  return () => new Promise<void>((closed) => server.close(() => closed()));
}

export interface ChatPost {
  /** The URL path the bridge posted to: the person's Teams URL. */
  path: string;
  body: any;
}

export function receivedChats(dir: string): ChatPost[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as ChatPost);
}
