/**
 * Policy dry-run on the real Airflow and bridge: "who must approve this, by when, through which channels?" before a
 * run exists, checked against what registration then does; and `airgate policies check` over every reference DAG.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bridge, stack, waitForRunEnd } from '../support/clients.js';
import { approvalOf, signIn, tokens, triggerRun, vote } from '../support/scenarios.js';

const repo = resolve(import.meta.dirname, '..', '..');
const DAG = '120_10_03_financial_approval';

beforeAll(signIn);

const dryRun = (body: Record<string, unknown>, token = tokens.alice) =>
  bridge('/api/v1/policies/dry-run', { method: 'POST', token, body: JSON.stringify(body) });

/** Runs `airgate policies check` (the package's console script, as a module) to its end. */
function policiesCheck(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // The CLI parses the DAGs folder with Airflow's DagBag: a home of its own, so it touches nothing of the stack's.
  const airflowHome = join(stack().home, 'policies-check');
  mkdirSync(airflowHome, { recursive: true });
  const env = { ...process.env, AIRFLOW_HOME: airflowHome, AIRFLOW__CORE__LOAD_EXAMPLES: 'False' };
  const cli = [resolve(repo, '.venv', 'bin', 'python'), '-m', 'airgate.cli', 'policies', 'check'];
  const policies = resolve(repo, 'bridge', 'examples', 'reference-dags.policies.yaml');
  return new Promise((done, fail) => {
    const child = spawn(cli[0]!, [...cli.slice(1), policies, '--dags', resolve(repo, 'dags'), '--bridge', stack().bridgeUrl, '--token', tokens.alice, ...args], {
      cwd: repo,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

describe.concurrent('policy dry-run', () => {
  it('120_10_03 with 25 000 EUR: the dry-run names financial-large, its two levels and who may decide each; the triggered run is registered under it', async () => {
    const conf = { amount: 25_000, beneficiary: 'Northwind Ltd', reference: `INV-dry-run-${Date.now()}`, seed: 42 };
    const res = await dryRun({ dag_id: DAG, task_id: 'approve_payment', conf });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const preview = res.body;
    expect(preview).toMatchObject({
      policy: 'financial-large',
      policy_error: null,
      reachable: true,
      problems: [],
      levels: [
        {
          name: 'finance',
          reachable: true,
          // dave owns the DAG (Airflow says so): the policy's segregation excludes him.
          groups: [{ rule: 'any', needed: 1, people: [{ user: 'bob' }, { user: 'carol' }], excluded: [{ user: 'dave', reason: expect.stringContaining('excludes dave') }] }],
        },
        { name: 'controllers', reachable: true, groups: [{ rule: 'any', needed: 1, people: [{ user: 'carol' }, { user: 'admin' }], excluded: [] }] },
      ],
    });
    const verdicts = Object.fromEntries((preview.policies as Array<{ name: string; verdict: string }>).map((p) => [p.name, p.verdict]));
    expect(verdicts).toMatchObject({ 'financial-large': 'matched', 'financial-standard': 'shadowed', default: 'shadowed', 'approval-basics': 'dag_id' });
    // The channels file routes every policy's notifications; each person is reached at least in the bridge's messages.
    expect(preview.levels[0].groups[0].people[0].channels).toContain('messages');

    const runId = await triggerRun(DAG, tokens.alice, conf);
    const gate = await approvalOf(runId, 'approve_payment');
    expect(gate).toMatchObject({ policy: preview.policy, level: 1, progress: { levels: 2, level_name: 'finance', needed: 1 } });
    expect((await bridge(`/api/v1/approvals/${gate.id}`, { token: tokens.alice })).body.warnings).toEqual([]);
    // A person the dry-run listed decides; the payment is rejected so the run ends here.
    expect((await vote('bob', gate.id, { option: 'Reject', reason: 'dry-run test: not to be paid' })).body.state).toBe('rejected');
    expect(await waitForRunEnd(DAG, runId, tokens.alice)).toBeDefined();
  });

  it('a condition that cannot be evaluated is reported as registration would hold it, and a small amount takes the one-level policy', async () => {
    const held = (await dryRun({ dag_id: DAG, task_id: 'approve_payment', conf: { amount: 'a lot' } })).body;
    expect(held).toMatchObject({ policy: null, reachable: false, policy_error: expect.stringContaining('policy "financial-large": cannot evaluate amount >= 10000') });
    const small = (await dryRun({ dag_id: DAG, task_id: 'approve_payment', conf: { amount: 400 }, requester: 'bob' })).body;
    // bob would trigger it: he may not approve his own request, which leaves carol.
    expect(small).toMatchObject({ policy: 'financial-standard', reachable: true, levels: [{ groups: [{ people: [{ user: 'carol' }], excluded: [{ user: 'bob' }, { user: 'dave' }] }] }] });
  });

  it('refuses a malformed request naming the field, a task the DAG does not have, and no token', async () => {
    expect((await dryRun({ dag_id: DAG })).body.error).toMatchObject({ code: 'bad_request', field: 'task_id' });
    expect((await dryRun({ dag_id: DAG, task_id: 'no_such_task' })).body.error).toMatchObject({ code: 'not_found', field: 'task_id' });
    expect((await bridge('/api/v1/policies/dry-run', { method: 'POST', body: JSON.stringify({ dag_id: DAG, task_id: 'approve_payment' }) })).status).toBe(401);
  });

  it('airgate policies check: every approval task of the reference DAGs has a policy whose quorum can be met', async () => {
    const checked = await policiesCheck();
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/valid; \d+ approval tasks, each with a policy whose quorum can be met/);
    // Run by nobody (a schedule), the manager-approved purchase of 120.6.4 has no requester whose manager could decide.
    const unattended = await policiesCheck('--unattended');
    expect(unattended.code).toBe(1);
    // Airflow's own log lines (timestamped) are not the command's.
    const lines = unattended.stderr.trim().split('\n').filter((line) => !/^\d{4}-\d\d-\d\dT/.test(line));
    expect(lines).toEqual(['120_06_04_manager_escalation.approve_purchase: level "manager": "manager" needs one of nobody']);
  });
});
