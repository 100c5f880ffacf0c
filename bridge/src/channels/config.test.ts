import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyChannelsConfig, parseChannels, routeFor } from './config.js';

const example = readFileSync(new URL('./channels.example.yaml', import.meta.url), 'utf8');
const ENV = { SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 'x', AIRGATE_WEBHOOK_SECRET: 'x', AIRGATE_HOOK_OPS_PORTAL_SECRET: 'x' };

describe('channels file', () => {
  it('the documented example is valid and routes policies as it says', () => {
    const config = parseChannels(example, 'channels.example.yaml', ENV);
    expect(routeFor(config, 'large-payments')).toEqual({ channels: ['email', 'slack'], fallback: 'email' });
    expect(routeFor(config, 'anything-else')).toEqual({ channels: ['email'], fallback: 'outbox' });
    expect(config.webhooks.inbound['ops-portal']?.users).toEqual(['alice', 'carol']);
  });

  it('without a file, only the local outbox', () => {
    expect(routeFor(emptyChannelsConfig(), null)).toEqual({ channels: ['outbox'], fallback: 'outbox' });
  });

  it('names the first problem and refuses unset secret variables', () => {
    expect(() => parseChannels('version: 1\ndefault: { channels: [pigeon] }\n', 'c.yaml')).toThrow(/^c\.yaml: default\.channels\.0: /);
    expect(() => parseChannels('version: 1\npeople: { alice: { email: nope } }\n', 'c.yaml')).toThrow(/c\.yaml: people\.alice\.email/);
    expect(() => parseChannels(example, 'c.yaml', { ...ENV, SLACK_SIGNING_SECRET: '' })).toThrow('c.yaml: slack.signing_secret_env: environment variable SLACK_SIGNING_SECRET is not set');
  });
});
