import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openAs, screenshotPath, settle } from '../support/browser.js';
import { bridge, stack, waitForRunEnd } from '../support/clients.js';
import { approvalOf, note, signIn, tokens, triggerRun } from '../support/scenarios.js';

const DAG = '120_01_01_approval_basics';
const seg = encodeURIComponent;

describe('Delegation inside the Airflow UI (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    await signIn();
    browser = await launchChromium();
  });
  afterAll(async () => {
    // The suites share one stack: no delegation of alice's may outlive this file.
    const mine = await bridge('/api/v1/delegations', { token: tokens.alice });
    for (const d of (mine.body.given ?? []) as Array<{ id: string; source: string; state: string }>) {
      if (d.source === 'api' && d.state !== 'revoked' && d.state !== 'ended') await bridge(`/api/v1/delegations/${seg(d.id)}`, { method: 'DELETE', token: tokens.alice });
    }
    await browser?.close();
  });

  it('alice delegates her vote to dave on the Delegations page; dave votes for her from the approval; she revokes', async () => {
    const asAlice = await openAs(browser, 'alice', 'light');
    await asAlice.page.goto(`${stack().airflowUrl}/plugin/delegations`);
    await asAlice.page.getByRole('heading', { name: 'Delegate my vote' }).waitFor();
    await asAlice.page.getByLabel('Deputy').fill('dave');
    const until = new Date(Date.now() + 7 * 24 * 3_600_000);
    const local = new Date(until.getTime() - until.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await asAlice.page.getByLabel('Until').fill(local);
    await asAlice.page.getByLabel(/^Policies/).fill('approval-basics');
    await asAlice.page.getByLabel('Reason').fill('on leave until next week');
    await asAlice.page.getByRole('button', { name: 'Delegate', exact: true }).click();
    await asAlice.page.getByText('Your vote is delegated to dave.').waitFor();
    await asAlice.page.getByRole('button', { name: 'Revoke the delegation to dave' }).waitFor();
    await settle(asAlice.page);
    await asAlice.page.screenshot({ path: screenshotPath('delegations-light'), fullPage: true });
    expect(asAlice.errors).toEqual([]);

    const runId = await triggerRun(DAG, tokens.admin);
    const gate = await approvalOf(runId, 'approve_load', tokens.admin);
    const asDave = await openAs(browser, 'dave', 'dark');
    await asDave.page.goto(`${stack().airflowUrl}/plugin/approvals?approval=${seg(gate.id)}`);
    await asDave.page.getByText(/^dave may vote for alice until/).waitFor();
    await asDave.page.getByLabel('Vote as').selectOption('alice');
    await asDave.page.getByLabel('Reason').fill('report checked for alice');
    await settle(asDave.page);
    await asDave.page.screenshot({ path: screenshotPath('delegation-vote-dark'), fullPage: true });
    await asDave.page.getByRole('button', { name: 'Vote Approve' }).click();
    const vote = asDave.page.getByRole('region', { name: 'Votes' }).getByText(/^dave for alice/);
    await vote.waitFor();
    await vote.scrollIntoViewIfNeeded();
    await settle(asDave.page);
    await asDave.page.screenshot({ path: screenshotPath('delegation-voted-dark'), fullPage: true });
    expect(asDave.errors).toEqual([]);
    await asDave.close();
    expect(await waitForRunEnd(DAG, runId, tokens.admin)).toBe('success');
    expect(await note(DAG, runId, 'approve_load')).toContain('Approve by dave for alice via ui: report checked for alice');

    const revoke = asAlice.page.getByRole('button', { name: 'Revoke the delegation to dave' });
    await revoke.click();
    await revoke.waitFor({ state: 'detached' });
    expect(asAlice.errors).toEqual([]);
    await asAlice.close();
    const after = await bridge('/api/v1/delegations', { token: tokens.alice });
    const made = (after.body.given as Array<{ reason: string | null; state: string }>).find((d) => d.reason === 'on leave until next week');
    expect(made?.state).toBe('revoked');
  });
});
