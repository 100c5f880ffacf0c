import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openAs, screenshotPath, settle } from '../support/browser.js';
import { bridge, stack, tokenFor } from '../support/clients.js';

/**
 * Four-eyes on the policies in Chromium, on the shared stack (which runs with AIRGATE_POLICY_CHANGES=four-eyes):
 * alice proposes a change on the Policies page, the admin sees it waiting with its diff and rejects it with a
 * reason. Rejected, so the policies the other files decide under stay as they are.
 */
describe('Policies page inside the Airflow UI (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('alice proposes a change; the admin sees it waiting with its diff and rejects it; the version in force stays', async () => {
    const admin = await tokenFor('admin');
    const inForce = (await bridge('/api/v1/policies', { token: admin })).body.in_force.version as string;
    const page = `${stack().airflowUrl}/plugin/policies`;

    const asAlice = await openAs(browser, 'alice', 'light');
    await asAlice.page.goto(page);
    const text = asAlice.page.getByLabel('Policies file (YAML)');
    await text.waitFor();
    const current = await text.inputValue();
    await text.fill(`# Night shift: one steward is enough until 06:00 (proposed for review)\n${current}`);
    await asAlice.page.getByLabel('Why this change').fill('night shift coverage');
    await asAlice.page.getByRole('button', { name: 'Propose' }).click();
    const proposed = await asAlice.page.getByText(/proposed; it takes effect once another admin approves it/).textContent();
    const version = /Version ([0-9a-f]{12})/.exec(proposed ?? '')?.[1];
    expect(version).toBeDefined();
    expect(asAlice.errors).toEqual([]);
    await asAlice.close();

    const asAdmin = await openAs(browser, 'admin', 'dark');
    await asAdmin.page.goto(page);
    await asAdmin.page.getByText(/policy changes? waits? for approval/).waitFor();
    const card = asAdmin.page.locator('.chakra-card__root', { hasText: `Change to version ${version}` });
    await card.getByText('+# Night shift: one steward is enough until 06:00 (proposed for review)').waitFor();
    await card.scrollIntoViewIfNeeded();
    await settle(asAdmin.page);
    await asAdmin.page.screenshot({ path: screenshotPath('policies-dark') });
    await card.getByLabel('Reason').fill('coverage stays two stewards');
    await card.getByRole('button', { name: 'Reject' }).click();
    await asAdmin.page.getByText(`Version ${version} rejected.`).waitFor();
    await card.waitFor({ state: 'detached' });
    expect(asAdmin.errors).toEqual([]);
    await asAdmin.close();

    const after = await bridge(`/api/v1/policies/changes/${version}`, { token: admin });
    expect(after.body).toMatchObject({ state: 'rejected', proposed_by: 'alice', decided_by: 'admin', decision_reason: 'coverage stays two stewards' });
    expect((await bridge('/api/v1/policies', { token: admin })).body.in_force.version).toBe(inForce);
  });
});
