import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadChannelSettings } from './settings.js';

const SERVICE_TOKEN = 'service-token-for-tests-0123456789';
const LINK_SECRET = 'link-secret-for-tests-0123456789abcdef';

const channelsFile = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'airgate-settings-')), 'channels.yaml');
  writeFileSync(file, text);
  return file;
};

describe('channel settings: the one-click link secret', () => {
  it('email (SMTP_URL) without AIRGATE_LINK_SECRET stops the start with one line: no key is derived from the service token', () => {
    expect(() => loadChannelSettings({ SMTP_URL: 'smtp://127.0.0.1:2525' }, SERVICE_TOKEN)).toThrow(
      /^configuration: AIRGATE_LINK_SECRET: required when email \(SMTP_URL\) or Teams sends one-click links$/,
    );
  });

  it('a route to Teams needs it too', () => {
    const file = channelsFile('version: 1\npolicies:\n  urgent: { channels: [teams] }\n');
    expect(() => loadChannelSettings({ AIRGATE_CHANNELS_FILE: file }, SERVICE_TOKEN)).toThrow('configuration: AIRGATE_LINK_SECRET: required');
  });

  it('refuses the service token as the link secret', () => {
    expect(() => loadChannelSettings({ SMTP_URL: 'smtp://h:25', AIRGATE_LINK_SECRET: SERVICE_TOKEN }, SERVICE_TOKEN)).toThrow(
      'configuration: AIRGATE_LINK_SECRET: must differ from AIRGATE_SERVICE_TOKEN',
    );
  });

  it('signs with exactly the secret given when a channel sends links, and holds none otherwise', () => {
    expect(loadChannelSettings({ SMTP_URL: 'smtp://h:25', AIRGATE_LINK_SECRET: LINK_SECRET }, SERVICE_TOKEN).linkSecret).toEqual(new TextEncoder().encode(LINK_SECRET));
    expect(loadChannelSettings({}, SERVICE_TOKEN).linkSecret).toBeNull();
    expect(loadChannelSettings({ AIRGATE_LINK_SECRET: LINK_SECRET }, SERVICE_TOKEN).linkSecret).toBeNull();
  });
});

describe('channel settings: Slack', () => {
  it("take Slack's API base from SLACK_API_URL, Slack's own when unset", () => {
    expect(loadChannelSettings({ SLACK_API_URL: 'http://127.0.0.1:38107/api/' }, SERVICE_TOKEN).slackApiUrl).toBe('http://127.0.0.1:38107/api/');
    expect(loadChannelSettings({}, SERVICE_TOKEN).slackApiUrl).toBeUndefined();
  });

  it('refuse a SLACK_API_URL that is not a URL, naming the variable', () => {
    expect(() => loadChannelSettings({ SLACK_API_URL: 'slack' }, SERVICE_TOKEN)).toThrow(/^configuration: SLACK_API_URL: /);
  });
});
