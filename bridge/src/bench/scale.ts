// Benchmark (not a test): the person-facing reads that must stay cheap with 100,000 approvals — the "mine"
// inbox, audit verification and the dashboard's stats. Prints figures; asserts nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AuditTrail } from '../audit/trail.js';
import { parsePolicies } from '../policies/index.js';
import { createServices } from '../services.js';
import { computeStats, quantile } from '../stats/service.js';
import type { Db } from '../store/db.js';
import { silentLog } from '../testing/fake-airflow.js';
import { testConfig } from '../testing/harness.js';

export const SCALE_APPROVALS = Number(process.env.BENCH_SCALE_APPROVALS ?? 100_000);
const DAG_COUNT = 50;

// dave decides one DAG in fifty, so his "mine" inbox walks the whole pending list; bob decides every DAG.
const POLICIES = parsePolicies(`version: 1
groups:
  everyone: [bob, carol]
  rare: [dave]
policies:
  - name: rare
    match: { dag_id: dag_0 }
    levels:
      - { name: rare, approvers: [group:rare], rule: any }
  - name: everyone
    levels:
      - { name: everyone, approvers: [group:everyone], rule: any }
`);

// One key for the seeding and the verifying trail.
const AUDIT_KEY = randomBytes(32);
const seconds = (from: number) => ((performance.now() - from) / 1000).toFixed(2);
const ms = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${quantile(sorted, 0.5)!.toFixed(1)} ms, p95 ${quantile(sorted, 0.95)!.toFixed(1)} ms`;
};

/** Fills `db` with SCALE_APPROVALS approvals (60% pending, the rest approved) and one audit entry each. */
async function seed(db: Db): Promise<void> {
  const trail = new AuditTrail(db, AUDIT_KEY);
  const start = Date.UTC(2026, 10, 1);
  for (let from = 0; from < SCALE_APPROVALS; from += 1000) {
    const rows = Array.from({ length: Math.min(1000, SCALE_APPROVALS - from) }, (_, k) => {
      const i = from + k;
      const created = new Date(start + i * 1000).toISOString();
      const pending = i % 5 < 3;
      return {
        id: randomUUID(),
        dag_id: `dag_${i % DAG_COUNT}`,
        run_id: `run_${i}`,
        task_id: 'gate',
        map_index: -1,
        try_number: 1,
        subject: `Approval ${i}`,
        body: null,
        options: '["Approve","Reject"]',
        params: '{}',
        state: pending ? 'pending' : 'approved',
        policy: null,
        level: 1,
        created_at: created,
        due_at: new Date(start + i * 1000 + 3_600_000).toISOString(),
        decided_at: pending ? null : new Date(start + i * 1000 + 60_000).toISOString(),
        outcome: pending ? null : '{"option":"Approve","params_input":{}}',
        requester: 'requester',
        tags: '[]',
        request_values: '{}',
        policy_version: POLICIES.version,
      };
    });
    await db.transaction().execute(async (tx) => {
      for (let at = 0; at < rows.length; at += 100) await tx.insertInto('approval').values(rows.slice(at, at + 100)).execute();
      for (const row of rows) await trail.append(tx, { actor: 'system', action: 'approval.registered', approval_id: row.id, at: row.created_at, details: {} });
    });
  }
}

export async function benchAtScale(label: string, db: Db): Promise<void> {
  let t = performance.now();
  await seed(db);
  console.log(`bench ${label}: seeded ${SCALE_APPROVALS} approvals and audit entries in ${seconds(t)} s`);

  const { service, trail } = createServices(db, { current: () => POLICIES }, testConfig({ auditKey: AUDIT_KEY }), silentLog);
  const readable = new Set(Array.from({ length: DAG_COUNT }, (_, i) => `dag_${i}`));
  for (const user of ['bob', 'dave']) {
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < 5; i++) {
      t = performance.now();
      found = (await service.list({ state: 'pending', mine: true, limit: 100 }, { user, role: 'user' }, readable)).items.length;
      times.push(performance.now() - t);
    }
    console.log(`bench ${label}: mine=true first page for ${user} (${found} found of ${SCALE_APPROVALS}): ${ms(times)}`);
  }

  t = performance.now();
  const verified = await trail.verify();
  console.log(`bench ${label}: /audit/verify over ${verified.checked} entries: ${seconds(t)} s (ok: ${verified.ok})`);

  const stats: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    await computeStats(db, 3650, new Date(Date.UTC(2026, 11, 31)), readable);
    stats.push(performance.now() - t);
  }
  console.log(`bench ${label}: /stats over ${SCALE_APPROVALS} approvals (all in the window): ${ms(stats)}`);
}
