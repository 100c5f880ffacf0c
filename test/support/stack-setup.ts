import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { CHAT_HOST_PLACEHOLDER, SLACK_API_PATH, channelSecrets, startChatInbox } from './chat.js';
import { classifyRestarts, killsFile } from './kills.mjs';
import { startMailbox } from './mailbox.js';

export interface StackInfo {
  airflowUrl: string;
  bridgeUrl: string;
  passwords: Record<string, string>;
  home: string;
  /** Where the suite's SMTP server keeps what the bridge mailed. */
  mailDir: string;
  /** Where the suite's stand-ins for Teams and Slack keep what the bridge posted. */
  chatDir: string;
  outputDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

const repo = resolve(import.meta.dirname, '..', '..');

/** Starts a fresh Airflow + bridge (own home, own ports) for the whole suite and stops it afterwards. */
export default async function setup(project: TestProject) {
  const home = resolve(repo, '.airgate', process.env.AIRGATE_TEST_HOME ?? 'test');
  rmSync(home, { recursive: true, force: true });
  const airflowPort = process.env.AIRGATE_TEST_AIRFLOW_PORT ?? '28080';
  const bridgePort = process.env.AIRGATE_TEST_BRIDGE_PORT ?? '28181';
  const smtpPort = Number(process.env.AIRGATE_TEST_SMTP_PORT ?? Number(airflowPort) + 25);
  const mailDir = resolve(home, 'mail');
  const stopMailbox = await startMailbox(mailDir, smtpPort);
  const chatPort = Number(airflowPort) + 26;
  const chatDir = resolve(home, 'chat');
  const stopChat = await startChatInbox(chatDir, chatPort);
  // The channels file names Teams URLs on a placeholder host; this stack's copy points them at its chat inbox.
  const channelsFile = resolve(home, 'channels.yaml');
  mkdirSync(home, { recursive: true });
  writeFileSync(
    channelsFile,
    readFileSync(resolve(repo, 'test', 'support', 'channels.yaml'), 'utf8').replaceAll(CHAT_HOST_PLACEHOLDER, `http://127.0.0.1:${chatPort}`),
  );
  const metadata = await airflowMetadata(process.env.AIRGATE_TEST_HOME ?? 'test');
  const child = spawn(
    resolve(repo, '.venv', 'bin', 'python'),
    [
      ...[resolve(repo, 'airflow_plugin', 'dev', 'devstack.py'), 'up', '--home', home, '--airflow-port', airflowPort, '--bridge-port', bridgePort],
      // Each component may take this long to answer: on a loaded 2-core machine the api-server's start alone took 4 minutes.
      ...['--timeout', '600'],
    ],
    {
      cwd: repo,
      env: {
        ...process.env,
        RECONCILE_INTERVAL_MS: process.env.RECONCILE_INTERVAL_MS ?? '1000',
        HITL_SETTLE_MS: String(SUITE_HITL_SETTLE_MS),
        // Airflow names the database error it answers 500 for, so scenarios retry SQLite's lock and nothing else.
        AIRFLOW__API__EXPOSE_STACKTRACE: 'True',
        NOTIFY_INTERVAL_MS: '500',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        SLACK_API_URL: `http://127.0.0.1:${chatPort}${SLACK_API_PATH}`,
        AIRGATE_CHANNELS_FILE: channelsFile,
        ...channelSecrets,
        ...metadata,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await waitForReady(child);
  const info = JSON.parse(readFileSync(resolve(home, 'stack.json'), 'utf8')) as { airflow_url: string; bridge_url: string };
  project.provide('stack', {
    airflowUrl: info.airflow_url,
    bridgeUrl: info.bridge_url,
    passwords: JSON.parse(readFileSync(resolve(home, 'passwords.json'), 'utf8')) as Record<string, string>,
    home,
    mailDir,
    chatDir,
    outputDir: resolve(repo, 'test-output'),
  });
  return async () => {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
    await stopMailbox();
    await stopChat();
    reportRestarts(resolve(home, 'restarts.json'));
  };
}

/**
 * Airflow's metadata database for the suite: a fresh PostgreSQL database (127.0.0.1:5432 runs on every development
 * machine and in CI), because under a whole suite's load SQLite's single writer lock ("database is locked") crashes
 * Airflow's scheduler. AIRGATE_TEST_AIRFLOW_DB=sqlite keeps the dev stack's own SQLite file.
 */
async function airflowMetadata(name: string): Promise<Record<string, string>> {
  if (process.env.AIRGATE_TEST_AIRFLOW_DB === 'sqlite') return {};
  const server = process.env.AIRGATE_TEST_POSTGRES ?? 'postgres@127.0.0.1:5432';
  const database = `airgate_it_${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  const admin = new pg.Client({ connectionString: `postgres://${server}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  return { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `postgresql+psycopg2://${server}/${database}` };
}

/**
 * How long after a HITL task parks the suite's bridge answers it. The bridge's default (10 s, bridge/src/effects/apply.ts)
 * covers a responsive machine; on this 2-core machine with the checks lane beside the suite, the scheduler handled
 * a parking workload's exit 11.8 s after the park once, and the early answer failed the task
 * (docs/airflow-hitl-readiness.md, "The two races"). The bench sets its own (the default) to measure latency.
 */
export const SUITE_HITL_SETTLE_MS = Number(process.env.HITL_SETTLE_MS ?? 20_000);

/** A component of the stack that exited while the suite ran (the dev stack restarted it), as restarts.json lists it. */
interface Restart {
  component: string;
  exit_code: number;
  at: string;
  log: string;
}

/** Says which components crashed during the suite: the dev stack brings them back, so no test may notice. */
function reportRestarts(file: string) {
  if (!existsSync(file)) return;
  const kills = existsSync(killsFile(file)) ? (JSON.parse(readFileSync(killsFile(file), 'utf8')) as Array<{ component: string; at: string }>) : [];
  const { crashes, killed } = classifyRestarts(JSON.parse(readFileSync(file, 'utf8')) as Restart[], kills);
  for (const r of crashes) console.warn(`airgate stack: ${r.component} exited with ${r.exit_code} at ${r.at} and was restarted; see ${r.log}`);
  for (const r of killed) console.warn(`airgate stack: ${r.component} was killed on purpose by a test at ${r.at} and restarted`);
}

/** Resolves once the dev stack prints READY; fails with its last output when it exits first. */
export function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((ready, fail) => {
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('airgate: READY')) ready();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code) => fail(new Error(`devstack exited with ${code}:\n${output.slice(-2000)}`)));
  });
}
