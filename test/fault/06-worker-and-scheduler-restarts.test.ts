import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appliedInAirflow } from './support/checks.js';
import { DAG, airflow, airflowToken, approvalById, fault, report, sleep, triggerGates, vote, waitFor } from './support/clients.js';

const pids = () => JSON.parse(readFileSync(resolve(fault().home, 'pids.json'), 'utf8')) as Record<string, number>;
/** SIGKILLs a component's whole process group (a Celery worker and the task processes it forked). */
const kill = (name: string) => process.kill(-pids()[name]!, 'SIGKILL');

describe('Celery workers killed and the scheduler and triggerer restarted while an approval waits', () => {
  it('keeps the approval, and the decision still resumes the task', async () => {
    const { runId, approvals } = await triggerGates('worker', 1);
    const approval = approvals[0]!;
    // The task asked for approval; now every worker dies, and the scheduler and triggerer with them.
    const before = pids();
    for (const name of ['worker-1', 'worker-2', 'scheduler', 'triggerer']) kill(name);
    // The dev stack brings each back as a service manager would (new pids).
    await waitFor('the killed components to be restarted', async () => {
      const now = pids();
      return ['worker-1', 'worker-2', 'scheduler', 'triggerer'].every((n) => now[n] !== before[n]) ? true : undefined;
    });
    await sleep(5000);
    expect((await approvalById(approval.id)).state).toBe('pending');
    expect((await vote('v01', approval.id, 'Approve', `w:${approval.id}`)).at(-1)).toBe(200);

    const token = await airflowToken();
    const state = await waitFor(
      `run ${runId} to end`,
      async () => {
        const res = await airflow(`/api/v2/dags/${DAG}/dagRuns/${encodeURIComponent(runId)}`, { token });
        return ['success', 'failed'].includes(res.body?.state) ? (res.body.state as string) : undefined;
      },
      400_000,
    );
    const final = await approvalById(approval.id);
    const { applied, duplicated } = await appliedInAirflow(runId, [final]);
    report({ scenario: '6 workers killed, scheduler and triggerer restarted', sent: 1, acknowledged: 1, applied, lost: 1 - applied, duplicated });

    expect(final.state).toBe('approved');
    expect(state).toBe('success');
    const after = await airflow(`/api/v2/dags/${DAG}/dagRuns/${encodeURIComponent(runId)}/taskInstances?task_id=after_gate`, { token });
    expect((after.body.task_instances as Array<{ task_id: string; state: string }>).filter((t) => t.task_id === 'after_gate').map((t) => t.state)).toEqual(['success']);
    expect(duplicated).toBe(0);
  });
});
