import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../deliveries/addresses.js';
import { emptyChannelsConfig, parseChannels, routeFor } from './config.js';

const example = readFileSync(new URL('../../examples/channels.yaml', import.meta.url), 'utf8');
const ENV = { SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 'x', AIRGATE_WEBHOOK_SECRET: 'x', AIRGATE_HOOK_OPS_PORTAL_SECRET: 'x' };

describe('channels file', () => {
  it('the documented example is valid and routes policies as it says', () => {
    const config = parseChannels(example, 'channels.yaml', ENV);
    expect(routeFor(config, 'large-payments')).toEqual({ channels: ['email', 'slack'], fallback: 'email' });
    expect(routeFor(config, 'anything-else')).toEqual({ channels: ['email'], fallback: 'messages' });
    expect(config.webhooks.inbound['ops-portal']?.users).toEqual(['alice', 'carol']);
  });

  it('a policy or person named like an Object.prototype member is looked up as itself, not inherited', () => {
    const config = parseChannels(example, 'channels.example.yaml', ENV);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(routeFor(config, name), name).toEqual(config.default);
      expect(new AddressBook(config).resolve('email', name), name).toEqual({ ok: false, error: `no email address for ${name}` });
    }
  });

  it('without a file, only the bridge\'s own list of messages', () => {
    expect(routeFor(emptyChannelsConfig(), null)).toEqual({ channels: ['messages'], fallback: 'messages' });
  });

  it('reads `outbox`, the former name of `messages`, as `messages` until the next release', () => {
    const config = parseChannels('version: 1\npolicies: { p: { channels: [outbox, email], fallback: outbox } }\n');
    expect(routeFor(config, 'p')).toEqual({ channels: ['messages', 'email'], fallback: 'messages' });
  });

  it('names the first problem and refuses unset secret variables', () => {
    expect(() => parseChannels('version: 1\ndefault: { channels: [pigeon] }\n', 'c.yaml')).toThrow(/^c\.yaml: default\.channels\.0: /);
    expect(() => parseChannels('version: 1\npeople: { alice: { email: nope } }\n', 'c.yaml')).toThrow(/c\.yaml: people\.alice\.email/);
    expect(() => parseChannels(example, 'c.yaml', { ...ENV, SLACK_SIGNING_SECRET: '' })).toThrow('c.yaml: slack.signing_secret_env: environment variable SLACK_SIGNING_SECRET is not set');
  });
});
