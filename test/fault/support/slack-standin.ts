import { type ChatAnswer, startChatInbox } from '../../support/chat.js';

/**
 * Slack's Web API as it looks on a bad day: every call is kept as a file (so a scenario can count attempts) and
 * answered 503 and 429 (`Retry-After: 1`) in turn — the bridge must retry, then fall back, never go silent.
 */
export const startSlackStandIn = (dir: string, port: number) =>
  startChatInbox(dir, port, (n): ReturnType<ChatAnswer> =>
    n % 2 === 1
      ? { status: 503, headers: { 'Content-Type': 'text/plain' }, body: 'upstream unavailable' }
      : { status: 429, headers: { 'Retry-After': '1', 'Content-Type': 'application/json' }, body: '{"ok":false,"error":"ratelimited"}' },
  );
