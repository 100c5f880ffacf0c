import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath, signIn } from '../support/browser.js';
import { bridge, stack, taskInstance, tokenFor, triggerRun, waitForApproval, waitForRunEnd } from '../support/clients.js';

const DAG = '120_01_01_approval_basics';

describe('Approvals page inside the Airflow UI (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('alice signs in, approves a pending approval with a reason, and the run completes', async () => {
    const alice = await tokenFor('alice');
    const runId = await triggerRun(DAG, alice);
    const approval = await waitForApproval(runId, alice);
    const subject = `Load ${runId} into production?`;

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    await signIn(page, 'alice');
    await page.goto(`${stack().airflowUrl}/plugin/approvals`);
    await expect.poll(() => page.getByRole('heading', { name: 'Approvals' }).first().isVisible()).toBe(true);
    const approve = page.getByRole('button', { name: `Approve ${subject}` });
    await approve.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('approvals-pending'), fullPage: true });

    await approve.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('checked in the browser');
    // Let the dialog's open animation finish so the screenshot shows it as a person sees it.
    await expect.poll(() => dialog.evaluate((el) => getComputedStyle(el).opacity)).toBe('1');
    await page.screenshot({ path: screenshotPath('approval-dialog') });
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText('was recorded').waitFor();
    await page.screenshot({ path: screenshotPath('approvals-decided'), fullPage: true });

    const decided = await bridge(`/api/v1/approvals/${approval.id}`, { token: alice });
    expect(decided.body).toMatchObject({
      state: 'approved',
      votes: [{ user: 'alice', option: 'Approve', reason: 'checked in the browser', channel: 'ui' }],
    });
    expect(await waitForRunEnd(DAG, runId, alice)).toBe('success');
    expect((await taskInstance(DAG, runId, 'approve_load', alice)).note).toContain('Approve by alice via ui');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
