import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricSources {
  pendingApprovals: () => Promise<number>;
  /** Approvals closed as bypassed, ever: each is a task someone marked in Airflow instead of deciding. */
  bypassedApprovals: () => Promise<number>;
  effects: () => Promise<{ pending: number; failed: number }>;
}

/** Prometheus metrics: gauges read their sources at scrape time, counters count as things happen. */
export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'airgate_bridge_' });
  const votes = new Counter({
    name: 'airgate_votes_total',
    help: 'Votes recorded, by channel and whether they were refused',
    labelNames: ['channel', 'result'] as const,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'airgate_decisions_total',
    help: 'Approvals that reached a final state',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'airgate_approvals_pending',
    help: 'Approvals waiting for a decision',
    registers: [registry],
    async collect() {
      this.set(await sources.pendingApprovals());
    },
  });
  new Gauge({
    name: 'airgate_approvals_bypassed',
    help: 'Approvals whose task was marked or answered in Airflow instead of decided through airgate',
    registers: [registry],
    async collect() {
      this.set(await sources.bypassedApprovals());
    },
  });
  new Gauge({
    name: 'airgate_effects',
    help: 'Effects on Airflow not yet applied (pending) or given up on (failed)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const depth = await sources.effects();
      this.set({ state: 'pending' }, depth.pending);
      this.set({ state: 'failed' }, depth.failed);
    },
  });
  const purged = new Counter({
    name: 'airgate_retention_purged_total',
    help: 'Decided approvals whose working state the retention setting removed (their audit entries stay)',
    registers: [registry],
  });
  return { registry, votes, decisions, purged };
}
export type Metrics = ReturnType<typeof createMetrics>;
