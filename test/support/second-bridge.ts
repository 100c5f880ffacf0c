/**
 * A second bridge beside the shared stack's, for files that need one of their own (the contract's fuzzer, four-eyes
 * policy changes): its own SQLite store, service token, link and audit keys, on the shared stack's real Airflow, and
 * no reconcile loop while it runs, so it never takes over the shared bridge's HITL tasks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { channelSecrets } from './chat.js';
import { stack, waitFor } from './clients.js';

export const repo = resolve(import.meta.dirname, '..', '..');

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export interface SecondBridge {
  url: string;
  serviceToken: string;
  /** Its folder under the stack's home (store, checkpoint, signals). */
  dir: string;
  stop(): Promise<void>;
}

/** Starts a bridge from bridge/dist in `.airgate/<home>/<name>` (emptied first), with `env` over the defaults, once ready. */
export async function startSecondBridge(name: string, env: NodeJS.ProcessEnv = {}): Promise<SecondBridge> {
  const { airflowUrl, home, passwords } = stack();
  const dir = join(home, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const secrets = JSON.parse(readFileSync(join(home, 'secrets.json'), 'utf8')) as Record<string, string>;
  const url = `http://127.0.0.1:${await freePort()}`;
  const serviceToken = randomBytes(32).toString('base64url');
  const key = () => randomBytes(32).toString('base64url');
  const bridge: ChildProcess = spawn('node', [resolve(repo, 'bridge', 'dist', 'main.js')], {
    cwd: repo,
    env: {
      ...process.env,
      ...channelSecrets,
      PORT: new URL(url).port,
      AIRFLOW_URL: airflowUrl,
      AIRFLOW_USERNAME: 'airgate',
      AIRFLOW_PASSWORD: passwords.airgate,
      // Airflow's signing key: the bridge verifies people's tokens as the shared stack's bridge does.
      AIRFLOW_JWT_SECRET: secrets.jwt_secret,
      AIRGATE_SERVICE_TOKEN: serviceToken,
      AIRGATE_LINK_SECRET: key(),
      AIRGATE_AUDIT_KEY: key(),
      AIRGATE_DB_FILE: join(dir, 'bridge.sqlite'),
      AIRGATE_AUDIT_CHECKPOINT_FILE: join(dir, 'audit-checkpoint.json'),
      AIRGATE_SIGNALS_DIR: join(dir, 'signals'),
      // The shared stack's bridge owns its HITL tasks: this one must not register them (an hour outlasts the run).
      RECONCILE_INTERVAL_MS: '3600000',
      AIRGATE_POLICIES_FILE: resolve(repo, 'bridge', 'examples', 'reference-dags.policies.yaml'),
      AIRGATE_PUBLIC_URL: url,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitFor(`the ${name} bridge to be ready`, async () => {
    if (bridge.exitCode !== null) throw new Error(`the ${name} bridge exited with ${bridge.exitCode}`);
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    return res?.ok ? true : undefined;
  });
  return {
    url,
    serviceToken,
    dir,
    async stop() {
      if (bridge.exitCode !== null) return;
      bridge.kill('SIGTERM');
      await new Promise((done) => bridge.once('exit', done));
    },
  };
}
