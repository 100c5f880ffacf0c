import { beforeAll, describe, expect, it } from 'vitest';
import { receivedMail } from '../support/mailbox.js';
import { bridge, stack, taskInstance, tokenFor, triggerRun, waitFor, waitForApproval, waitForRunEnd } from '../support/clients.js';

const DAG = '120_01_01_approval_basics';

describe('an approval requested by email is decided through its one-click link (real SMTP, real Airflow)', () => {
  let alice: string;
  beforeAll(async () => {
    alice = await tokenFor('alice');
  });

  it('bob gets the mail, the link page changes nothing, posting it approves, and the DAG continues', async () => {
    const runId = await triggerRun(DAG, alice);
    const approval = await waitForApproval(runId, alice);
    const mail = await waitFor(`a mail to bob about ${runId}`, async () =>
      (await receivedMail(stack().mailDir)).find((m) => m.to.includes('bob@airgate.test') && m.text.includes(runId)),
    );
    const approveLink = /href="([^"]+\/a\/[^"]+)"[^>]*>\s*Approve\s*</.exec(mail.html)?.[1];
    expect(approveLink).toBeDefined();
    const link = approveLink!.replaceAll('&amp;', '&');

    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    expect((await bridge(`/api/v1/approvals/${approval.id}`, { token: alice })).body.state).toBe('pending');

    const decided = await fetch(link, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ reason: 'checked from my inbox' }),
    });
    expect(decided.status).toBe(200);
    expect((await bridge(`/api/v1/approvals/${approval.id}`, { token: alice })).body).toMatchObject({
      state: 'approved',
      votes: [{ user: 'bob', option: 'Approve', reason: 'checked from my inbox', channel: 'email' }],
    });
    expect((await fetch(link, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' })).status).toBe(410);

    expect(await waitForRunEnd(DAG, runId, alice)).toBe('success');
    expect((await taskInstance(DAG, runId, 'approve_load', alice)).note).toContain('Approve by bob via email: checked from my inbox');
  });
});
