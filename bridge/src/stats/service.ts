import type { ExpressionBuilder } from 'kysely';
import { type Database, type Db, dagIdList } from '../store/db.js';
import type { Stats } from './schemas.js';

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
  const dags = dagIdList(readable);
  const inWindow = (eb: ExpressionBuilder<Database, 'approval'>) => eb.and([eb('approval.created_at', '>=', since), eb('approval.dag_id', 'in', dags)]);
  const [pending, recent, failed, warned, escalated] = await Promise.all([
    db
      .selectFrom('approval')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'pending')
      .where('dag_id', 'in', dags)
      .executeTakeFirst(),
    db
      .selectFrom('approval')
      .select(['id', 'dag_id', 'run_id', 'task_id', 'state', 'created_at', 'decided_at', 'due_at'])
      .where('created_at', '>=', since)
      .where('dag_id', 'in', dags)
      .execute(),
    db
      .selectFrom('effect')
      .innerJoin('approval', 'approval.id', 'effect.approval_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('effect.state', '=', 'failed')
      .where('approval.dag_id', 'in', dags)
      .executeTakeFirst(),
    db
      .selectFrom('timer')
      .innerJoin('approval', 'approval.id', 'timer.approval_id')
      .select(['approval.dag_id', (eb) => eb.fn.count<number>('timer.approval_id').distinct().as('n')])
      .where('timer.kind', '=', 'sla_warning')
      .where('timer.state', '=', 'fired')
      .where(inWindow)
      .groupBy('approval.dag_id')
      .execute(),
    db
      .selectFrom('approval_escalation')
      .innerJoin('approval', 'approval.id', 'approval_escalation.approval_id')
      .select(['approval.dag_id', (eb) => eb.fn.count<number>('approval_escalation.approval_id').distinct().as('n')])
      .where(inWindow)
      .groupBy('approval.dag_id')
      .execute(),
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
  for (const row of warned) countsOf(row.dag_id).warned = Number(row.n);
  for (const row of escalated) countsOf(row.dag_id).escalated = Number(row.n);
  const bypassed = recent
    .filter((a) => a.state === 'bypassed' && a.decided_at)
    .sort((a, b) => b.decided_at!.localeCompare(a.decided_at!));
  return {
    pending: Number(pending?.n ?? 0),
    latency: {
      ...latency(decided.map(seconds)),
      by_day: [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, values]) => ({ day, decided: values.length, ...latency(values) })),
    },
    sla_by_dag: [...sla.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([dag_id, counts]) => ({ dag_id, ...counts, compliance: counts.met + counts.breached > 0 ? counts.met / (counts.met + counts.breached) : null })),
    failed_effects: Number(failed?.n ?? 0),
    bypassed: bypassed.length,
    recent_bypasses: bypassed.slice(0, 10).map((a) => ({ id: a.id, dag_id: a.dag_id, run_id: a.run_id, task_id: a.task_id, decided_at: a.decided_at! })),
    window_days: days,
  };
}
