import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openAs, screenshotPath, settle } from '../support/browser.js';
import { bridge, stack, tokenFor, triggerRun, waitFor, waitForRunEnd } from '../support/clients.js';

const DAG = '120_10_04_content_moderation';
const seg = encodeURIComponent;

type Item = { id: string; task_id: string; subject: string; state: string; votes: Array<{ user: string; option: string; reason: string | null; channel: string }> };

describe('The review queue inside the Airflow UI (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('bob claims the post he opens, keeps one and removes one with the keys, and removes two more in bulk', async () => {
    const [alice, admin] = [await tokenFor('alice'), await tokenFor('admin')];
    // A community of its own, so no other run's decisions move its flagging: seed 1 flags four routine posts, two severe.
    const runId = await triggerRun(DAG, alice, { community: 'review-queue-browser' });
    const items = async () =>
      (await bridge(`/api/v1/approvals?state=all&dag_id=${DAG}&run_id=${seg(runId)}&limit=100`, { token: admin })).body.items as Item[];
    await waitFor('six flagged posts', async () => ((await items()).length === 6 ? true : undefined));

    /** bob's queue, narrowed to this DAG's routine posts, with the page focused where the keys work. */
    const openQueue = async (page: Page) => {
      await page.goto(`${stack().airflowUrl}/plugin/review-queue`);
      await page.getByLabel('DAG id').fill(DAG);
      await page.getByLabel('Policy').fill('content-moderation');
      await page.getByText(/^Claimed by you until/).waitFor({ timeout: 30_000 });
      await openRow(page).click();
    };
    const openRow = (page: Page) => page.locator('tr[aria-current="true"]');
    /** Waits until a decision moved the queue on to the next post, and bob holds it. */
    const movedOn = async (page: Page, from: string | null) => {
      await waitFor('the next post to open', async () => ((await openRow(page).textContent()) !== from ? true : undefined), 30_000);
      await page.getByText(/^Claimed by you until/).waitFor();
    };

    const dark = await openAs(browser, 'bob', 'dark');
    await openQueue(dark.page);
    await settle(dark.page);
    await dark.page.screenshot({ path: screenshotPath('queue-dark'), fullPage: true });
    expect(dark.errors).toEqual([]);
    await dark.close();

    const { page, errors, close } = await openAs(browser, 'bob');
    await openQueue(page);
    await settle(page);
    await page.screenshot({ path: screenshotPath('queue-light'), fullPage: true });
    // The open post is claimed: the bridge shows bob's claim on one of the run's routine posts.
    expect((await items()).filter((a) => (a as Item & { claim: { by: string } | null }).claim?.by === 'bob')).toHaveLength(1);

    let open = await openRow(page).textContent();
    await page.keyboard.press('a');
    await movedOn(page, open);
    open = await openRow(page).textContent();
    await page.keyboard.press('r');
    await page.getByLabel('Reason for Remove').fill('insult');
    await page.keyboard.press('Enter');
    await movedOn(page, open);

    await page.keyboard.press('x');
    await page.keyboard.press('j');
    await page.keyboard.press('x');
    const bulk = page.getByRole('region', { name: 'Decide the selected items' });
    await bulk.getByText('2 items selected').waitFor();
    await bulk.getByLabel('Decision for all').selectOption('Remove');
    await bulk.getByLabel('One reason for all').fill('spam wave');
    await bulk.getByRole('button', { name: 'Remove: 2 items' }).click();
    await bulk.getByText('2 decided, 0 refused.').waitFor();
    await settle(page);
    await page.screenshot({ path: screenshotPath('queue-bulk-light'), fullPage: true });
    expect(errors).toEqual([]);
    await close();

    const decided = (await items()).filter((a) => a.task_id === 'review_routine');
    expect(decided.map((a) => a.state).sort()).toEqual(['approved', 'rejected', 'rejected', 'rejected']);
    expect(decided.flatMap((a) => a.votes.map((v) => `${v.user}:${v.option}:${v.reason ?? ''}:${v.channel}`)).sort()).toEqual([
      'bob:Keep::ui',
      'bob:Remove:insult:ui',
      'bob:Remove:spam wave:ui',
      'bob:Remove:spam wave:ui',
    ]);

    // carol decides the severe posts; the run ends.
    const carol = await tokenFor('carol');
    const severe = (await items()).filter((a) => a.task_id === 'review_severe').map((a) => a.id);
    const res = await bridge('/api/v1/queue/decisions', { method: 'POST', token: carol, body: JSON.stringify({ approval_ids: severe, option: 'Keep' }) });
    expect(res.body).toMatchObject({ counted: 2, refused: 0 });
    expect(await waitForRunEnd(DAG, runId, alice)).toBe('success');
  });
});
