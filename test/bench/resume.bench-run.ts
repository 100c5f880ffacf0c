import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { it } from 'vitest';
import { airflow, bridge, stack, tokenFor } from '../support/clients.js';
import { sleep, triggerRun } from '../support/scenarios.js';
import { percentiles as pct, quantileOf, writeSection } from '../../bridge/src/bench/report.js';

const DAG = '120_01_01_approval_basics';
const SAMPLES = Number(process.env.BENCH_RESUME_SAMPLES ?? 20);
const IMMEDIATE = Number(process.env.BENCH_RESUME_IMMEDIATE ?? 4);
// The issue's case: a person decides once the request has waited this long.
const WAITED_MS = 10_000;
const BATCH = 10;
const seg = encodeURIComponent;

type Path = 'bridge' | 'native';
interface Sample {
  path: Path;
  runId: string;
  /** Client time of the decision's HTTP response (the vote, or Airflow's PATCH). */
  answeredAt: number;
  requestMs: number;
}

const tiPath = (runId: string, task: string) => `/api/v2/dags/${DAG}/dagRuns/${seg(runId)}/taskInstances/${task}`;

it(`decision → downstream start: bridge vs Airflow's own PATCH, ${SAMPLES} samples each`, { timeout: 1_200_000 }, async () => {
  const [alice, admin, service] = await Promise.all([tokenFor('alice'), tokenFor('admin'), tokenFor('airgate')]);
  const state = async (runId: string, task: string) => ((await airflow(tiPath(runId, task), { token: admin })).body ?? {}) as { state?: string; start_date?: string | null };
  // Airflow may refuse a request while it is busy (a locked SQLite file, a restart): every read below is tried again.
  const parks = new Map<string, number>();
  const waiting = new Set<string>();
  let watching: Promise<void> | null = null;
  /** One poller for every run waiting to park: the event log's awaiting_input entries, by run. */
  const untilParked = async (runId: string) => {
    waiting.add(runId);
    watching ??= (async () => {
      while (waiting.size > 0) {
        const log = await airflow(`/api/v2/eventLogs?dag_id=${DAG}&task_id=approve_load&event=awaiting_input&order_by=-when&limit=200`, { token: admin });
        for (const e of (log.body?.event_logs ?? []) as Array<{ when: string; run_id: string }>) {
          if (!parks.has(e.run_id)) parks.set(e.run_id, Date.parse(e.when));
          waiting.delete(e.run_id);
        }
        await sleep(200);
      }
      watching = null;
    })();
    while (!parks.has(runId)) await sleep(50);
    return parks.get(runId)!;
  };
  const approvalIds = new Map<string, string>();
  const approvalOf = async (runId: string) => {
    while (!approvalIds.has(runId)) {
      const res = await bridge(`/api/v1/approvals?state=pending&dag_id=${DAG}&limit=200`, { token: alice });
      for (const a of res.body.items as Array<{ id: string; run_id: string }>) approvalIds.set(a.run_id, a.id);
      if (!approvalIds.has(runId)) await sleep(100);
    }
    return approvalIds.get(runId)!;
  };
  const decide = async (path: Path, runId: string): Promise<Sample> => {
    const id = path === 'bridge' ? await approvalOf(runId) : '';
    const sent = Date.now();
    const res =
      path === 'bridge'
        ? await bridge(`/api/v1/approvals/${id}/votes`, { method: 'POST', token: alice, body: JSON.stringify({ option: 'Approve', reason: 'bench' }) })
        : await airflow(`${tiPath(runId, 'approve_load')}/-1/hitlDetails`, { method: 'PATCH', token: service, body: JSON.stringify({ chosen_options: ['Approve'], params_input: {} }) });
    // Airflow's lock (500, nothing changed) is tried again; anything else ends the benchmark.
    if (res.status === 500 && path === 'native') return decide(path, runId);
    if (res.status !== 200) throw new Error(`${path} decision failed: ${res.status} ${JSON.stringify(res.body)}`);
    const answeredAt = Date.now();
    return { path, runId, answeredAt, requestMs: answeredAt - sent };
  };
  /** When the downstream task started, or null when the gate failed (the race) and it never will. */
  const downstreamStart = async (runId: string) => {
    for (;;) {
      const [gate, load] = await Promise.all([state(runId, 'approve_load'), state(runId, 'load_to_production')]);
      if (load.start_date) return Date.parse(load.start_date);
      if (gate.state === 'failed') return null;
      await sleep(300);
    }
  };
  const respondedAt = async (runId: string): Promise<number> => {
    for (;;) {
      const res = await airflow(`${tiPath(runId, 'approve_load')}/-1/hitlDetails`, { token: admin });
      if (res.status === 200) return Date.parse(res.body.responded_at as string);
      await sleep(200);
    }
  };

  // In batches that fit Airflow's default max_active_runs / max_active_tasks (16; a parked task counts): each batch
  // parks, waits, then is decided one run at a time, so each decision meets an otherwise idle scheduler.
  const samples: Array<Sample & { total: number; resume: number }> = [];
  for (let batch = 0; batch < 2 * SAMPLES; batch += BATCH) {
    const runs: string[] = [];
    for (let i = batch; i < Math.min(2 * SAMPLES, batch + BATCH); i++) runs.push(await triggerRun(DAG, alice));
    const parkTimes = await Promise.all(runs.map(untilParked));
    await Promise.all(runs.map(approvalOf));
    await sleep(Math.max(0, Math.max(...parkTimes) + WAITED_MS - Date.now()));
    for (const [i, runId] of runs.entries()) {
      const sample = await decide(i % 2 === 0 ? 'bridge' : 'native', runId);
      const start = await downstreamStart(runId);
      if (start === null) throw new Error(`${sample.path}: ${runId} failed after a decision taken ${WAITED_MS / 1000} s after parking`);
      samples.push({ ...sample, total: start - sample.answeredAt, resume: start - (await respondedAt(runId)) });
    }
  }

  // The bridge's own account of each answer (bridge/src/effects/worker.ts logs it).
  const applied = new Map<string, { picked_up_ms: number; readiness_ms: number; apply_ms: number }>();
  for (const line of readFileSync(resolve(stack().home, 'logs', 'bridge.log'), 'utf8').split('\n')) {
    if (!line.includes('"effect applied"') || !line.includes('"answer_hitl"')) continue;
    const entry = JSON.parse(line) as { approval: string; picked_up_ms: number; readiness_ms: number; apply_ms: number };
    applied.set(entry.approval, entry);
  }
  const of = (path: Path) => samples.filter((s) => s.path === path);
  const phases = of('bridge').map((s) => applied.get(approvalIds.get(s.runId)!)!);
  const ratio = quantileOf(of('bridge').map((s) => s.total), 0.5) / quantileOf(of('native').map((s) => s.total), 0.5);

  // Decided the moment the task parks: the bridge waits until Airflow can take it; Airflow's own PATCH races.
  const quick: Array<{ path: Path; total: number | null }> = [];
  const quickRuns: Array<{ path: Path; runId: string }> = [];
  for (let i = 0; i < 2 * IMMEDIATE; i++) quickRuns.push({ path: i % 2 === 0 ? 'bridge' : 'native', runId: await triggerRun(DAG, alice) });
  await Promise.all(
    quickRuns.map(async ({ path, runId }) => {
      if (path === 'bridge') await approvalOf(runId);
      await untilParked(runId);
      const sample = await decide(path, runId);
      const start = await downstreamStart(runId);
      quick.push({ path, total: start === null ? null : start - sample.answeredAt });
    }),
  );
  const quickOf = (path: Path) => quick.filter((q) => q.path === path);
  const quickLine = (path: Path) => {
    const ok = quickOf(path).flatMap((q) => (q.total === null ? [] : [q.total]));
    return `${ok.length} of ${quickOf(path).length} resumed${ok.length ? `, decision → downstream start ${pct(ok)}` : ''}`;
  };

  const metadata = process.env.AIRGATE_TEST_AIRFLOW_DB === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const body = `Run \`${DAG}\` on the bench stack (LocalExecutor, ${metadata} metadata DB), ${SAMPLES} decisions per path, alternating,
each taken ${WAITED_MS / 1000} s after the task parked; time from the decision's HTTP response to \`load_to_production\`'s \`start_date\`.

| path | decision → downstream start | request | scheduler resume (Airflow's \`responded_at\` → start) |
|---|---|---|---|
| bridge (vote) | ${pct(of('bridge').map((s) => s.total))} | ${pct(of('bridge').map((s) => s.requestMs))} | ${pct(of('bridge').map((s) => s.resume))} |
| Airflow \`PATCH .../hitlDetails\` | ${pct(of('native').map((s) => s.total))} | ${pct(of('native').map((s) => s.requestMs))} | ${pct(of('native').map((s) => s.resume))} |

**Ratio bridge / native (p50): ${ratio.toFixed(2)}×.**

Bridge breakdown (p50 / p90): vote handling (HTTP) ${pct(of('bridge').map((s) => s.requestMs))}; effects wake-up (commit → picked up) ${pct(phases.map((p) => p.picked_up_ms))}; readiness check (HITL detail + event log, in parallel) ${pct(phases.map((p) => p.readiness_ms))}; Airflow PATCH ${pct(phases.map((p) => p.apply_ms))}; scheduler resume ${pct(of('bridge').map((s) => s.resume))}. The answer can reach Airflow before the vote's response reaches the voter, so the parts need not add up to the total.

Decided the moment the task parked (${IMMEDIATE} runs per path, side by side): bridge ${quickLine('bridge')} (it answers \`HITL_SETTLE_MS\` after the park, docs/airflow-hitl-readiness.md); Airflow's own PATCH ${quickLine('native')} — the others were failed by the scheduler (the race).`;
  console.log(body);
  writeSection('resume', 'Decision → downstream task start', 'npm run bench', body);
});
