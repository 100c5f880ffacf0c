/** Helpers for the one-click links the bridge mails: find one in the suite's mailbox, and use it like a person. */
import { expect } from 'vitest';
import { stack, waitFor } from './clients.js';
import { receivedMail } from './mailbox.js';

/** Waits for a mail to `to` about `runId` and returns the URL of its `option` link. */
export const mailedLink = (runId: string, to: string, option: string) =>
  waitFor(`a mail to ${to} about ${runId}`, async () => {
    const mail = (await receivedMail(stack().mailDir)).find((m) => m.to.includes(to) && m.text.includes(runId));
    return mail && new RegExp(`href="([^"]+/a/[^"]+)"[^>]*>\\s*${option}\\s*<`).exec(mail.html)?.[1]?.replaceAll('&amp;', '&');
  });

/** Opens a one-click link (a GET only shows the confirmation form) and confirms it; returns the POST's status. */
export async function clickAndConfirm(link: string, reason = '') {
  const page = await fetch(link);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<form method="post">');
  const posted = await fetch(link, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ reason }) });
  return posted.status;
}
