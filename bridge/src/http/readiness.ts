/**
 * What `/readyz` reports. `degraded` (Airflow unreachable, store fine) still takes votes — their effects wait
 * in the store until Airflow is back — so a load balancer keeps such a replica in rotation; `unavailable`
 * (store unreachable) takes nothing. `ok` (and the 200) means everything is reachable, as before.
 */
export type ReadinessStatus = 'ready' | 'degraded' | 'unavailable';

export interface Readiness {
  ok: boolean;
  status: ReadinessStatus;
  details: Record<string, unknown>;
}

export function assessReadiness(checks: { store: boolean; airflow: boolean }, details: Record<string, unknown>): Readiness {
  const status: ReadinessStatus = !checks.store ? 'unavailable' : checks.airflow ? 'ready' : 'degraded';
  return { ok: status === 'ready', status, details: { ...checks, ...details } };
}

/**
 * Whether a dependency answered within `ms`. A health check (a load balancer's) gives up after a few seconds;
 * waiting longer than that for a slow Airflow would take a replica whose store is fine out of rotation.
 */
export function answersWithin(check: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const answer = check().then(
    (value) => value !== false,
    () => false,
  );
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}
