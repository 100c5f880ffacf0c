import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openAs, screenshotPath, settle } from '../support/browser.js';
import {
  bridge,
  stack,
  taskInstance,
  tokenFor,
  triggerRun,
  waitFor,
  waitForApproval,
  waitForRunEnd,
} from '../support/clients.js';
import { approvalOf } from '../support/scenarios.js';

const BASICS = '120_01_01_approval_basics';
const MULTI = '120_01_04_multi_level';

describe('The airgate screens inside the Airflow UI (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('alice finds a pending approval in the inbox, opens it, approves with a reason, and the run completes', async () => {
    const alice = await tokenFor('alice');
    const runId = await triggerRun(BASICS, alice);
    const approval = await waitForApproval(runId, alice);
    const subject = `Load ${runId} into production?`;

    for (const mode of ['dark', 'light'] as const) {
      const { page, errors, close } = await openAs(browser, 'alice', mode);
      await page.goto(`${stack().airflowUrl}/plugin/approvals`);
      const row = page.getByRole('button', { name: subject, exact: true });
      await row.waitFor({ timeout: 30_000 });
      await settle(page);
      await page.screenshot({ path: screenshotPath(`inbox-${mode}`), fullPage: true });

      await row.click();
      await page.getByRole('heading', { name: subject }).waitFor();
      await page.getByText('approval.registered').first().waitFor();
      await settle(page);
      await page.screenshot({ path: screenshotPath(`approval-${mode}`), fullPage: true });
      if (mode === 'light') {
        await page.getByLabel('Reason').fill('checked in the browser');
        await page.getByRole('button', { name: 'Vote Approve' }).click();
        await page.getByText('Your vote “Approve” was recorded.').waitFor();
        await page.getByText('This approval is approved').waitFor();
        await page.screenshot({ path: screenshotPath('approval-decided-light'), fullPage: true });
      }
      expect(errors).toEqual([]);
      await close();
    }

    const decided = await bridge(`/api/v1/approvals/${approval.id}`, { token: alice });
    expect(decided.body).toMatchObject({
      state: 'approved',
      votes: [{ user: 'alice', option: 'Approve', reason: 'checked in the browser', channel: 'ui' }],
    });
    expect(await waitForRunEnd(BASICS, runId, alice)).toBe('success');
    expect((await taskInstance(BASICS, runId, 'approve_load', alice)).note).toContain('Approve by alice via ui');
  });

  it('refuses alice approving her own request, then bob and carol approve it and the gate passes', async () => {
    const alice = await tokenFor('alice');
    const runId = await triggerRun(MULTI, alice);
    const approval = await approvalOf(runId, 'quorum_gate', alice);
    const detail = `${stack().airflowUrl}/plugin/approvals?approval=${encodeURIComponent(approval.id)}`;

    const asAlice = await openAs(browser, 'alice');
    await asAlice.page.goto(detail);
    await asAlice.page.getByRole('button', { name: 'Vote Approve' }).click();
    const refusal = asAlice.page.getByRole('alert').filter({ hasText: 'Your vote was not recorded' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('does not let the requester approve their own request');
    await asAlice.page.screenshot({ path: screenshotPath('approval-refused-light'), fullPage: true });
    expect(asAlice.errors).toEqual([]);
    await asAlice.close();

    for (const user of ['bob', 'carol']) {
      const { page, errors, close } = await openAs(browser, user);
      await page.goto(detail);
      await page.getByRole('button', { name: 'Vote Approve' }).click();
      await page.getByText('Your vote “Approve” was recorded.').waitFor();
      expect(errors).toEqual([]);
      await close();
    }
    await waitFor('quorum_gate to pass', async () =>
      (await taskInstance(MULTI, runId, 'quorum_gate', alice)).state === 'success' ? true : undefined,
    );
  });

  it('shows the audit trail with its chain verified, in light and dark', async () => {
    for (const mode of ['light', 'dark'] as const) {
      const { page, errors, close } = await openAs(browser, 'alice', mode);
      await page.goto(`${stack().airflowUrl}/plugin/audit`);
      await page.getByText(/Chain verified/).waitFor({ timeout: 30_000 });
      await settle(page);
      await page.screenshot({ path: screenshotPath(`audit-${mode}`), fullPage: true });
      expect(errors).toEqual([]);
      await close();
    }
  });

  it('shows the dashboard, messages and run actions screens in light and dark', async () => {
    const alice = await tokenFor('alice');
    const runId = await triggerRun(BASICS, alice);
    for (const mode of ['light', 'dark'] as const) {
      const { page, errors, close } = await openAs(browser, 'alice', mode);
      await page.goto(`${stack().airflowUrl}/`);
      await page.getByRole('heading', { name: 'Approvals dashboard' }).waitFor({ timeout: 30_000 });
      await page.getByText(/Loading the statistics/).waitFor({ state: 'hidden' });
      await settle(page);
      await page.screenshot({ path: screenshotPath(`dashboard-${mode}`), fullPage: true });

      await page.goto(`${stack().airflowUrl}/plugin/messages`);
      await page.getByRole('heading', { name: 'Messages' }).waitFor({ timeout: 30_000 });
      await page.getByText(/Loading messages/).waitFor({ state: 'hidden' });
      await settle(page);
      await page.screenshot({ path: screenshotPath(`messages-${mode}`), fullPage: true });

      await page.goto(`${stack().airflowUrl}/dags/${BASICS}/runs/${encodeURIComponent(runId)}/plugin/run-actions`);
      await page.getByRole('heading', { name: 'Run actions' }).waitFor({ timeout: 30_000 });
      await settle(page);
      await page.screenshot({ path: screenshotPath(`run-actions-${mode}`), fullPage: true });
      expect(errors).toEqual([]);
      await close();
    }
  });

  it('clears a task through the run actions with the confirmation dialog, and Airflow shows it cleared', async () => {
    const alice = await tokenFor('alice');
    const runId = await triggerRun(BASICS, alice);
    await waitForApproval(runId, alice);
    await waitFor('prepare_report to succeed', async () =>
      (await taskInstance(BASICS, runId, 'prepare_report', alice)).state === 'success' ? true : undefined,
    );

    const { page, errors, close } = await openAs(browser, 'alice');
    await page.goto(
      `${stack().airflowUrl}/dags/${BASICS}/runs/${encodeURIComponent(runId)}/tasks/prepare_report/plugin/task-actions`,
    );
    await page.getByRole('button', { name: 'Clear task' }).click();
    const dialog = page.getByRole('dialog', { name: 'Clear task' });
    await dialog.getByLabel('Reason').fill('rerun the report');
    await dialog.getByRole('button', { name: 'Review' }).click();
    await dialog.getByTestId('action-effect').waitFor();
    await settle(page);
    await page.screenshot({ path: screenshotPath('action-confirm-light') });
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByText('Clear task: done.').waitFor();
    await close();

    await waitFor('prepare_report to be cleared', async () => {
      const { state } = await taskInstance(BASICS, runId, 'prepare_report', alice);
      return state !== 'success' ? state : undefined;
    });
    expect(errors).toEqual([]);
  });
});
