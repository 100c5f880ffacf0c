import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openAs, screenshotPath, settle } from '../support/browser.js';
import { bridge, stack, tokenFor, triggerRun, waitFor } from '../support/clients.js';
import { approvalOf, signIn, waitForTask } from '../support/scenarios.js';

const GATE = '120_05_01_gate_pattern';

describe('Break-glass inside the Airflow UI (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    await signIn();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('carol, on call, bypasses a gate with a reason; the bypass is shown prominently and its review opens for the stewards', async () => {
    const alice = await tokenFor('alice');
    const runId = await triggerRun(GATE, alice);
    const gate = await approvalOf(runId, 'quality_gate', alice);
    const detail = `${stack().airflowUrl}/plugin/approvals?approval=${encodeURIComponent(gate.id)}`;

    const asCarol = await openAs(browser, 'carol', 'light');
    await asCarol.page.goto(detail);
    await asCarol.page.getByRole('heading', { name: 'Break glass' }).waitFor();
    await asCarol.page.getByLabel('Why this cannot wait').fill('stewards unreachable during incident INC-42');
    await asCarol.page.getByRole('button', { name: 'Bypass now' }).click();
    const banner = asCarol.page.getByText(/Bypassed with break-glass by carol/);
    await banner.waitFor();
    await banner.scrollIntoViewIfNeeded();
    await settle(asCarol.page);
    await asCarol.page.screenshot({ path: screenshotPath('break-glass-light') });
    expect(asCarol.errors).toEqual([]);
    await asCarol.close();

    const bypassed = await bridge(`/api/v1/approvals/${gate.id}`, { token: alice });
    expect(bypassed.body).toMatchObject({ state: 'bypassed', bypass: { by: 'carol', reason: 'stewards unreachable during incident INC-42' } });
    // The DAG continues at once: nobody else voted.
    expect(await waitForTask(GATE, runId, 'quality_gate', ['success'])).toBe('success');

    // A steward opens the review from the bypassed approval; the bypass stands out in dark mode too.
    const asBob = await openAs(browser, 'bob', 'dark');
    await asBob.page.goto(detail);
    const seen = asBob.page.getByText(/Bypassed with break-glass by carol/);
    await seen.waitFor();
    await seen.scrollIntoViewIfNeeded();
    await settle(asBob.page);
    await asBob.page.screenshot({ path: screenshotPath('break-glass-dark') });
    await asBob.page.getByRole('link', { name: 'Open the review of this bypass' }).click();
    await asBob.page.getByText('Review of a break-glass bypass by carol').waitFor();
    expect(asBob.errors).toEqual([]);
    await asBob.close();

    const review = await waitFor('the review to be pending for the stewards', async () => {
      const res = await bridge(`/api/v1/approvals/${bypassed.body.bypass.review_id}`, { token: alice });
      return res.body?.state === 'pending' ? res.body : undefined;
    });
    expect(review).toMatchObject({ options: ['Confirm', 'Dispute'], review_of: { approval_id: gate.id, by: 'carol' } });
  });
});
