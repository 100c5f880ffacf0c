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

/** The path the setup gives the bridge as Slack's Web API (`SLACK_API_URL`); the chat inbox answers it. */
export const SLACK_API_PATH = '/slack/api/';
/**
 * Slack conversations the stand-in delivers to (admin's DM). To any other, Slack seems down (`internal_error`,
 * which the bridge retries), so other people's Slack deliveries fail after their attempts and fall back.
 */
export const REACHABLE_SLACK_IDS = ['U0ADMIN', 'D0ADMIN'];

/** A Slack Web API form body (`blocks` and the like arrive as JSON strings) as the object the bridge sent. */
function slackArguments(raw: string): Record<string, unknown> {
  return Object.fromEntries(
    [...new URLSearchParams(raw)].map(([name, value]) => [name, /^[[{]/.test(value) ? JSON.parse(value) : value]),
  );
}

/** How a stand-in answers its `n`th call (from 1), given the call as it was kept. */
export type ChatAnswer = (n: number, call: { path: string; body: any }) => { status: number; headers?: Record<string, string>; body?: string };

/** The integration stack's answers: 202 for Teams, and Slack as described at {@link REACHABLE_SLACK_IDS}. */
const stackAnswer: ChatAnswer = (n, call) => {
  if (!call.path.startsWith(SLACK_API_PATH)) return { status: 202 };
  const channel = String(call.body?.channel ?? '');
  const answer = REACHABLE_SLACK_IDS.includes(channel) ? { ok: true, channel, ts: `1767225600.${String(n).padStart(6, '0')}` } : { ok: false, error: 'internal_error' };
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(answer) };
};

/**
 * An HTTP server on loopback standing in for a chat service (Teams Workflows URLs, Slack's Web API): keeps every
 * call as a file (JSON bodies parsed, Slack's arguments under SLACK_API_PATH too) and answers each as `answer` says.
 */
export async function startChatInbox(dir: string, port: number, answer: ChatAnswer = stackAnswer): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      const json = req.headers['content-type']?.startsWith('application/json') ?? false;
      const body = path.startsWith(SLACK_API_PATH) ? slackArguments(raw) : json ? JSON.parse(raw || 'null') : raw;
      writeFileSync(resolve(dir, `${String(++count).padStart(5, '0')}.json`), JSON.stringify({ path, body }));
      const reply = answer(count, { path, body });
      res.writeHead(reply.status, reply.headers).end(reply.body);
    });
  });
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
  return () => new Promise<void>((closed) => server.close(() => closed()));
}

export interface ChatPost {
  /** The URL path the bridge posted to: the person's Teams URL, or SLACK_API_PATH and the Slack method. */
  path: string;
  body: any;
}

export function receivedChats(dir: string): ChatPost[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as ChatPost);
}
