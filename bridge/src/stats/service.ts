import type { Db } from '../store/db.js';
import type { Stats } from './schemas.js';
import { type StatsStore, SqlStatsStore } from './store.js';

/** The value below which `q` of the sorted values fall (nearest rank), or null without values. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const latency = (seconds: number[]) => {
  const sorted = [...seconds].sort((a, b) => a - b);
  return { median_s: quantile(sorted, 0.5), p90_s: quantile(sorted, 0.9) };
};

/**
 * Dashboard figures over a window of days, for the `readable` DAGs: how many wait, how fast people decide, how
 * often SLAs hold (met, breached, warned before the deadline, escalated), how many effects failed.
 */
export async function computeStats(db: Db, days: number, now: Date, readable: ReadonlySet<string>): Promise<Stats> {
  const since = new Date(now.getTime() - days * 86_400_000).toISOString();
  const store: StatsStore = new SqlStatsStore(db);
  const [pending, recent, failed, warned, escalated] = await Promise.all([
    store.countPending(readable),
    store.approvalsSince(since, readable),
    store.countFailedEffects(readable),
    store.countWarnedByDag(since, readable),
    store.countEscalatedByDag(since, readable),
  ]);
  const decided = recent.filter((a) => a.decided_at && ['approved', 'rejected'].includes(a.state));
  const seconds = (a: { created_at: string; decided_at: string | null }) => (Date.parse(a.decided_at!) - Date.parse(a.created_at)) / 1000;
  const byDay = new Map<string, number[]>();
  for (const a of decided) {
    const day = a.decided_at!.slice(0, 10);
    const values = byDay.get(day);
    if (values) values.push(seconds(a));
    else byDay.set(day, [seconds(a)]);
  }
  const sla = new Map<string, { met: number; breached: number; warned: number; escalated: number }>();
  const countsOf = (dagId: string) => {
    const counts = sla.get(dagId) ?? { met: 0, breached: 0, warned: 0, escalated: 0 };
    sla.set(dagId, counts);
    return counts;
  };
  for (const a of recent.filter((r) => r.due_at)) {
    const end = a.decided_at;
    // Expired means the deadline answered because nobody decided in time: a breach, though it ended at due_at.
    const breached = a.state === 'expired' || (end ? end > a.due_at! : now.toISOString() > a.due_at!);
    if (!end && !breached) continue; // still pending and on time: neither met nor breached yet
    countsOf(a.dag_id)[breached ? 'breached' : 'met']++;
  }
  for (const row of warned) countsOf(row.dag_id).warned = row.n;
  for (const row of escalated) countsOf(row.dag_id).escalated = row.n;
  const bypassed = recent
    .filter((a) => a.state === 'bypassed' && a.decided_at)
    .sort((a, b) => b.decided_at!.localeCompare(a.decided_at!));
  return {
    pending,
    latency: {
      ...latency(decided.map(seconds)),
      by_day: [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, values]) => ({ day, decided: values.length, ...latency(values) })),
    },
    sla_by_dag: [...sla.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([dag_id, counts]) => ({ dag_id, ...counts, compliance: counts.met + counts.breached > 0 ? counts.met / (counts.met + counts.breached) : null })),
    failed_effects: failed,
    bypassed: bypassed.length,
    recent_bypasses: bypassed.slice(0, 10).map((a) => ({ id: a.id, dag_id: a.dag_id, run_id: a.run_id, task_id: a.task_id, decided_at: a.decided_at! })),
    window_days: days,
  };
}
