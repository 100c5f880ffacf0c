// Benchmark (not a test): how the decision path behaves with many approvals. Prints figures; asserts nothing.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parsePolicies } from '../policies/index.js';
import { createServices } from '../services.js';
import { type Db, createDb, migrate } from '../store/db.js';
import { postgres } from '../testing/databases.js';
import { silentLog } from '../testing/fake-airflow.js';
import { testConfig } from '../testing/harness.js';
import { quantile } from '../stats/service.js';
import { benchAtScale } from './scale.js';

const APPROVALS = Number(process.env.BENCH_APPROVALS ?? 10_000);
const POLICIES = parsePolicies(`version: 1
groups:
  stewards: [alice, bob, carol, dave, erin]
policies:
  - name: three-of-five
    levels:
      - { name: stewards, approvers: [group:stewards], rule: { n_of: 3 } }
`);

// The DAGs a person may read, as Airflow would list them for alice.
const DAGS: ReadonlySet<string> = new Set(Array.from({ length: 50 }, (_, i) => `dag_${i}`));

const ms = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${quantile(sorted, 0.5)!.toFixed(2)} ms, p95 ${quantile(sorted, 0.95)!.toFixed(2)} ms`;
};

async function run(label: string, open: () => Promise<{ db: Db; drop: () => Promise<void> }>) {
  const { db, drop } = await open();
  const { service, trail } = createServices(db, { current: () => POLICIES }, testConfig({ auditKey: randomBytes(32) }), silentLog);

  let started = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < APPROVALS; i++) {
    const approval = await service.register(
      { dag_id: `dag_${i % 50}`, run_id: `run_${i}`, task_id: 'gate', map_index: -1, try_number: 1, subject: `Approval ${i}`, body: null, options: ['Approve', 'Reject'], params: {}, created_at: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(), requester: 'requester', tags: [], values: {} },
      'bench',
    );
    ids.push(approval.id);
  }
  const registerSeconds = (performance.now() - started) / 1000;

  const pages: number[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    const page = await service.list({ state: 'pending', limit: 100, cursor }, { user: 'alice', role: 'user' }, DAGS);
    pages.push(performance.now() - t);
    cursor = page.next_cursor ?? undefined;
  }

  const votes: number[] = [];
  started = performance.now();
  for (const id of ids.slice(0, 1000)) {
    for (const user of ['alice', 'bob', 'carol']) {
      const t = performance.now();
      await service.vote(id, { user, role: 'user' }, { option: 'Approve' }, { channel: 'bench', idempotencyKey: null });
      votes.push(performance.now() - t);
    }
  }
  const voteSeconds = (performance.now() - started) / 1000;

  const t = performance.now();
  const verified = await trail.verify();
  const verifySeconds = (performance.now() - t) / 1000;

  console.log(`bench ${label}: register ${APPROVALS} approvals: ${(APPROVALS / registerSeconds).toFixed(0)}/s`);
  console.log(`bench ${label}: list page of 100 pending (of ${APPROVALS}): ${ms(pages)}`);
  console.log(`bench ${label}: 3000 votes deciding 1000 3-of-5 approvals: ${(3000 / voteSeconds).toFixed(0)} votes/s, ${ms(votes)}`);
  console.log(`bench ${label}: verify audit chain of ${verified.checked} entries: ${verifySeconds.toFixed(2)} s (ok: ${verified.ok})`);
  console.log(`bench ${label}: rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
  await drop();
}

const sqliteFile = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airgate-bench-'));
  const db = createDb({ sqliteFile: join(dir, 'bench.sqlite') });
  await migrate(db);
  return { db, drop: async () => (await db.destroy(), rmSync(dir, { recursive: true, force: true })) };
};
// A throwaway database on the local PostgreSQL, as the store suites use.
const stores = [
  ['sqlite (file)', sqliteFile],
  ['postgres', () => postgres.create()],
] as const;
for (const [label, open] of stores) await run(label, open);
for (const [label, open] of stores) {
  const { db, drop } = await open();
  await benchAtScale(label, db);
  await drop();
}
