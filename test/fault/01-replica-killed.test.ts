import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appliedInAirflow, counted } from './support/checks.js';
import { acknowledged, approvalsOf, deferredVotesSettled, fault, report, triggerGates, vote, voters } from './support/clients.js';

// 1,000 votes: 25 approvals that each need all 40 voters (few tasks to park, as many votes as 100 × 10).
const APPROVALS = 25;
const VOTERS = voters(40);
const CONCURRENCY = 20;

describe('a bridge replica SIGKILLed while 1,000 votes arrive through the load balancer', () => {
  it('stores and counts every acknowledged vote once, and applies every decision to Airflow once', async () => {
    const { runId, approvals } = await triggerGates('votes', APPROVALS);
    // Approval by approval, so decisions (the tenth vote of each) happen all through the run, kill included.
    const jobs = approvals.flatMap((a) => VOTERS.map((user) => ({ approval: a.id, user })));
    const pids = JSON.parse(readFileSync(resolve(fault().home, 'pids.json'), 'utf8')) as Record<string, number>;
    const finals = new Map<string, number>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        if (!killed && next >= jobs.length * 0.3) {
          killed = true;
          process.kill(pids['bridge-1']!, 'SIGKILL');
        }
        const statuses = await vote(job.user, job.approval, 'Approve', `${job.approval}:${job.user}`);
        finals.set(`${job.approval}:${job.user}`, statuses.at(-1)!);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(killed).toBe(true);

    const acked = [...finals].filter(([, status]) => acknowledged(status)).map(([key]) => key);
    await deferredVotesSettled();
    const decided = await approvalsOf(runId, 'approved');
    const stored = new Map<string, number>();
    for (const approval of await approvalsOf(runId)) {
      for (const v of counted(approval)) stored.set(`${approval.id}:${v.user}`, (stored.get(`${approval.id}:${v.user}`) ?? 0) + 1);
    }
    const lost = acked.filter((key) => !stored.has(key)).length;
    const countedTwice = [...stored.values()].filter((n) => n > 1).length;
    const { applied, duplicated } = await appliedInAirflow(runId, decided);
    report({ scenario: '1 replica SIGKILLed during 1,000 votes', sent: jobs.length, acknowledged: acked.length, applied, lost, duplicated: duplicated + countedTwice });

    // Every vote was retried with its Idempotency-Key until it got a final answer: all are acknowledged.
    expect(acked.length).toBe(jobs.length);
    expect(lost).toBe(0);
    expect(countedTwice).toBe(0);
    expect(decided.length).toBe(APPROVALS);
    expect(duplicated).toBe(0);
  });
});
