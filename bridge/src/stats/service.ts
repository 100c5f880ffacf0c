import type { Db } from '../store/db.js';
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

/** Dashboard figures over a window of days: how many wait, how fast people decide, how often SLAs hold. */
export async function computeStats(db: Db, days: number, now: Date): Promise<Stats> {
  const since = new Date(now.getTime() - days * 86_400_000).toISOString();
  const [pending, recent, failed] = await Promise.all([
    db.selectFrom('approval').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'pending').executeTakeFirst(),
    db
      .selectFrom('approval')
      .select(['dag_id', 'state', 'created_at', 'decided_at', 'due_at'])
      .where('created_at', '>=', since)
      .execute(),
    db.selectFrom('effect').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'failed').executeTakeFirst(),
  ]);
  const decided = recent.filter((a) => a.decided_at && ['approved', 'rejected'].includes(a.state));
  const seconds = (a: { created_at: string; decided_at: string | null }) => (Date.parse(a.decided_at!) - Date.parse(a.created_at)) / 1000;
  const byDay = new Map<string, number[]>();
  for (const a of decided) {
    const day = a.decided_at!.slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), seconds(a)]);
  }
  const sla = new Map<string, { met: number; breached: number }>();
  for (const a of recent.filter((r) => r.due_at)) {
    const end = a.decided_at;
    const breached = end ? end > a.due_at! : now.toISOString() > a.due_at!;
    if (!end && !breached) continue; // still pending and on time: neither met nor breached yet
    const counts = sla.get(a.dag_id) ?? { met: 0, breached: 0 };
    counts[breached ? 'breached' : 'met']++;
    sla.set(a.dag_id, counts);
  }
  return {
    pending: Number(pending?.n ?? 0),
    latency: {
      ...latency(decided.map(seconds)),
      by_day: [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, values]) => ({ day, decided: values.length, ...latency(values) })),
    },
    sla_by_dag: [...sla.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([dag_id, counts]) => ({ dag_id, ...counts })),
    failed_effects: Number(failed?.n ?? 0),
    window_days: days,
  };
}
