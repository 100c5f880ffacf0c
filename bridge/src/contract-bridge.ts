import { generateKeyPairSync } from 'node:crypto';
import { pino } from 'pino';
import { parseChannels } from './channels/config.js';
import { defaultPolicies } from './policies/defaults.js';
import { ReceiptKeys } from './receipts/keys.js';
import { createServices } from './services.js';
import { createDb } from './store/db.js';

/**
 * A bridge that mounts every route there is (one-click links, Slack and four-eyes policy changes configured), built and never started: the
 * secrets below sign and reach nothing. Its document is the contract clients generate their types from.
 */
export function everyRouteBridge() {
  const env = { CONTRACT_SLACK_TOKEN: 'unused', CONTRACT_SLACK_SECRET: 'unused' };
  const key = new Uint8Array(32);
  const policies = defaultPolicies();
  return createServices(
    createDb({ sqliteFile: ':memory:' }),
    { current: () => policies },
    {
      airflowUrl: 'http://localhost:8080',
      airflowUsername: 'airgate',
      airflowPassword: 'unused',
      jwtSecret: 'unused',
      jwtAudience: 'apache-airflow',
      serviceToken: 'unused',
      auditKey: key,
      receiptKeys: ReceiptKeys.fromFiles([{ name: 'contract.pem', text: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }]),
      receiptIssuer: 'http://localhost:8000',
      policyChanges: 'four-eyes',
      channels: {
        config: parseChannels('version: 1\nslack: { bot_token_env: CONTRACT_SLACK_TOKEN, signing_secret_env: CONTRACT_SLACK_SECRET }\n', 'contract', env),
        publicUrl: 'http://localhost:8000',
        linkSecret: key,
        env,
      },
    },
    pino({ enabled: false }),
  );
}
