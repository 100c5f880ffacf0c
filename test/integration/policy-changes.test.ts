/**
 * Four-eyes on policy changes (issue #15, point 6) on a bridge of its own with AIRGATE_POLICY_CHANGES=four-eyes,
 * on the suite's real Airflow: people are who Airflow's tokens say, admins are Airflow's. An edit of the policies file
 * and a change proposed through the API wait until an admin other than their author approves them; until then the
 * version in force stays, and it is the one the bridge reports and decides under.
 */
import { appendFileSync, copyFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stack, tokenFor, waitFor } from '../support/clients.js';
import { type SecondBridge, repo, startSecondBridge } from '../support/second-bridge.js';

const REFERENCE = resolve(repo, 'bridge', 'examples', 'reference-dags.policies.yaml');

describe('four-eyes on policy changes', () => {
  let bridge: SecondBridge;
  let file: string;
  const tokens: Record<string, string> = {};

  const call = async (path: string, token: string, init: RequestInit = {}) => {
    const res = await fetch(`${bridge.url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const overview = async () => (await call('/api/v1/policies', tokens.alice!)).body;
  const inForceNow = async () => ((await (await fetch(`${bridge.url}/readyz`)).json()) as { details: { policies: string } }).details.policies;

  beforeAll(async () => {
    for (const user of ['alice', 'admin']) tokens[user] = await tokenFor(user);
    // A copy the test may edit, as an operator would edit the deployed file.
    file = join(stack().home, 'four-eyes.policies.yaml');
    copyFileSync(REFERENCE, file);
    bridge = await startSecondBridge('four-eyes', { AIRGATE_POLICY_CHANGES: 'four-eyes', POLICIES_POLL_MS: '500', AIRGATE_POLICIES_FILE: file });
  });

  afterAll(() => bridge?.stop());

  it('an edit of the file waits for an admin; a change its admin author proposed cannot be approved by them; another person’s can', async () => {
    const first = await overview();
    expect(first.in_force).toMatchObject({ state: 'approved', decided_by: 'system', source: file });
    expect(first.pending).toEqual([]);
    expect(await inForceNow()).toBe(first.in_force.version);

    // An operator edits the deployed file: the change is proposed, naming nobody, and nothing changes in force.
    appendFileSync(file, '# reviewed: the demo thresholds stay\n');
    const edited = await waitFor('the file edit to be proposed', async () => (await overview()).pending.find((p: { source: string }) => p.source === file));
    expect(edited).toMatchObject({ state: 'pending', proposed_by: null, base_version: first.in_force.version });
    expect(edited.diff).toContain('+# reviewed: the demo thresholds stay');
    expect(await inForceNow()).toBe(first.in_force.version);

    // The admin proposes a change and may not approve it: refused, audited, and nothing changed.
    const text = readFileSync(file, 'utf8').replace('# reviewed: the demo thresholds stay', '# reviewed by admin');
    const own = await call('/api/v1/policies/changes', tokens.admin!, { method: 'POST', body: JSON.stringify({ text, reason: 'note who reviewed' }) });
    expect(own.status).toBe(201);
    const before = await overview();
    const self = await call(`/api/v1/policies/changes/${own.body.version}/approve`, tokens.admin!, { method: 'POST', body: '{}' });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('four_eyes');
    expect(await overview()).toEqual(before);
    expect(await inForceNow()).toBe(first.in_force.version);
    const refused = await call(`/api/v1/audit?action=policy.refused`, tokens.admin!);
    expect(refused.body.items.map((e: { actor: string; details: { code: string } }) => [e.actor, e.details.code])).toEqual([['admin', 'four_eyes']]);

    // alice is no admin: she may propose, not approve.
    const notAdmin = await call(`/api/v1/policies/changes/${edited.version}/approve`, tokens.alice!, { method: 'POST', body: '{}' });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.code).toBe('not_admin');

    // The file's edit names no author: the admin approves it, and it is in force at once.
    const approved = await call(`/api/v1/policies/changes/${edited.version}/approve`, tokens.admin!, { method: 'POST', body: JSON.stringify({ reason: 'comment only' }) });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: 'approved', decided_by: 'admin' });
    expect(await inForceNow()).toBe(edited.version);
    // The admin's own change was proposed against the version no longer in force: approving it now would undo the edit.
    expect((await overview()).pending.map((p: { version: string }) => p.version)).toEqual([own.body.version]);
  });
});
