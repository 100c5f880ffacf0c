import { afterAll } from 'vitest';
import { DAG, airflow, airflowToken } from './clients.js';

/**
 * Once a scenario's checks are done its runs are ended (marked failed): left running, they would resume every
 * gate they decided and run `after_gate` for each — hundreds of task runs the next scenario would wait behind.
 */
afterAll(async () => {
  const token = await airflowToken();
  const res = await airflow(`/api/v2/dags/${DAG}/dagRuns?state=queued&state=running&limit=100`, { token });
  for (const run of (res.body?.dag_runs ?? []) as Array<{ dag_run_id: string }>) {
    await airflow(`/api/v2/dags/${DAG}/dagRuns/${encodeURIComponent(run.dag_run_id)}`, { method: 'PATCH', token, body: JSON.stringify({ state: 'failed' }) });
  }
});
