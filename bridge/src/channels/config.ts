import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { own } from '../own.js';
import { z } from '../zod.js';

/** Channels a notification can go out on; `messages` (the bridge's own list, GET /api/v1/messages) holds every message. */
export const CHANNEL_NAMES = ['messages', 'email', 'slack', 'teams', 'webhook'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** A channel as a channels file or a query names it: `outbox`, the former name of `messages`, is read as it until the next release. */
export const Channel = z.preprocess((name) => (name === 'outbox' ? 'messages' : name), z.enum(CHANNEL_NAMES));

const Name = z.string().min(1);

/** Where one person is reached on each channel; a channel without an address for them is a failed delivery. */
const Person = z.strictObject({
  email: z.email().optional(),
  slack: Name.optional(),
  /** A Teams Workflows / incoming-webhook URL that reaches this person (a chat or their channel). */
  teams: z.url().optional(),
});

const Route = z.strictObject({
  channels: z.array(Channel).min(1).default(['messages']),
  /** Where a delivery goes once its channel gave up; `messages` (always reachable) by default. */
  fallback: Channel.default('messages'),
});

/** Secrets stay in the environment: the file names the variable, which must be set when the file is loaded. */
const SecretEnv = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the name of an environment variable');

const InboundHook = z.strictObject({
  secret_env: SecretEnv,
  /** Airflow users this source may vote as: the source authenticates its own users and vouches for them. */
  users: z.array(Name).min(1, 'list at least one user this source may vote as'),
});

export const ChannelsFileSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }),
  people: z.record(Name, Person).default({}),
  /** Channels used for a policy's notifications (by policy name); `default` for every other policy. */
  policies: z.record(Name, Route).default({}),
  default: Route.default({ channels: ['messages'], fallback: 'messages' }),
  delivery: z
    .strictObject({
      max_attempts: z.int().min(1).max(50).default(5),
      backoff_ms: z.int().min(10).default(30_000),
    })
    .default({ max_attempts: 5, backoff_ms: 30_000 }),
  email: z.strictObject({ from: Name.default('airgate <airgate@localhost>') }).default({ from: 'airgate <airgate@localhost>' }),
  /** Slack app: people are reached by their `people.NAME.slack` user id (a DM from the bot). */
  slack: z
    .strictObject({
      bot_token_env: SecretEnv,
      signing_secret_env: SecretEnv,
    })
    .optional(),
  webhooks: z
    .strictObject({
      /** Where the `webhook` channel POSTs every message (signed with the secret). */
      outbound: z.strictObject({ url: z.url(), secret_env: SecretEnv }).optional(),
      /** Systems that may vote through `POST /hooks/{source}`, by source name. */
      inbound: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'source names are lowercase letters, digits, - and _'), InboundHook).default({}),
    })
    .default({ inbound: {} }),
});
export type ChannelsConfig = z.output<typeof ChannelsFileSchema>;
export type ChannelRoute = z.output<typeof Route>;

export const emptyChannelsConfig = (): ChannelsConfig => ChannelsFileSchema.parse({ version: 1 });

/** Parses a channels file; throws an Error naming the path of the first problem, or a secret variable that is unset. */
export function parseChannels(text: string, source = 'channels.yaml', env: NodeJS.ProcessEnv = {}): ChannelsConfig {
  const result = ChannelsFileSchema.safeParse(parseYaml(text) ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}`);
  }
  const { outbound, inbound } = result.data.webhooks;
  const { slack } = result.data;
  const named: [string, string][] = [
    ...(slack ? ([['slack.bot_token_env', slack.bot_token_env], ['slack.signing_secret_env', slack.signing_secret_env]] as [string, string][]) : []),
    ...(outbound ? ([['webhooks.outbound.secret_env', outbound.secret_env]] as [string, string][]) : []),
    ...Object.entries(inbound).map(([name, hook]): [string, string] => [`webhooks.inbound.${name}.secret_env`, hook.secret_env]),
  ];
  for (const [path, variable] of named) {
    if (!own(env, variable)) throw new Error(`${source}: ${path}: environment variable ${variable} is not set`);
  }
  return result.data;
}

/** `AIRGATE_CHANNELS_FILE` when set, else only the bridge's own list of messages. */
export function loadChannels(path: string | undefined, env: NodeJS.ProcessEnv): ChannelsConfig {
  return path ? parseChannels(readFileSync(path, 'utf8'), path, env) : emptyChannelsConfig();
}

export function routeFor(config: ChannelsConfig, policy: string | null): ChannelRoute {
  return (policy !== null ? own(config.policies, policy) : undefined) ?? config.default;
}
