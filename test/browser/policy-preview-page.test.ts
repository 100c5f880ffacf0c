import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openAs, screenshotPath, settle } from '../support/browser.js';
import { stack } from '../support/clients.js';

describe('Policy preview inside the Airflow UI (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each(['light', 'dark'] as const)('alice previews who must approve a 25 000 EUR payment before triggering it (%s)', async (mode) => {
    const { page, errors, close } = await openAs(browser, 'alice', mode);
    await page.goto(`${stack().airflowUrl}/plugin/policy-preview`);
    await page.getByRole('heading', { name: 'Policy preview' }).waitFor({ timeout: 30_000 });
    await page.getByLabel(/^DAG id/).fill('120_10_03_financial_approval');
    await page.getByLabel(/^Approval task id/).fill('approve_payment');
    await page.getByLabel('Run configuration (JSON)').fill('{"amount": 25000}');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: 'Policy: financial-large' }).waitFor();
    expect(await page.getByRole('group', { name: 'Level 2: controllers' }).textContent()).toContain('admin');
    expect(await page.getByText(/dave: policy "financial-large" excludes dave/).count()).toBe(1);
    await settle(page);
    await page.screenshot({ path: screenshotPath(`policy-preview-${mode}`), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  });
});
