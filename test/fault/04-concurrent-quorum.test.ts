import { describe, expect, it } from 'vitest';
import { appliedInAirflow, counted } from './support/checks.js';
import { acknowledged, approvalById, deferredVotesSettled, report, triggerGates, vote, voters } from './support/clients.js';

describe('50 concurrent voters on one 3-of-5 approval through both replicas', () => {
  it('gives exactly one outcome with exactly three counted votes', async () => {
    const { runId, approvals } = await triggerGates('quorum', 1);
    const approval = approvals[0]!;
    const people = voters(50);
    const statuses = await Promise.all(people.map(async (user) => ({ user, status: (await vote(user, approval.id, 'Approve', `q:${user}`)).at(-1)! })));
    const accepted = statuses.filter((s) => acknowledged(s.status));
    await deferredVotesSettled();
    const final = await approvalById(approval.id);
    const { applied, duplicated } = await appliedInAirflow(runId, [final]);
    report({ scenario: '4 50 voters on one 3-of-5', sent: people.length, acknowledged: accepted.length, applied, lost: 0, duplicated });

    expect(final.state).toBe('approved');
    const countedUsers = counted(final).map((v) => v.user);
    expect(countedUsers).toHaveLength(3);
    expect(countedUsers.every((u) => ['v01', 'v02', 'v03', 'v04', 'v05'].includes(u))).toBe(true);
    // Every vote counted at once (200) is among them; one kept for Airflow (202) may have come after the decision.
    expect(statuses.filter((s) => s.status === 200).every((s) => countedUsers.includes(s.user))).toBe(true);
    expect(countedUsers.every((u) => accepted.some((s) => s.user === u))).toBe(true);
    // The other two approvers came too late (409); the 45 others were never eligible (403) or came after it (409).
    expect(statuses.filter((s) => !acknowledged(s.status)).every((s) => s.status === 403 || s.status === 409)).toBe(true);
    expect(applied).toBe(1);
    expect(duplicated).toBe(0);
  });
});
