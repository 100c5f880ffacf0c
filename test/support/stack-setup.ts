import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { CHAT_HOST_PLACEHOLDER, channelSecrets, startChatInbox } from './chat.js';
import { startMailbox } from './mailbox.js';

export interface StackInfo {
  airflowUrl: string;
  bridgeUrl: string;
  passwords: Record<string, string>;
  home: string;
  /** Where the suite's SMTP server keeps what the bridge mailed. */
  mailDir: string;
  /** Where the suite's stand-in for Teams keeps the cards the bridge posted. */
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
  const child = spawn(
    resolve(repo, '.venv', 'bin', 'python'),
    ['-m', 'airgate.devstack', 'up', '--home', home, '--airflow-port', airflowPort, '--bridge-port', bridgePort],
    {
      cwd: repo,
      env: {
        ...process.env,
        RECONCILE_INTERVAL_MS: process.env.RECONCILE_INTERVAL_MS ?? '1000',
        NOTIFY_INTERVAL_MS: '500',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        AIRGATE_CHANNELS_FILE: channelsFile,
        ...channelSecrets,
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
  };
}

function waitForReady(child: ChildProcess): Promise<void> {
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
