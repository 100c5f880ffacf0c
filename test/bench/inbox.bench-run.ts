import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { launchChromium, signIn } from '../support/browser.js';
import { stack } from '../support/clients.js';
import { SqlApprovalStore } from '../../bridge/src/approvals/store.js';
import { AuditTrail } from '../../bridge/src/audit/trail.js';
import { writeSection } from '../../bridge/src/bench/report.js';
import { createDb } from '../../bridge/src/store/db.js';

const APPROVALS = Number(process.env.BENCH_APPROVALS ?? 10_000);
// A reference DAG alice may read: the inbox lists only approvals of DAGs Airflow lets the person read.
const BENCH_DAG = '120_01_01_approval_basics';

/**
 * Puts the pending approvals straight into the running bridge's store (its SQLite file, beside it in the stack's
 * home): registrations through the API are checked against Airflow's HITL requests, and ten thousand waiting tasks
 * are not what this measures. They belong to a DAG alice may read, so the inbox lists them.
 */
async function seed(auditKey: string) {
  const started = performance.now();
  const db = createDb({ sqliteFile: resolve(stack().home, 'bridge.sqlite') });
  const store = new SqlApprovalStore(db, new AuditTrail(db, new TextEncoder().encode(auditKey)));
  // One millisecond apart, oldest first, as registrations arriving one after another would be.
  const base = Date.now() - APPROVALS;
  for (let i = 0; i < APPROVALS; i++) {
    await store.register(
      {
        dag_id: BENCH_DAG,
        run_id: `bench_run_${i}`,
        task_id: 'gate',
        map_index: -1,
        try_number: 1,
        subject: `Bench approval ${i}`,
        body: null,
        options: ['Approve', 'Reject'],
        params: {},
        created_at: new Date(base + i).toISOString(),
        requester: 'bench',
        tags: [],
        values: {},
        policy: null,
        policy_version: 'bench',
        due_at: null,
      },
      'bench',
    );
  }
  await db.destroy();
  return (performance.now() - started) / 1000;
}

it(`inbox with ${APPROVALS} pending approvals in Chromium`, async () => {
  const secrets = JSON.parse(readFileSync(resolve(stack().home, 'secrets.json'), 'utf8')) as { audit_key: string };
  const seedSeconds = await seed(secrets.audit_key);

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await signIn(page, 'alice');
  const opened = performance.now();
  await page.goto(`${stack().airflowUrl}/plugin/approvals`);
  await page.getByText('Bench approval 0', { exact: true }).first().waitFor({ timeout: 120_000 });
  const firstRenderMs = performance.now() - opened;

  // Scroll the virtualized list to its end, page after page, as a person holding the scroll bar would.
  const scroller = page.getByTestId('approvals-scroll');
  const scrollStarted = performance.now();
  const target = `Bench approval ${Math.min(APPROVALS, 2000) - 1}`;
  while (!(await page.getByText(target, { exact: true }).count())) {
    await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await page.waitForTimeout(50);
  }
  const scrollMs = performance.now() - scrollStarted;
  const frames = await scroller.evaluate(
    (el) =>
      new Promise<number[]>((done) => {
        const gaps: number[] = [];
        let last = performance.now();
        let n = 0;
        const step = (t: number) => {
          gaps.push(t - last);
          last = t;
          el.scrollTop = (n * 997) % el.scrollHeight;
          if (++n < 120) requestAnimationFrame(step);
          else done(gaps.slice(1));
        };
        requestAnimationFrame(step);
      }),
  );
  const sorted = [...frames].sort((a, b) => a - b);
  const domRows = await page.locator('[data-testid="approvals-scroll"] tr').count();
  const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
  await browser.close();

  const lines = [
    `seeded ${APPROVALS} approvals into the bridge's store in ${seedSeconds.toFixed(1)} s`,
    `first render of the Approvals page (sign-in done): ${firstRenderMs.toFixed(0)} ms`,
    `scrolling until row 2000 is rendered (pages of 200 fetched on the way): ${scrollMs.toFixed(0)} ms`,
    `frame time while jumping through the list: p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, p95 ${sorted[Math.floor(sorted.length * 0.95)]!.toFixed(1)} ms`,
    `table rows in the DOM: ${domRows}; JS heap ${(heap / 2 ** 20).toFixed(0)} MiB`,
  ];
  for (const line of lines) console.log(`bench inbox: ${line}`);
  writeSection('inbox', `Inbox with ${APPROVALS.toLocaleString('en-US')} pending approvals in Chromium`, 'npm run bench -w test', lines.map((l) => `- ${l}`).join('\n'));
  // Not a timing assertion: the benchmark only makes sure it measured the virtualized list it meant to.
  expect(domRows).toBeLessThan(200);
});
