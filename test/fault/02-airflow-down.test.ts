import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appliedInAirflow, counted } from './support/checks.js';
import { type Reply, approvalsOf, fault, lb, report, sleep, triggerGates, vote, waitFor } from './support/clients.js';

const APPROVALS = 200;
const OUTAGE_MS = 60_000;

/**
 * The dev stack brings back a component that exits within a second, so "down" here is the api-server's whole
 * process group stopped (SIGSTOP) for a minute: every call to it hangs until the bridge's client gives up, as
 * with a crashed or partitioned api-server, and SIGCONT brings the same one back.
 */
describe("Airflow's api-server down for a minute while 200 decisions arrive", () => {
  it('keeps every vote (202), reports degraded, and applies all 200 decisions exactly once after it returns', async () => {
    const { runId, approvals } = await triggerGates('decisions', APPROVALS);
    const pids = JSON.parse(readFileSync(resolve(fault().home, 'pids.json'), 'utf8')) as Record<string, number>;
    const apiServer = pids['api-server']!;
    process.kill(-apiServer, 'SIGSTOP');
    let statuses: number[];
    let readiness: Reply[];
    try {
      const started = Date.now();
      statuses = [];
      for (let i = 0; i < approvals.length; i += 20) {
        const batch = approvals.slice(i, i + 20);
        statuses.push(...(await Promise.all(batch.map(async (a) => (await vote('v01', a.id, 'Approve', `d:${a.id}`, 1))[0]!))));
      }
      readiness = [await lb('/readyz')];
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - started)));
      readiness.push(await lb('/readyz'));
    } finally {
      process.kill(-apiServer, 'SIGCONT');
    }
    const acknowledged = statuses.filter((s) => s === 200 || s === 202).length;
    // Once Airflow answers, the kept votes go through the ordinary vote path: each decides its approval.
    const all = await waitFor(
      `the ${APPROVALS} kept votes to be counted`,
      async () => {
        const now = await approvalsOf(runId);
        return now.every((a) => a.state === 'approved') ? now : undefined;
      },
      300_000,
    );
    const lost = all.filter((a) => counted(a).length !== 1).length;
    const { applied, duplicated } = await appliedInAirflow(runId, all);
    // Ready again, with no vote left waiting for Airflow.
    await waitFor('the bridge to be ready with no deferred votes', async () => {
      const res = await lb('/readyz');
      return res.body?.status === 'ready' && res.body.details?.deferred_votes === 0 ? true : undefined;
    });
    report({ scenario: '2 api-server down 60 s, 200 decisions', sent: APPROVALS, acknowledged, applied, lost, duplicated });

    // Each vote was sent once, with no retry: none refused while Airflow was away, each kept until it answered.
    expect(statuses).toEqual(approvals.map(() => 202));
    expect(readiness.map((r) => [r.body?.status, r.body?.details?.deferred_votes])).toEqual([
      ['degraded', APPROVALS],
      ['degraded', APPROVALS],
    ]);
    expect(lost).toBe(0);
    expect(applied).toBe(APPROVALS);
    expect(duplicated).toBe(0);
    // Parking 200 mapped tasks is most of it (see triggerGates).
  }, 3_600_000);
});
