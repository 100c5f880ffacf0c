/**
 * The contract is what the server does (issue #10, point 14): schemathesis, an outside fuzzer pinned in the Python
 * lock, checks every operation of the bridge's OpenAPI document against a real bridge on the suite's real Airflow.
 *
 * It runs against a second bridge this file starts, so a thousand generated requests touch nothing later files rely
 * on: its own SQLite store, service token and rate limit, and no reconcile loop in the time it runs, so it never takes
 * over the shared stack's HITL tasks; with an empty store it never sends a message nor answers Airflow. People's
 * tokens are still Airflow's own, from /auth/token, and registrations are still checked against Airflow.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stack, tokenFor } from '../support/clients.js';
import { type SecondBridge, repo, startSecondBridge } from '../support/second-bridge.js';

// Fixed, so a failure is reproduced by running the same command again.
const SEED = 20261202;
// With the coverage and stateful phases this makes well over 1,000 cases over the document's operations.
const EXAMPLES_PER_OPERATION = 20;

/** Runs a command to its end and returns its exit code and everything it printed. */
function runToEnd(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, output }));
  });
}

describe('contract: the OpenAPI document is what the bridge does (schemathesis)', () => {
  let bridge: SecondBridge;
  let bridgeUrl: string;
  let serviceToken: string;

  beforeAll(async () => {
    bridge = await startSecondBridge('contract', {
      // The shared stack's channels, so every channel route is mounted; with an empty store nothing is sent.
      AIRGATE_CHANNELS_FILE: join(stack().home, 'channels.yaml'),
      SMTP_URL: 'smtp://127.0.0.1:9',
      // Four-eyes on policy changes, so its routes are mounted and fuzzed too.
      AIRGATE_POLICY_CHANGES: 'four-eyes',
      // One person sends every generated request: the suite's own limit would answer 429 halfway.
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    ({ url: bridgeUrl, serviceToken } = bridge);
  });

  afterAll(() => bridge?.stop());

  it('finds no failure over every operation', { timeout: 600_000 }, async () => {
    const schemathesis = resolve(repo, '.venv', 'bin', 'schemathesis');
    const args = [
      '--config-file',
      resolve(repo, 'test', 'support', 'schemathesis.toml'),
      'run',
      `${bridgeUrl}/api/v1/openapi.json`,
      '--url',
      bridgeUrl,
      '--seed',
      String(SEED),
      '--checks',
      'all',
      '--max-examples',
      String(EXAMPLES_PER_OPERATION),
      '--no-color',
    ];
    // The tokens are in the environment (the config file reads them), not on this line.
    console.log(`$ ${schemathesis} ${args.join(' ')}`);
    const { code, output } = await runToEnd(schemathesis, args, {
      ...process.env,
      AIRGATE_CONTRACT_PERSON_TOKEN: await tokenFor('alice'),
      AIRGATE_CONTRACT_SERVICE_TOKEN: serviceToken,
    });
    console.log(output);
    expect(code, 'schemathesis exit code (its summary is printed above)').toBe(0);
    const [, generated, passed] = /(\d+) generated, (\d+) passed/.exec(output) ?? [];
    expect(Number(generated)).toBeGreaterThanOrEqual(1000);
    expect(passed).toBe(generated);
    const tested = /Tested: (\d+)/.exec(output)?.[1];
    const document = (await (await fetch(`${bridgeUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, object> };
    expect(Number(tested)).toBe(Object.values(document.paths).flatMap((ops) => Object.keys(ops)).length);
  });
});
