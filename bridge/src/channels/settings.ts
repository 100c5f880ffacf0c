import { z } from '../zod.js';
import { type ChannelsConfig, loadChannels } from './config.js';
import { linkSecret } from './links/tokens.js';

const Env = z.object({
  AIRGATE_CHANNELS_FILE: z.string().min(1).optional(),
  /** Where people reach the bridge; one-click links in email and Teams point here. */
  AIRGATE_PUBLIC_URL: z.url().default('http://localhost:8181'),
  /** Signs one-click links; derived from AIRGATE_SERVICE_TOKEN when unset. */
  AIRGATE_LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  NOTIFY_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
});

export interface ChannelSettings {
  config: ChannelsConfig;
  publicUrl: string;
  linkSecret: Uint8Array;
  smtpUrl: string | undefined;
  intervalMs: number;
}

/** The channels' part of the environment, and the channels file it names; throws one line naming the problem. */
export function loadChannelSettings(env: NodeJS.ProcessEnv, serviceToken: string): ChannelSettings {
  const result = Env.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`configuration: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const e = result.data;
  return {
    config: loadChannels(e.AIRGATE_CHANNELS_FILE, env),
    publicUrl: e.AIRGATE_PUBLIC_URL,
    linkSecret: linkSecret(e.AIRGATE_LINK_SECRET, serviceToken),
    smtpUrl: e.SMTP_URL,
    intervalMs: e.NOTIFY_INTERVAL_MS,
  };
}
