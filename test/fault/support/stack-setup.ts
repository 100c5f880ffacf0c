import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startMailbox } from '../../support/mailbox.js';
import { waitForReady } from '../../support/stack-setup.js';
import { startSlackStandIn } from './slack-standin.js';
import { startStoreProxy } from './store-proxy.js';

export interface FaultStack {
  airflowUrl: string;
  /** The load balancer: what every scenario talks to. */
  bridgeUrl: string;
  replicaUrls: string[];
  passwords: Record<string, string>;
  /** Airflow's `[api_auth] jwt_secret`: voters' tokens are signed with it, as Airflow signs them. */
  jwtSecret: string;
  serviceToken: string;
  home: string;
  mailDir: string;
  /** Where the Slack stand-in keeps every call the bridge made to it. */
  slackDir: string;
  /** Where `POST /cut` and `POST /restore` cut the replicas off their store and reconnect them. */
  storeProxyControl: string;
  /** The bridge store's own database, reached directly (not through the proxy), for read-only checks. */
  storeUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    fault: FaultStack;
  }
}

const repo = resolve(import.meta.dirname, '..', '..', '..');
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** Starts the scale-out profile once for every fault scenario (fresh databases of its own) and stops it after. */
export default async function setup(project: TestProject) {
  const home = resolve(repo, '.airgate', process.env.AIRGATE_FAULT_HOME ?? 'fault');
  rmSync(home, { recursive: true, force: true });
  const airflowPort = port('AIRGATE_FAULT_AIRFLOW_PORT', 38080);
  const bridgePort = port('AIRGATE_FAULT_BRIDGE_PORT', 38181);
  const lbPort = port('AIRGATE_FAULT_LB_PORT', 38100);
  const smtpPort = port('AIRGATE_FAULT_SMTP_PORT', 38105);
  const proxyPort = port('AIRGATE_FAULT_STORE_PROXY_PORT', 38150);
  const dbPrefix = process.env.AIRGATE_FAULT_DB_PREFIX ?? 'scale';
  const mailDir = resolve(home, 'mail');
  const stopMailbox = await startMailbox(mailDir, smtpPort, (address) => address === 'refused@airgate.test');
  const slackPort = port('AIRGATE_FAULT_SLACK_PORT', 38107);
  const slackDir = resolve(home, 'slack');
  const stopSlack = await startSlackStandIn(slackDir, slackPort);
  const stopProxy = await startStoreProxy(proxyPort, proxyPort + 1, { host: '127.0.0.1', port: 5432 });
  const child = spawn(
    resolve(repo, '.venv', 'bin', 'python'),
    [
      ...[resolve(repo, 'airflow_plugin', 'dev', 'devstack.py'), 'up', '--profile', 'scale', '--fresh', '--home', home],
      ...['--airflow-port', String(airflowPort), '--bridge-port', String(bridgePort), '--lb-port', String(lbPort)],
      ...['--dags-folder', resolve(repo, 'test', 'fault', 'dags'), '--db-prefix', dbPrefix, '--timeout', '600'],
      ...['--bridge-database-url', `postgres://postgres@127.0.0.1:${proxyPort}/${dbPrefix}_bridge`],
    ],
    {
      cwd: repo,
      env: {
        ...process.env,
        RECONCILE_INTERVAL_MS: '2000',
        NOTIFY_INTERVAL_MS: '500',
        EFFECTS_INTERVAL_MS: '500',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        SLACK_API_URL: `http://127.0.0.1:${slackPort}/api/`,
        SLACK_BOT_TOKEN: 'xoxb-airgate-fault-suite',
        SLACK_SIGNING_SECRET: 'slack-signing-fault-suite-0123456789',
        AIRGATE_CHANNELS_FILE: resolve(repo, 'test', 'fault', 'support', 'channels.yaml'),
        // 1,000 votes from ten people in a minute are the point here, not abuse.
        RATE_LIMIT_PER_MINUTE: '100000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await waitForReady(child);
  const info = JSON.parse(readFileSync(resolve(home, 'stack.json'), 'utf8')) as {
    airflow_url: string;
    bridge_url: string;
    replica_urls: string[];
    bridge_database: string;
  };
  const secrets = JSON.parse(readFileSync(resolve(home, 'secrets.json'), 'utf8')) as Record<string, string>;
  project.provide('fault', {
    airflowUrl: info.airflow_url,
    bridgeUrl: info.bridge_url,
    replicaUrls: info.replica_urls,
    passwords: JSON.parse(readFileSync(resolve(home, 'passwords.json'), 'utf8')) as Record<string, string>,
    jwtSecret: secrets.jwt_secret!,
    serviceToken: secrets.bridge_service_token!,
    home,
    mailDir,
    slackDir,
    storeProxyControl: `http://127.0.0.1:${proxyPort + 1}`,
    storeUrl: info.bridge_database,
  });
  return async () => {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
    await stopProxy();
    await stopMailbox();
    await stopSlack();
  };
}
