import { z } from '../zod.js';
import { type ChannelsConfig, loadChannels } from './config.js';

const Env = z.object({
  AIRGATE_CHANNELS_FILE: z.string().min(1).optional(),
  /** Where people reach the bridge; one-click links in email and Teams point here. */
  AIRGATE_PUBLIC_URL: z.url().default('http://localhost:8181'),
  /** Signs one-click links; required when a channel sends them. */
  AIRGATE_LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  NOTIFY_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
  /** Slack's Web API base (default https://slack.com/api/); a proxy or a stand-in in tests. */
  SLACK_API_URL: z.url().optional(),
});

export interface ChannelSettings {
  config: ChannelsConfig;
  publicUrl: string;
  /** Signs one-click links; null when no channel sends them (then `/a/*` is not served at all). */
  linkSecret: Uint8Array | null;
  smtpUrl: string | undefined;
  intervalMs: number;
  slackApiUrl: string | undefined;
}

/** Whether messages can carry one-click links: email is on (SMTP_URL), or a route sends to Teams. */
function sendsLinks(config: ChannelsConfig, smtpUrl: string | undefined): boolean {
  const routes = [config.default, ...Object.values(config.policies)];
  return smtpUrl !== undefined || routes.some((r) => r.channels.includes('teams') || r.fallback === 'teams');
}

const configError = (variable: string, message: string) => new Error(`configuration: ${variable}: ${message}`);

/**
 * The channels' part of the environment, and the channels file it names; throws one line naming the problem.
 * The link secret is a secret of its own: the service token is readable by every task (the `airgate_bridge`
 * connection), so a key derived from it would let any DAG author mint links and vote as anyone.
 */
export function loadChannelSettings(env: NodeJS.ProcessEnv, serviceToken: string): ChannelSettings {
  const result = Env.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw configError(issue?.path.join('.') ?? '', issue?.message ?? 'invalid');
  }
  const e = result.data;
  const config = loadChannels(e.AIRGATE_CHANNELS_FILE, env);
  let linkSecret: Uint8Array | null = null;
  if (sendsLinks(config, e.SMTP_URL)) {
    if (!e.AIRGATE_LINK_SECRET) throw configError('AIRGATE_LINK_SECRET', 'required when email (SMTP_URL) or Teams sends one-click links');
    if (e.AIRGATE_LINK_SECRET === serviceToken) throw configError('AIRGATE_LINK_SECRET', 'must differ from AIRGATE_SERVICE_TOKEN');
    linkSecret = new TextEncoder().encode(e.AIRGATE_LINK_SECRET);
  }
  return { config, publicUrl: e.AIRGATE_PUBLIC_URL, linkSecret, smtpUrl: e.SMTP_URL, intervalMs: e.NOTIFY_INTERVAL_MS, slackApiUrl: e.SLACK_API_URL };
}
